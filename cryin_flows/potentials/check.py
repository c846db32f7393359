"""Structures relaxed with the trained potential, re-scored by the reference calculator.

Test-set errors are measured on reference relaxation paths; a relaxation with the potential can
leave them and converge in a minimum the reference does not have. Re-scoring the relaxed
structures shows it: a sound minimum has reference forces near the relaxation threshold and a
reference energy close to the potential's, with the same ranking.
"""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator
from pydantic import BaseModel, Field

from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.interface_set import InterfaceSet


class ReferenceCheck(BaseModel):
    """Potential and reference energies (eV/atom) and reference forces of relaxed structures."""

    indices: list[int] = Field(description="Structures re-scored (positions in the set)")
    potential_energy: list[float] = Field(description="The potential's energy, eV/atom")
    reference_energy: list[float] = Field(description="The reference's energy, eV/atom")
    reference_max_force: list[float] = Field(description="Largest reference force, eV/Å")
    energy_mae_mev_atom: float = Field(description="Mean |reference - potential|, meV/atom")
    energy_offset_mev_atom: float = Field(description="Mean (reference - potential), meV/atom")
    reference_max_force_mean: float = Field(description="Mean of the largest forces, eV/Å")
    rank_correlation: float | None = Field(
        description="Spearman correlation of the two energies (None below 3 structures)"
    )


def check_against_reference(
    structures: InterfaceSet, calculator: Calculator, n: int = 8
) -> ReferenceCheck:
    """Re-score the first ``n`` structures; their ``energy`` info is the potential's (eV)."""
    from scipy.stats import spearmanr

    indices = list(range(min(n, len(structures))))
    if not indices:
        raise ConfigurationError("reference check: no structures to re-score")
    potential, reference, forces = [], [], []
    for i in indices:
        if "energy" not in structures.infos[i]:
            raise ConfigurationError(f"reference check: structure {i} has no relaxed energy")
        atoms = structures.atoms(i)
        atoms.calc = calculator
        potential.append(float(structures.infos[i]["energy"]) / len(atoms))
        reference.append(float(atoms.get_potential_energy()) / len(atoms))
        forces.append(float(np.linalg.norm(atoms.get_forces(), axis=1).max()))
    diff = np.asarray(reference) - np.asarray(potential)
    rho = float(spearmanr(reference, potential)[0]) if len(indices) >= 3 else None
    return ReferenceCheck(
        indices=indices,
        potential_energy=potential,
        reference_energy=reference,
        reference_max_force=forces,
        energy_mae_mev_atom=float(np.abs(diff).mean() * 1000),
        energy_offset_mev_atom=float(diff.mean() * 1000),
        reference_max_force_mean=float(np.mean(forces)),
        rank_correlation=None if rho is None or np.isnan(rho) else rho,
    )
