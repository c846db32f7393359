import numpy as np
import pytest
from ase import Atoms
from ase.neighborlist import neighbor_list

from cryin_flows.errors import ConfigurationError
from cryin_flows.gan.generate import count_close_pairs, generate_structures, move_apart
from cryin_flows.gan.training import GENERATOR, GanTrainer
from cryin_flows.utils import file_sha256

from .conftest import small_config


def _min_distance(frac, cell):
    atoms = Atoms(f"H{len(frac)}", scaled_positions=frac, cell=cell, pbc=True)
    _, _, d = neighbor_list("ijd", atoms, 3.0)
    return d.min() if len(d) else np.inf


def test_pairs_across_the_boundary_are_pushed_apart_periodically():
    cell = np.diag([10.0, 10.0, 10.0])
    frac = np.array([[[0.002, 0.5, 0.5], [0.998, 0.5, 0.5], [0.5, 0.5, 0.5]]])
    assert count_close_pairs(frac, cell).tolist() == [1]
    out, ok, iterations = move_apart(frac, cell)
    assert ok.all() and iterations[0] == 1
    assert _min_distance(out[0], cell) == pytest.approx(1.515, abs=1e-9)
    # pushed apart across the face, not through the cell
    assert out[0, 0, 0] < 0.5 < out[0, 1, 0]
    assert np.allclose(out[0, 2], frac[0, 2])


def test_clean_up_leaves_no_pair_under_threshold():
    rng = np.random.default_rng(0)
    cell = np.array([[12.4, 0, 0], [4.2, 16.6, 0], [0, 0, 33.2]])
    frac = rng.random((6, 120, 3))
    frac[..., 2] = 0.3 + 0.3 * frac[..., 2]
    frac[0, 1] = frac[0, 0]  # two atoms on top of each other
    before = count_close_pairs(frac, cell)
    assert before.min() > 0
    out, ok, _ = move_apart(frac, cell)
    assert ok.all()
    assert count_close_pairs(out, cell).tolist() == [0] * 6
    assert min(_min_distance(f, cell) for f in out) >= 1.5


def test_what_cannot_be_fixed_is_rejected():
    cell = np.diag([10.0, 10.0, 10.0])
    frac = np.array([[[0.5, 0.5, 0.5], [0.55, 0.5, 0.5]], [[0.1, 0.1, 0.1], [0.6, 0.6, 0.6]]])
    _out, ok, iterations = move_apart(frac, cell, max_iterations=0)
    assert ok.tolist() == [False, True] and iterations.tolist() == [0, 0]


def test_generate_structures_provenance_and_reproducibility(tiny_dataset, tmp_path):
    GanTrainer(tiny_dataset, small_config(), tmp_path).train(epochs=1)
    first = generate_structures(tmp_path, 20, seed=3, threshold=0.5)
    again = generate_structures(tmp_path, 20, seed=3, threshold=0.5)
    assert np.array_equal(first.structures.frac_coords, again.structures.frac_coords)
    assert first.n_requested == 20
    assert len(first.structures) + first.n_rejected == 20
    info = first.structures.infos[0]
    assert info["model_hash"] == file_sha256(tmp_path / GENERATOR) == first.model_hash
    assert info["seed"] == 3 and "close_pairs_before" in info and "cleanup_iterations" in info
    assert first.structures.species == tiny_dataset.species
    raw = generate_structures(tmp_path, 20, seed=3, clean=False, threshold=0.5)
    assert raw.n_rejected == 0 and len(raw.structures) == 20
    assert raw.close_pairs_before == first.close_pairs_before
    with pytest.raises(ConfigurationError, match="no trained generator"):
        generate_structures(tmp_path / "nothing", 5)
