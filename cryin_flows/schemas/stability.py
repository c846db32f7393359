"""Output documents of the stability stages: phase energies, stability of phases and pairs,
candidate sets and the screening funnel."""

from __future__ import annotations

from pydantic import Field, computed_field, field_validator
from pymatgen.core import Structure

from cryin_flows.schemas.common import FileRef, OutputDoc
from cryin_flows.stability.pipeline import (
    PhaseEnergies,
    ScreenResult,
    StabilityResult,
    StructureStability,
)


def _named_structures(items: list[dict]) -> list[dict]:
    """(name, structure) records with plain structure dicts: jobflow hands stored dicts back as
    the pymatgen objects they describe."""
    return [
        {**item, "structure": item["structure"].as_dict()}
        if isinstance(item.get("structure"), Structure)
        else item
        for item in items
    ]


class PhaseEnergiesDoc(OutputDoc, PhaseEnergies):
    """Every library phase of a chemistry relaxed by one calculator (the hull's input)."""

    task_label: str = "phase energies"
    n_converged: int = Field(description="Phases whose relaxation converged")


class StabilityDoc(OutputDoc, StabilityResult):
    """Hull, windows and mixing energies of named phases and pairs in one chemistry."""

    task_label: str = "stability"
    chemistry: str = Field(description="Chemistry of the phase energies used")
    calculator: str = Field(description="Calculator of the phase energies")
    energy_scheme: str = Field(description="How the energies relate to MP2020")
    e_hull: dict[str, float] = Field(description="E_hull of every library phase, eV/atom")
    structures: list[StructureStability] = Field(
        default_factory=list, description="E_hull of structures the user gave"
    )
    figures: dict[str, FileRef] = Field(default_factory=dict, description="PNG figures by kind")

    @computed_field
    @property
    def summary(self) -> str:
        """One line: each window and mixing energy."""
        parts = [
            f"{w.formula} {w.e_red or 0:.2f}-{'inf' if w.e_ox is None else f'{w.e_ox:.2f}'} V"
            for w in self.windows
        ]
        parts += [f"{'|'.join(m.reactants)} {m.energy:.3f} eV/atom" for m in self.mixings]
        return "; ".join(parts)


class CandidatesDoc(OutputDoc):
    """A candidate set for the funnel (structures in the data store)."""

    task_label: str = "candidates"
    source: str = Field(description="pyxtal, files or wyformer, with the parameters")
    n_candidates: int = Field(description="How many")
    formulas: dict[str, int] = Field(description="Count per reduced formula")
    seed: int | None = Field(None, description="Generator seed (pyxtal)")
    structures: list[dict] = Field(description="(name, pymatgen dict) pairs, data store")

    @field_validator("structures", mode="before")
    @classmethod
    def _plain(cls, value):
        return _named_structures(value)


class ScreenDoc(OutputDoc, ScreenResult):
    """The screening funnel's outcome over one candidate set."""

    task_label: str = "screen"
    chemistry: str = Field(description="Chemistry of the phase energies used")
    calculator: str = Field(description="Calculator that relaxed phases and candidates")
    left_out: list[str] = Field(
        default_factory=lambda: [
            "band gap (needs WyFormer's trained predictor, not available offline)",
            "novelty vs LeMat-Bulk/ICSD (databases not available offline)",
        ],
        description="Stages of seed 003 this funnel does not run, and why",
    )
    figure: FileRef | None = Field(None, description="The funnel figure (PNG)")
    survivor_structures: list[dict] = Field(
        default_factory=list, description="Relaxed survivors (pymatgen dicts), data store"
    )

    @field_validator("survivor_structures", mode="before")
    @classmethod
    def _plain(cls, value):
        return _named_structures(value)
