import numpy as np
import pytest

from cryin_flows.analysis.metrics import partial_rdf
from cryin_flows.analysis.statistics import (
    bootstrap,
    cosine_similarity,
    euclidean,
    fingerprint_metrics,
    interval,
    pivotal_interval,
)
from cryin_flows.interfaces.energy import e_ref_for_lowest, interface_energy
from cryin_flows.interfaces.interface_set import InterfaceSet


def test_bootstrap_interval_of_a_known_mean():
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, 400)
    iv = interval(lambda idx: x[idx].mean(), (len(x),), n_resamples=2000, seed=1)
    half_width = 1.96 / np.sqrt(len(x))
    assert iv.low < x.mean() < iv.high
    assert (iv.high - iv.low) / 2 == pytest.approx(half_width, rel=0.15)
    assert iv.low < 0 < iv.high


def test_pivotal_interval_reflects_the_quantiles():
    low, high = pivotal_interval(1.0, np.array([0.5, 1.0, 1.5] * 100))
    assert low < 1.0 < high
    assert low == pytest.approx(2 * 1.0 - 1.5) and high == pytest.approx(2 * 1.0 - 0.5)


def test_two_dataset_bootstrap_and_similarity():
    a = np.ones((10, 3))
    value, low, high = bootstrap(
        lambda i, j: euclidean(a[i].mean(0), a[j].mean(0)), (10, 10), 50, 0
    )
    assert value == low == high == 0
    assert cosine_similarity(np.array([1.0, 2.0]), np.array([2.0, 4.0])) == pytest.approx(1.0)
    assert np.isnan(cosine_similarity(np.zeros(2), np.ones(2)))
    # distance = 1 - similarity, as scipy.spatial.distance.cosine
    euclid, similarity, distance = fingerprint_metrics(np.array([1.0, 0.0]), np.array([1.0, 1.0]))
    assert (euclid, similarity, distance) == pytest.approx((1.0, 2**-0.5, 1 - 2**-0.5))


def test_rdf_peaks_of_fcc():
    a = 4.0
    lattice = np.eye(3) * a * 2
    base = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    frac = np.array(
        [(base + np.array([i, j, k])) / 2 for i in (0, 1) for j in (0, 1) for k in (0, 1)]
    )
    frac = frac.reshape(-1, 3)
    structures = InterfaceSet(lattice, ["Cu"] * len(frac), frac[None])
    r, g, _low, _high = partial_rdf(
        structures, ("Cu", "Cu"), r_max=4.5, bin_width=0.05, n_resamples=20
    )
    peaks = r[g > 0]
    assert peaks[0] == pytest.approx(a / np.sqrt(2), abs=0.05)
    assert peaks[1] == pytest.approx(a, abs=0.05)
    # 12 neighbours in the first shell: integral of rho g 4 pi r^2 dr
    density = len(frac) / np.linalg.det(lattice)
    first = (r > 2.5) & (r < 3.2)
    shells = 4 / 3 * np.pi * ((r + 0.025) ** 3 - (r - 0.025) ** 3)
    assert (g[first] * density * shells[first]).sum() == pytest.approx(12, abs=1e-6)


def test_interface_energy_and_reference_rule():
    gamma = interface_energy(-1262.0, 264, -4.78, 207.8)
    assert gamma == pytest.approx((-1262.0 + 264 * 4.78) / 207.8 * 16.0218)
    energies = np.array([-1270.0, -1265.0, -1260.0])
    e_ref = e_ref_for_lowest(energies, 264, 207.8)
    assert interface_energy(energies, 264, e_ref, 207.8).min() == pytest.approx(-0.4)
