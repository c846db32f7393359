"""DFT relaxations into the training-frame schema of the potentials stage.

VASP's ionic steps (``Vasprun.ionic_steps``, a TaskDoc's data-store Trajectory, or
``TaskDoc.calcs_reversed[0].output.ionic_steps`` for documents that kept them inline)
become a ``RelaxationTrajectory`` whose frames ``cryin_flows.potentials.frames.harvest`` samples
exactly as it samples reference-potential relaxations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pymatgen.core import Structure

from cryin_flows.errors import ConfigurationError
from cryin_flows.potentials.labelling import RelaxationTrajectory
from cryin_flows.units import vasp_stress_to_ase


def _get(step: Any, key: str):
    return step.get(key) if isinstance(step, dict) else getattr(step, key, None)


def task_ionic_steps(task) -> list[dict]:
    """The last calculation's ionic steps of a TaskDoc: from its Trajectory (the makers here
    store one, in the data store) or, for documents that kept them, from the calculation."""
    calc = task.calcs_reversed[0]
    if calc.output.ionic_steps:
        return list(calc.output.ionic_steps)
    trajectory = (task.vasp_objects or {}).get("trajectory")
    if trajectory is None:
        raise ConfigurationError(
            f"task {task.task_label or task.dir_name!r} has neither ionic steps nor a trajectory"
        )
    if hasattr(trajectory, "to_pmg"):  # emmet's Trajectory model
        trajectory = trajectory.to_pmg()
    steps = []
    for i, props in enumerate(trajectory.frame_properties):
        steps.append(
            {
                "structure": trajectory.get_structure(i),
                "e_fr_energy": props.get("e_fr_energy"),
                "forces": props.get("forces"),
                "stress": props.get("stress"),
            }
        )
    return steps


def trajectory_from_ionic_steps(
    ionic_steps: list, label: str, stage: int = 2, converged: bool = True, source: str = "vasp"
) -> RelaxationTrajectory:
    """A RelaxationTrajectory of VASP ionic steps (dicts or emmet IonicStep objects).

    Energies are the force-consistent free energies (``e_fr_energy``, VASP's TOTEN), which the
    forces are derivatives of. Every step must have a structure, an energy and forces.
    """
    if not ionic_steps:
        raise ConfigurationError(f"relaxation {label!r} has no ionic steps")
    positions, energies, forces, stresses, species, lattice = [], [], [], [], None, None
    for i, step in enumerate(ionic_steps):
        structure = _get(step, "structure")
        energy = _get(step, "e_fr_energy")
        step_forces = _get(step, "forces")
        if structure is None or energy is None or step_forces is None:
            raise ConfigurationError(
                f"relaxation {label!r}, ionic step {i + 1}: needs structure, e_fr_energy and forces"
            )
        if isinstance(structure, dict):
            structure = Structure.from_dict(structure)
        if species is None:
            species = [site.specie.symbol for site in structure]
            lattice = structure.lattice.matrix
        positions.append(structure.cart_coords)
        energies.append(float(energy))
        forces.append(np.asarray(step_forces, dtype=float))
        stress = _get(step, "stress")
        stresses.append(vasp_stress_to_ase(stress) if stress is not None else np.zeros(6))
    return RelaxationTrajectory(
        species=species,
        lattice=lattice,
        positions=positions,
        energies=energies,
        forces=forces,
        stresses=stresses,
        stage=[stage] * len(energies),
        converged=converged,
        label=label,
        calculator=source,
    )
