"""Normalised interface energy (SPEC.md §4)."""

from __future__ import annotations

import numpy as np

EV_PER_A2_IN_J_PER_M2 = 16.0218
LOWEST_GAMMA = -0.4  # J/m², where the "lowest structure" rule puts the lowest energy
# the shares the paper reports (Fig. 3, Table 1): field name -> γ̃ cut, J/m²
# the name of the study's job that keeps the GAN training set (γ̃ of the random interfaces)
TRAINING_SET_ENERGY_JOB = "interface energy (random)"
GAMMA_CUTS = {"fraction_below_0": 0.0, "fraction_below_minus_0_2": -0.2}


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


def annotate_interface_energies(
    structures,
    area: float,
    e_ref: float | None = None,
    lowest: float = LOWEST_GAMMA,
) -> tuple[np.ndarray, float]:
    """γ̃ of every frame of an InterfaceSet (from info['energy'], eV), written to its info.

    ``e_ref`` None applies the rule that puts the lowest structure at ``lowest``. Returns
    (γ̃ per frame, e_ref used).
    """
    from cryin_flows.errors import ConfigurationError

    missing = [i for i, info in enumerate(structures.infos) if "energy" not in info]
    if missing:
        raise ConfigurationError(
            f"frame {missing[0]} has no energy ({len(missing)} of {len(structures)} frames); "
            "relax the structures with a potential first"
        )
    total = np.array([float(info["energy"]) for info in structures.infos])
    n_atoms = len(structures.species)
    if e_ref is None:
        e_ref = e_ref_for_lowest(total, n_atoms, area, lowest)
    gamma = interface_energy(total, n_atoms, e_ref, area)
    for info, value in zip(structures.infos, gamma, strict=True):
        info["interface_energy"] = float(value)
        info["e_ref"] = float(e_ref)
    return gamma, float(e_ref)


def low_energy_subset(
    structures,
    gamma: np.ndarray,
    max_gamma: float = 0.0,
    limit: int | None = None,
    converged_only: bool = True,
):
    """Frames with γ̃ <= ``max_gamma`` (lowest first, at most ``limit``): the GAN training set.

    With ``converged_only``, frames marked ``converged = False`` are left out.
    """
    from cryin_flows.interfaces.interface_set import InterfaceSet

    keep = [
        i
        for i in np.argsort(gamma, kind="stable")
        if gamma[i] <= max_gamma
        and (not converged_only or structures.infos[i].get("converged", True) is not False)
    ]
    keep = keep[:limit] if limit is not None else keep
    return InterfaceSet(
        structures.lattice,
        structures.species,
        structures.frac_coords[keep],
        [dict(structures.infos[i]) for i in keep],
        structures.template_hash,
    )
