"""Small evaluation datasets built from the default template."""

from __future__ import annotations

import numpy as np
import pytest

from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator


def with_energies(structures: InterfaceSet, shift: float, seed: int) -> InterfaceSet:
    rng = np.random.default_rng(seed)
    for info in structures.infos:
        info["energy"] = float(-1262.0 + shift + rng.normal(0, 2.0))
    return structures


@pytest.fixture(scope="session")
def interface_sets(template) -> dict[str, InterfaceSet]:
    gen = RandomInterfaceGenerator(template)
    return {
        "training": with_energies(gen.generate(6, seed=10), 0.0, 1),
        "generated": with_energies(gen.generate(5, seed=11), 1.0, 2),
    }


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory):
    """One fingerprint cache for the session: each structure is fingerprinted once."""
    return tmp_path_factory.mktemp("fingerprints")
