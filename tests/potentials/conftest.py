"""Labelled rock-salt frames for the potential tests (the tiny potential: tests/conftest.py)."""

from __future__ import annotations

import numpy as np
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from cryin_flows.potentials.calculators import get_calculator


def labelled_rocksalt(n: int, seed: int, strain: float = 0.08) -> list:
    """Rattled, strained LiCl cells (8 atoms) labelled by CHGNet."""
    calc = get_calculator("chgnet")
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        atoms = bulk("LiCl", "rocksalt", a=5.14 * rng.uniform(1 - strain, 1 + strain), cubic=True)
        atoms.rattle(0.08, seed=seed * 1000 + i)
        atoms.calc = calc
        labelled = atoms.copy()
        labelled.calc = SinglePointCalculator(
            labelled,
            energy=atoms.get_potential_energy(),
            forces=atoms.get_forces(),
            stress=atoms.get_stress(),
        )
        frames.append(labelled)
    return frames
