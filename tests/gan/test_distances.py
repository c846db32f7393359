import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk
from ase.neighborlist import neighbor_list

from cryin_flows.gan.distances import brute_force_neighbour_distances, neighbour_distances


def ase_knn(frac: np.ndarray, cell: np.ndarray, k: int) -> np.ndarray:
    atoms = Atoms(f"H{len(frac)}", scaled_positions=frac, cell=cell, pbc=True)
    cutoff = 2.0
    while True:
        i, _, d = neighbor_list("ijd", atoms, cutoff)
        counts = np.bincount(i, minlength=len(frac))
        if counts.min() >= k:
            return np.array([np.sort(d[i == n])[:k] for n in range(len(frac))])
        cutoff *= 1.5


def test_fcc_primitive_cell_gives_twelve_equal_neighbours():
    atoms = bulk("Cu", "fcc", a=3.6)  # one atom: every neighbour is a periodic image
    frac = torch.tensor(atoms.get_scaled_positions()[None])
    d = neighbour_distances(frac, torch.tensor(np.array(atoms.cell)), k=14)[0, 0]
    assert torch.allclose(d[:12], torch.full((12,), 3.6 / np.sqrt(2), dtype=d.dtype))
    assert torch.allclose(d[12:], torch.full((2,), 3.6, dtype=d.dtype))


@pytest.mark.parametrize("seed", range(4))
def test_random_skewed_small_cells_match_ase(seed):
    rng = np.random.default_rng(seed)
    cell = np.array([[3.1, 0, 0], [2.6, 2.3, 0], [0.9, 1.2, 2.7]]) * rng.uniform(0.8, 1.3)
    frac = rng.random((3, 5, 3))
    ours = neighbour_distances(torch.tensor(frac), torch.tensor(cell), k=8).numpy()
    for b in range(3):
        assert np.allclose(ours[b], ase_knn(frac[b], cell, 8), atol=1e-10)


def test_large_cell_fast_path_matches_ase_and_brute_force():
    rng = np.random.default_rng(5)
    cell = np.array([[12.4, 0, 0], [4.2, 16.6, 0], [0, 0, 33.2]])
    frac = rng.random((2, 264, 3))
    frac[..., 2] = 0.2 + 0.5 * frac[..., 2]
    ours = neighbour_distances(torch.tensor(frac), torch.tensor(cell), k=6).numpy()
    brute = brute_force_neighbour_distances(torch.tensor(frac), torch.tensor(cell), 6).numpy()
    assert np.allclose(ours, brute, atol=1e-8)
    assert np.allclose(ours[1], ase_knn(frac[1], cell, 6), atol=1e-10)


def test_three_by_three_images_are_not_always_enough():
    """A thin, skewed cell where the 27-image search misses true neighbours."""
    cell = np.array([[1.0, 0, 0], [0.5, 0.9, 0], [0.0, 0.0, 10.0]])
    frac = np.array([[[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]]])
    ours = neighbour_distances(torch.tensor(frac), torch.tensor(cell), k=20).numpy()[0]
    assert np.allclose(ours, ase_knn(frac[0], cell, 20), atol=1e-10)
    brute = brute_force_neighbour_distances(torch.tensor(frac), torch.tensor(cell), 20).numpy()[0]
    assert not np.allclose(brute, ours)


def test_gradients_flow_and_are_finite():
    rng = np.random.default_rng(0)
    frac = torch.tensor(rng.random((2, 10, 3)), requires_grad=True)
    cell = torch.tensor(np.diag([5.0, 6.0, 7.0]))
    d = neighbour_distances(frac, cell, k=3)
    d.sum().backward()
    assert torch.isfinite(frac.grad).all() and frac.grad.abs().sum() > 0
    # finite-difference check of one component
    eps = 1e-6
    bumped = frac.detach().clone()
    bumped[0, 3, 1] += eps
    numeric = (neighbour_distances(bumped, cell, 3).sum() - d.detach().sum()) / eps
    assert float(numeric) == pytest.approx(float(frac.grad[0, 3, 1]), rel=1e-4, abs=1e-6)
