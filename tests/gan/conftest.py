"""Tiny synthetic GAN datasets."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from cryin_flows.gan.config import GanConfig
from cryin_flows.gan.dataset import GanDataset
from cryin_flows.interfaces.interface_set import InterfaceSet

SMALL = {
    "critic_channels": (32, 32, 16),
    "head_sizes": (32, 16, 10),
    "generator_channels": 8,
    "generator_body": (16, 32, 16),
    "batch_size": 8,
    "k_neighbours": 4,
}


def small_config(**kw) -> GanConfig:
    """Paper architecture shape with small layer sizes, for fast tests."""
    return GanConfig(**{**SMALL, **kw})


def perturbed_rocksalt(n: int, sigma: float = 0.05, seed: int = 0) -> InterfaceSet:
    """NaCl 2x2x1 conventional cells (32 atoms, Na block then Cl block), Gaussian noise."""
    atoms = bulk("NaCl", "rocksalt", a=5.64, cubic=True).repeat((2, 2, 1))
    atoms = atoms[np.argsort([s != "Na" for s in atoms.get_chemical_symbols()], kind="stable")]
    rng = np.random.default_rng(seed)
    cart = atoms.get_positions()
    lattice = np.array(atoms.cell)
    frames = [(cart + rng.normal(0, sigma, cart.shape)) @ np.linalg.inv(lattice) for _ in range(n)]
    return InterfaceSet(lattice, atoms.get_chemical_symbols(), np.array(frames))


@pytest.fixture(scope="session")
def rocksalt_set() -> InterfaceSet:
    return perturbed_rocksalt(128)


@pytest.fixture(scope="session")
def tiny_dataset() -> GanDataset:
    rng = np.random.default_rng(1)
    species = ["Li"] * 5 + ["Sc"] * 2 + ["O"] * 5
    structures = InterfaceSet(np.diag([6.0, 7.0, 8.0]), species, rng.random((24, 12, 3)))
    return GanDataset.from_interface_set(structures)
