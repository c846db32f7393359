"""The screening funnel of seed 003 (Table 1) over candidate structures.

Stages, each a setting of ``ScreenCriteria`` with the paper's cut as its default:

1. validity: smallest interatomic distance d_min > 0.7 Å;
2. uniqueness: pymatgen's ``StructureMatcher`` (defaults), the first of each group kept;
3. relaxation (cell and positions, 0.05 eV/Å) with the calculator; failures are recorded;
4. stability: E_hull < 0.2 eV/atom against the phase library;
5. compatibility, as an anode coating (AC) or a cathode coating (CC) against a named solid
   electrolyte (SE) and cathode:
   AC: E_red < 0.3 V and E_ox > E_red(SE); CC: E_red < E_ox(SE) and E_ox > 4.5 V; and
   E_rxn > -0.2 eV/atom with the SE (both roles) and with the cathode (CC), as seed 003 checked
   compatibility with its electrolyte and LiCoO2 (its anode, Li metal, is E_red's job).

Seed 003's band-gap filter needs WyFormer's trained band-gap predictor, which cannot be had
offline: it is left out. Novelty against LeMat-Bulk/ICSD needs those databases: left out.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure
from pymatgen.entries.computed_entries import ComputedEntry

from cryin_flows.errors import ConfigurationError
from cryin_flows.stability.analysis import (
    Window,
    e_above_hull,
    electrochemical_window,
    mixing,
)
from cryin_flows.utils import SerializableModel

STAGES = ("candidates", "valid", "unique", "relaxed", "stable", "compatible")


class ScreenCriteria(SerializableModel):
    """The funnel's cuts (seed 003, Table 1) and the cell it screens coatings for."""

    d_min: float = Field(0.7, ge=0, description="Smallest interatomic distance, Å")
    unique: bool = Field(True, description="Drop StructureMatcher duplicates")
    e_hull_max: float = Field(0.2, description="Largest E_hull, eV/atom")
    anode_reduction_max: float = Field(0.3, description="AC: E_red below this, V vs Li/Li+")
    cathode_oxidation_min: float = Field(4.5, description="CC: E_ox above this, V vs Li/Li+")
    e_rxn_min: float = Field(-0.2, description="Mixing energy above this, eV/atom")
    electrolyte: str = Field("Li3ScCl6", description="Solid electrolyte phase (library name)")
    cathode: str = Field("LiCoO2", description="Cathode phase (library name)")
    roles: list[Literal["anode", "cathode"]] = Field(
        default_factory=lambda: ["anode", "cathode"], description="Coating roles to test"
    )


class CandidateResult(BaseModel):
    """One candidate's way through the funnel."""

    name: str = Field(description="Candidate name")
    formula: str = Field(description="Reduced formula")
    n_atoms: int = Field(description="Atoms in the cell")
    stage: str = Field(description="Last stage passed (STAGES)")
    reason: str | None = Field(None, description="Why it stopped there")
    d_min: float = Field(description="Smallest interatomic distance before relaxation, Å")
    duplicate_of: str | None = Field(None, description="The kept candidate it matches")
    converged: bool | None = Field(None, description="Whether the relaxation converged")
    steps: int | None = Field(None, description="Relaxation steps")
    e_hull: float | None = Field(None, description="eV/atom after relaxation")
    decomposition: list[str] = Field(default_factory=list, description="Hull products")
    e_red: float | None = Field(None, description="E_red, V vs Li/Li+")
    e_ox: float | None = Field(None, description="E_ox, V vs Li/Li+")
    e_rxn: dict[str, float] = Field(default_factory=dict, description="Mixing energy by partner")
    roles: list[str] = Field(default_factory=list, description="Roles whose cuts it passes")


def min_distance(structure: Structure) -> float:
    """Smallest interatomic distance (periodic images included), Å."""
    if len(structure) == 1:
        return float(min(structure.lattice.abc))
    d = structure.distance_matrix + np.eye(len(structure)) * 1e9
    return float(d.min())


def prefilter(
    candidates: list[tuple[str, Structure]], criteria: ScreenCriteria
) -> tuple[list[CandidateResult], list[tuple[str, Structure]]]:
    """Validity and uniqueness: a result per candidate, and the ones left to relax."""
    if not candidates:
        raise ConfigurationError("the candidate set is empty")
    results, kept = [], []
    for name, structure in candidates:
        d = min_distance(structure)
        result = CandidateResult(
            name=name,
            formula=structure.composition.reduced_formula,
            n_atoms=len(structure),
            stage="candidates" if d <= criteria.d_min else "valid",
            reason=f"d_min {d:.2f} Å <= {criteria.d_min}" if d <= criteria.d_min else None,
            d_min=d,
        )
        results.append(result)
        if d > criteria.d_min:
            kept.append((name, structure, result))
    if criteria.unique:
        matcher = StructureMatcher()
        index = {id(s): i for i, (_, s, _) in enumerate(kept)}
        first_of = {}
        for group in matcher.group_structures([s for _, s, _ in kept]):
            ids = [index[id(member)] for member in group]
            for i in ids:
                first_of[i] = min(ids)
        for i, (_, _, result) in enumerate(kept):
            if first_of[i] != i:
                result.duplicate_of = kept[first_of[i]][0]
                result.reason = f"duplicate of {result.duplicate_of}"
            else:
                result.stage = "unique"
        kept = [k for i, k in enumerate(kept) if first_of[i] == i]
    else:
        for _, _, result in kept:
            result.stage = "unique"
    return results, [(name, structure) for name, structure, _ in kept]


def _phase_entry(entries: list[ComputedEntry], name: str) -> ComputedEntry:
    for entry in entries:
        if entry.data.get("name") == name:
            return entry
    raise ConfigurationError(f"phase {name!r} is not among the computed phases")


def electrolyte_window(reference: PhaseDiagram, criteria: ScreenCriteria) -> Window:
    """The electrolyte's window in the library's phase diagram."""
    entry = _phase_entry(list(reference.all_entries), criteria.electrolyte)
    return electrochemical_window(reference, entry.composition)


def assess(
    result: CandidateResult,
    entry: ComputedEntry,
    reference: PhaseDiagram,
    criteria: ScreenCriteria,
    electrolyte: Window,
) -> CandidateResult:
    """Stability and compatibility of one relaxed candidate (``result.stage`` == 'relaxed')
    against the phase diagram ``reference`` of the library's phases."""
    phase_entries = list(reference.all_entries)
    result.e_hull, result.decomposition = e_above_hull(reference, entry)
    if result.e_hull >= criteria.e_hull_max:
        result.reason = f"E_hull {result.e_hull:.3f} >= {criteria.e_hull_max} eV/atom"
        return result
    result.stage = "stable"
    pd = PhaseDiagram([*phase_entries, entry])
    window = electrochemical_window(pd, entry.composition)
    result.e_red, result.e_ox = window.e_red, window.e_ox
    if window.empty:
        result.reason = (
            f"no stability window (exchanges Li at every potential, {window.e_red:.2f} V)"
        )
        return result
    red = window.e_red or 0.0
    ox = np.inf if window.e_ox is None else window.e_ox
    se_red = electrolyte.e_red or 0.0
    se_ox = np.inf if electrolyte.e_ox is None else electrolyte.e_ox
    partners = {criteria.electrolyte}
    if "cathode" in criteria.roles:
        partners.add(criteria.cathode)
    for partner in sorted(partners):
        composition = _phase_entry(phase_entries, partner).composition
        result.e_rxn[partner] = mixing(pd, entry.composition, composition).energy
    rxn_ok = {p: e > criteria.e_rxn_min for p, e in result.e_rxn.items()}
    roles = []
    if "anode" in criteria.roles and red < criteria.anode_reduction_max and ox > se_red:
        roles += ["anode"] if rxn_ok[criteria.electrolyte] else []
    if "cathode" in criteria.roles and red < se_ox and ox > criteria.cathode_oxidation_min:
        roles += ["cathode"] if all(rxn_ok.values()) else []
    result.roles = roles
    if roles:
        result.stage, result.reason = "compatible", None
    else:
        result.reason = (
            f"window {red:.2f}-{ox:.2f} V and E_rxn {result.e_rxn} fit no role "
            f"({', '.join(criteria.roles)})"
        )
    return result


def stage_counts(results: list[CandidateResult]) -> dict[str, int]:
    """How many candidates reached each stage (a candidate counts at every stage it passed)."""
    reached = [STAGES.index(r.stage) for r in results]
    return {stage: sum(1 for r in reached if r >= i) for i, stage in enumerate(STAGES)}
