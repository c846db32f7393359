"""Normalised interface energy (SPEC.md §4)."""

from __future__ import annotations

import numpy as np

EV_PER_A2_IN_J_PER_M2 = 16.0218
PAPER_E_REF = -4.78  # eV/atom, for the paper's M3GNet potential
LOWEST_GAMMA = -0.4  # J/m², where the "lowest structure" rule puts the lowest energy


def interface_energy(total_energy, n_atoms: int, e_ref: float, area: float) -> np.ndarray:
    """γ̃ = (E_total − N·e_ref) / A in J/m² (E in eV, A in Å²)."""
    energy = np.asarray(total_energy, dtype=float)
    return (energy - n_atoms * e_ref) / area * EV_PER_A2_IN_J_PER_M2


def e_ref_for_lowest(
    total_energies, n_atoms: int, area: float, lowest: float = LOWEST_GAMMA
) -> float:
    """The e_ref (eV/atom) that puts the lowest of ``total_energies`` at γ̃ = ``lowest``."""
    e_min = float(np.min(total_energies))
    return (e_min - lowest * area / EV_PER_A2_IN_J_PER_M2) / n_atoms
