"""The percolation barrier against analytic landscapes, and the Li landscape's grid."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from cryin_flows.dynamics.percolation import (
    PESSettings,
    grid_shape,
    li_landscape,
    percolation_barriers,
)


def _cosine(shape, amplitudes, phase=(0.0, 0.0, 0.0)):
    axes = [np.arange(n) / n for n in shape]
    u = np.meshgrid(*axes, indexing="ij")
    terms = zip(amplitudes, u, phase, strict=True)
    return -sum(a * np.cos(2 * np.pi * (x - p)) for a, x, p in terms)


@pytest.mark.parametrize("shape", [(20, 24, 16), (21, 15, 17)])
def test_separable_cosine_barriers_are_twice_each_amplitude(shape):
    # E = -Σ A_i cos 2π(u_i - φ_i): along axis i the cheapest path keeps the other two at
    # their minimum and climbs 2 A_i; on a grid that misses u_i = 1/2 it climbs slightly less,
    # by no more than the energy change of one grid step
    amplitudes = (0.1, 0.25, 0.4)
    energies = _cosine(shape, amplitudes, phase=(0.13, 0.0, 0.77))
    found = percolation_barriers(energies)
    for a, n, b in zip(amplitudes, shape, found, strict=True):
        resolution = 2 * a * (1 - np.cos(np.pi / n))  # drop at the grid point next to 1/2
        assert 2 * a - resolution - 1e-12 <= b <= 2 * a + 1e-12


def test_a_blocked_direction_never_percolates_and_diagonal_channels_span_both():
    energies = np.full((12, 12, 12), 5.0)
    energies[:, 0, 0] = 0.0  # a channel along a only, behind walls of 5 eV everywhere else
    barriers = percolation_barriers(np.where(energies > 1, np.inf, energies))
    assert barriers[0] == 0.0 and barriers[1] == barriers[2] == np.inf
    diagonal = np.full((10, 10, 10), np.inf)
    for i in range(10):  # a staircase along [110]: i, i and i+1, i
        diagonal[i, i, 0] = diagonal[(i + 1) % 10, i, 0] = 0.1
    assert percolation_barriers(diagonal)[:2] == [0.0, 0.0]
    assert percolation_barriers(diagonal)[2] == np.inf


def test_li_landscape_keeps_clear_of_atoms_and_is_periodic():
    from ase.calculators.lj import LennardJones

    structure = Structure(Lattice.cubic(4.0), ["Cl", "Li"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    settings = PESSettings(spacing=0.5, min_distance=1.5, batch_size=40)
    energies, _ = li_landscape(structure, LennardJones(sigma=2.0, epsilon=0.01, rc=3.9), settings)
    assert energies.shape == grid_shape(structure, 0.5) == (8, 8, 8)
    assert np.isinf(energies[0, 0, 0]) and np.isfinite(energies[4, 4, 4])
    assert np.nanmin(energies[np.isfinite(energies)]) == 0.0
    # the Cl at the corner is symmetric: mirrored grid points have the same energy
    assert energies[4, 2, 3] == pytest.approx(energies[4, 6, 5], abs=1e-9)
    # from the body centre, Li crosses between Cl atoms at the face centres
    assert all(np.isfinite(percolation_barriers(energies)))
