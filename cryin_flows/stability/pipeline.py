"""The stability stages end to end: phase energies of a chemistry, the stability of named
phases and pairs, and the screening funnel over candidates. What the makers call."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from pydantic import BaseModel, Field
from pymatgen.core import Structure
from pymatgen.entries.computed_entries import ComputedStructureEntry

from cryin_flows.errors import ConfigurationError, CryinError
from cryin_flows.stability.analysis import (
    Mixing,
    Window,
    e_above_hull,
    electrochemical_window,
    mixing,
    phase_diagram,
)
from cryin_flows.stability.candidates import read_structures
from cryin_flows.stability.energies import ENERGY_SCHEMES, to_entries
from cryin_flows.stability.funnel import (
    CandidateResult,
    ScreenCriteria,
    assess,
    electrolyte_window,
    prefilter,
    stage_counts,
)
from cryin_flows.stability.library import Phase, PhaseLibrary
from cryin_flows.stability.relaxation import PhaseRelaxSettings, RelaxedEnergy, relax_logged

Echo = Callable[[str], None]
_print = partial(print, flush=True)


class PhaseEnergy(RelaxedEnergy):
    """A relaxed library phase with its source and place on the hull."""

    source: str = Field(description="Where the structure comes from")
    e_hull: float = Field(description="Energy above the hull of the library's phases, eV/atom")
    decomposition: list[str] = Field(description="Hull products (itself when on the hull)")


class PhaseEnergies(BaseModel):
    """Every phase of a chemistry relaxed by one calculator: the hull's input."""

    chemistry: str = Field(description="Named chemistry or element list")
    elements: list[str] = Field(description="Elements of the chemistry")
    calculator: str = Field(description="Calculator name")
    calculator_kwargs: dict = Field(
        default_factory=dict, description="Its arguments (candidates are relaxed the same way)"
    )
    energy_scheme: str = Field(description="How energies relate to MP2020 (ENERGY_SCHEMES)")
    energy_scheme_note: str = Field(description="What the scheme means, gas references included")
    settings: PhaseRelaxSettings = Field(description="Relaxation settings")
    phases: list[PhaseEnergy] = Field(description="The relaxed phases")

    def entries(self) -> list[ComputedStructureEntry]:
        """pymatgen entries under the document's energy scheme."""
        return to_entries(self.phases, self.energy_scheme)

    def structure(self, name: str) -> Structure:
        for phase in self.phases:
            if phase.name == name:
                return Structure.from_dict(phase.structure)
        raise ConfigurationError(f"phase {name!r} is not among the computed phases")


def compute_phase_energies(
    library: PhaseLibrary,
    chemistry: str | list[str],
    calculator: str,
    scheme: str,
    settings: PhaseRelaxSettings,
    workdir: Path,
    calculator_kwargs: dict | None = None,
    workers: int = 1,
    echo: Echo = _print,
) -> PhaseEnergies:
    """Relax every library phase of ``chemistry`` with the calculator named ``calculator``
    (``get_calculator``, with ``calculator_kwargs``); progress is kept in
    ``workdir/phases_relaxed.jsonl`` so a rerun resumes. A phase that fails leaves the others
    saved and raises one line naming it."""
    phases = library.select(chemistry)
    label = chemistry if isinstance(chemistry, str) else "-".join(chemistry)
    results, failed = relax_logged(
        [(p.name, p.structure) for p in phases],
        calculator,
        settings,
        Path(workdir) / "phases_relaxed.jsonl",
        f"phases of {label}",
        calculator_kwargs,
        workers,
        echo,
    )
    if failed:
        error = next(iter(failed.values()))
        raise CryinError(
            f"{len(failed)} phase(s) of {label} failed to relax ({error}); the "
            f"{len(results)} relaxed are kept in {Path(workdir) / 'phases_relaxed.jsonl'} and "
            "a rerun resumes from them"
        )
    return assemble_phase_energies(
        label,
        sorted(library.elements_of(chemistry)),
        [(p, results[p.name]) for p in phases],
        calculator,
        scheme,
        settings,
        calculator_kwargs,
    )


def assemble_phase_energies(
    label: str,
    elements: list[str],
    relaxed: list[tuple[Phase, RelaxedEnergy]],
    calculator: str,
    scheme: str,
    settings: PhaseRelaxSettings,
    calculator_kwargs: dict | None = None,
) -> PhaseEnergies:
    """The phase-energies document of relaxed phases (by a calculator or by VASP), each with
    its place on the hull of them all."""
    entries = to_entries([r for _, r in relaxed], scheme)
    pd = phase_diagram(entries)
    out = []
    for (phase, result), entry in zip(relaxed, entries, strict=True):
        e_hull, decomposition = e_above_hull(pd, entry)
        out.append(
            PhaseEnergy(
                **result.model_dump(),
                source=phase.source,
                e_hull=e_hull,
                decomposition=decomposition,
            )
        )
    return PhaseEnergies(
        chemistry=label,
        elements=elements,
        calculator=calculator,
        calculator_kwargs=dict(calculator_kwargs or {}),
        energy_scheme=scheme,
        energy_scheme_note=ENERGY_SCHEMES[scheme],
        settings=settings,
        phases=out,
    )


class StructureStability(BaseModel):
    """E_hull of one user-given structure."""

    name: str = Field(description="Structure name")
    formula: str = Field(description="Reduced formula")
    e_hull: float = Field(description="Energy above the hull, eV/atom (negative: below)")
    decomposition: list[str] = Field(description="Hull products")


def check_chemistry(
    items: list[tuple[str, Structure]], energies: PhaseEnergies, label: str = ""
) -> None:
    """One line naming the first structure with an element outside ``energies``' chemistry,
    or saying that VASP phase energies need VASP candidates, before anything is relaxed."""
    if energies.calculator.startswith("vasp"):
        raise ConfigurationError(
            f"the phases of {energies.chemistry} were computed with {energies.calculator}: "
            "structures compared with them need VASP relaxations too (not built yet); use "
            "phase energies from a calculator (cryin screen phases / PhaseEnergiesMaker)"
        )
    known = set(energies.elements)
    for name, structure in items:
        unknown = sorted({el.symbol for el in structure.composition.elements} - known)
        if unknown:
            raise ConfigurationError(
                f"{label}{name}: element(s) {', '.join(unknown)} are outside the chemistry "
                f"{energies.chemistry} ({'-'.join(energies.elements)}); compute the phases of "
                "a chemistry that holds them"
            )


def structure_stability(
    energies: PhaseEnergies, files: tuple[str, ...], folder: Path
) -> list[StructureStability]:
    """E_hull of every structure in ``files`` after relaxing it like the phases."""
    if not files:
        return []
    items = [item for path in files for item in read_structures(path)]
    check_chemistry(items, energies)
    relaxed, failed = relax_logged(
        items, energies.calculator, energies.settings, folder / "structures_relaxed.jsonl",
        "structures", energies.calculator_kwargs,
    )  # fmt: skip
    if failed:
        raise ConfigurationError(f"relaxation failed: {next(iter(failed.values()))}")
    pd = phase_diagram(energies.entries())
    names = [name for name, _ in items]
    entries = to_entries([relaxed[n] for n in names], energies.energy_scheme)
    out = []
    for name, entry in zip(names, entries, strict=True):
        e_hull, decomposition = e_above_hull(pd, entry)
        out.append(
            StructureStability(
                name=name,
                formula=entry.composition.reduced_formula,
                e_hull=e_hull,
                decomposition=decomposition,
            )
        )
    return out


class StabilityResult(BaseModel):
    """Windows of named phases and mixing energies of named pairs in one chemistry."""

    windows: list[Window] = Field(description="Electrochemical windows vs Li/Li+")
    mixings: list[Mixing] = Field(description="Mixing (interfacial reaction) energies")


def assess_phases(
    energies: PhaseEnergies, phases: list[str], pairs: list[tuple[str, str]]
) -> StabilityResult:
    """Windows of ``phases`` and mixing of ``pairs`` (library names or formulas)."""
    pd = phase_diagram(energies.entries())
    return StabilityResult(
        windows=[electrochemical_window(pd, name) for name in phases],
        mixings=[mixing(pd, a, b) for a, b in pairs],
    )


class ScreenResult(BaseModel):
    """The funnel's outcome."""

    criteria: ScreenCriteria = Field(description="The cuts")
    counts: dict[str, int] = Field(description="Candidates reaching each stage")
    electrolyte_window: Window = Field(description="The electrolyte's window")
    candidates: list[CandidateResult] = Field(description="Every candidate's way through")
    survivors: list[str] = Field(description="Names passing every stage, lowest E_hull first")


def run_screen(
    candidates: list[tuple[str, Structure]],
    energies: PhaseEnergies,
    criteria: ScreenCriteria,
    workdir: Path,
    workers: int = 1,
    echo: Echo = _print,
) -> tuple[ScreenResult, dict[str, Structure]]:
    """The funnel over ``candidates`` against ``energies`` (whose chemistry must hold every
    candidate element, the electrolyte and the cathode). Returns the result and the relaxed
    structures by name. Candidates are relaxed with the calculator and settings of
    ``energies``; relaxations are kept in ``workdir/candidates_relaxed.jsonl``."""
    check_chemistry(candidates, energies, "candidate ")
    reference = phase_diagram(energies.entries())
    se_window = electrolyte_window(reference, criteria)  # names a missing electrolyte now
    if "cathode" in criteria.roles and criteria.cathode not in {p.name for p in energies.phases}:
        raise ConfigurationError(
            f"cathode {criteria.cathode!r} is not among the phases of {energies.chemistry}"
        )
    results, to_relax = prefilter(candidates, criteria)
    echo(f"{len(candidates)} candidates: {len(to_relax)} valid and unique to relax")
    relaxed, failed = relax_logged(
        to_relax, energies.calculator, energies.settings,
        Path(workdir) / "candidates_relaxed.jsonl", "candidates", energies.calculator_kwargs,
        workers,
        echo,
    )  # fmt: skip
    by_name = {r.name: r for r in results}
    names = [name for name, _ in to_relax if name in relaxed]
    entries = to_entries([relaxed[n] for n in names], energies.energy_scheme)
    for name, error in failed.items():
        by_name[name].reason = error
    for name, entry in zip(names, entries, strict=True):
        by_name[name].stage = "relaxed"
        by_name[name].converged, by_name[name].steps = relaxed[name].converged, relaxed[name].steps
        assess(by_name[name], entry, reference, criteria, se_window)
    survivors = sorted(
        (r for r in results if r.stage == "compatible"), key=lambda r: r.e_hull or 0.0
    )
    structures = {n: Structure.from_dict(relaxed[n].structure) for n in names}
    return (
        ScreenResult(
            criteria=criteria,
            counts=stage_counts(results),
            electrolyte_window=se_window,
            candidates=results,
            survivors=[r.name for r in survivors],
        ),
        structures,
    )
