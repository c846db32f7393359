"""A tiny trained M3GNet potential shared by the relaxation tests."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from cryin_flows.potentials.calculators import get_calculator
from cryin_flows.potentials.frames import write_frames
from cryin_flows.potentials.m3gnet import M3GNetSettings, train_m3gnet


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


@pytest.fixture(scope="session")
def tiny_potential(tmp_path_factory) -> str:
    """A small M3GNet for Li and Cl trained for a few epochs (seconds)."""
    root = tmp_path_factory.mktemp("tiny_potential")
    frames = labelled_rocksalt(16, seed=7)
    for name, part in (("train", frames[:12]), ("val", frames[12:14]), ("test", frames[14:])):
        write_frames(part, root / "frames" / f"{name}.extxyz")
    settings = M3GNetSettings(units=16, nblocks=1, max_epochs=5, patience=5, accelerator="cpu")
    return train_m3gnet(root / "frames", root / "out", settings)["potential_dir"]
