"""D, σ and E_a from trajectories: synthetic random walks with a known D (3D and 2D, with and
without vibrations, regions with different D), checked against the truth and against kinisi's
Bayesian estimate of the same trajectory."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from cryin_flows.dynamics.diffusion import (
    CM2_S_TO_A2_PS,
    Diffusivity,
    TransportFit,
    arrhenius,
    conductivity,
    fractional_regions,
    framework_msd,
    resolved_diffusivity,
    windowed_diffusivity,
)
from cryin_flows.errors import CryinError

D_TRUE = 0.1  # Å²/ps
L = 20.0


def walk(seed, dims=3, vib=0.0, frames=1801, frame_fs=50.0, n_li=64, n_fw=32, d=D_TRUE):
    """Li random walkers (``dims`` free directions; D = ``d`` per free direction) and a
    framework that only vibrates, as unwrapped positions (frames, atoms, 3)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0, np.sqrt(2 * d * frame_fs / 1000), (frames, n_li, 3))
    steps[0] = 0
    steps[..., dims:] = 0
    li = rng.uniform(0, L, (n_li, 3)) + np.cumsum(steps, axis=0)
    fw = np.broadcast_to(rng.uniform(0, L, (n_fw, 3)), (frames, n_fw, 3))
    positions = np.concatenate([li, fw], axis=1) + rng.normal(0, vib, (frames, n_li + n_fw, 3))
    species = ["Li"] * n_li + ["Cl"] * n_fw
    return Structure(Lattice.cubic(L), species, positions[0], coords_are_cartesian=True), positions


def _in_plane(structure, positions, regions=None):
    lattice, atoms = structure.lattice.matrix, np.arange(64)
    masks = fractional_regions(lattice, positions, atoms, regions or {"all": (0, 1)})
    found = resolved_diffusivity(lattice, positions, 50.0, 500.0, atoms, masks)
    return [r for r in found if r.what.endswith("in-plane")]


@pytest.mark.parametrize("dims", [3, 2])
@pytest.mark.parametrize("vib", [0.0, 0.3])
def test_random_walks_give_d_within_two_standard_errors(dims, vib):
    # 6 windows of 15 ps each: the window mean is t-distributed with 5 degrees of freedom, so
    # |z| < 2 holds in ~90 % of trajectories; over 12 seeds at least 9 must, and the mean z is
    # near 0 (no bias from the vibrations, whose MSD is a constant the intercept takes)
    z = []
    for seed in range(12):
        structure, positions = walk(seed, dims, vib)
        if dims == 3:
            found = windowed_diffusivity(structure, positions, 50.0, 500.0)
        else:
            found = _in_plane(structure, positions)[0]
        assert len(found.windows) == 6
        z.append((found.D * CM2_S_TO_A2_PS - D_TRUE) / (found.D_sem * CM2_S_TO_A2_PS))
    z = np.array(z)
    assert (np.abs(z) < 2).sum() >= 9, z
    assert abs(z.mean()) < 0.8, z


def test_regions_and_directions_are_told_apart():
    # walkers in planes (no motion along c): fast (0.2 Å²/ps) below c = 1/2, slow (0.05) above
    rng = np.random.default_rng(4)
    frames, n = 901, 64
    start = rng.uniform(0, L, (n, 3))
    d = np.where(start[:, 2] < L / 2, 0.2, 0.05)[None, :, None]
    steps = rng.normal(0, 1, (frames, n, 3)) * np.sqrt(2 * d * 50.0 / 1000)
    steps[0], steps[..., 2] = 0, 0
    li = start + np.cumsum(steps, axis=0)
    framework = np.broadcast_to(rng.uniform(0, L, (32, 3)), (frames, 32, 3))
    positions = np.concatenate([li, framework], axis=1)
    regions = {"low": (0.0, 0.5), "high": (0.5, 1.0)}
    found = {
        r.what: r
        for r in resolved_diffusivity(
            np.eye(3) * L,
            positions,
            50.0,
            500.0,
            np.arange(n),
            fractional_regions(np.eye(3) * L, positions, np.arange(n), regions),
        )
    }
    for region, truth in (("low", 0.2), ("high", 0.05)):
        r = found[f"{region} in-plane"]
        assert r.dimensions == 2 and len(r.windows) == 3
        assert abs(r.D * CM2_S_TO_A2_PS - truth) < max(3 * r.D_sem * CM2_S_TO_A2_PS, 0.1 * truth)
        assert abs(found[f"{region} across"].D * CM2_S_TO_A2_PS) < 0.01 * truth
        assert r.n_atoms == pytest.approx(((start[:, 2] < L / 2) == (region == "low")).sum())


def kinisi_samples(positions, frame_fs, seed=7, n_li=64, n_fw=32) -> np.ndarray:
    """kinisi's posterior samples of D (Å²/ps) for a ``walk``: lags up to 15 ps (150 of
    them), fitted from 3 ps."""
    import scipp as sc
    from ase import Atoms
    from kinisi.analyze import DiffusionAnalyzer

    frames = []
    for p in positions:
        atoms = Atoms(["Li"] * n_li + ["Cl"] * n_fw, positions=p, cell=[L] * 3, pbc=True)
        atoms.wrap()
        frames.append(atoms)
    every = max(1, round(100.0 / frame_fs))
    lags = sc.array(dims=["time interval"], values=np.arange(1, 151) * every * frame_fs, unit="fs")
    theirs = DiffusionAnalyzer.from_ase(
        frames, specie="Li", time_step=sc.scalar(frame_fs, unit="fs"),
        step_skip=sc.scalar(1, unit="dimensionless"), dt=lags, progress=False,
    )  # fmt: skip
    theirs.diffusion(
        sc.scalar(3000.0, unit="fs"), progress=False, n_samples=300, n_burn=200,
        random_state=np.random.RandomState(seed),
    )  # fmt: skip
    return theirs.D.to(unit="cm^2/s").values * CM2_S_TO_A2_PS


def test_kinisi_agrees_with_the_windowed_estimate_within_their_errors():
    structure, positions = walk(0, vib=0.3, frames=901, frame_fs=100.0)
    ours = windowed_diffusivity(structure, positions, 100.0, 500.0)
    samples = kinisi_samples(positions, 100.0)
    gap = abs(ours.D * CM2_S_TO_A2_PS - samples.mean())
    assert gap < 2 * np.hypot(ours.D_sem * CM2_S_TO_A2_PS, samples.std())
    assert samples.mean() == pytest.approx(D_TRUE, rel=0.3)


def test_nernst_einstein_and_the_300_k_extrapolation():
    structure = Structure(
        Lattice.cubic(10.0),
        ["Li"] * 10 + ["Cl"] * 10,
        np.random.default_rng(0).uniform(size=(20, 3)),
    )
    d = Diffusivity(species="Li", temperature=500.0, D=1e-6, D_sem=1e-7, windows=[1e-6], n_atoms=10)
    sigma, sem = conductivity(structure, d)
    # σ = n e² D / kT with n = 10 / 1000 Å³, z = 1
    expected = 10 / 1e-21 * (1.602176634e-19) ** 2 * 1e-6 / (1.380649e-23 * 500.0) * 1e3
    assert sigma == pytest.approx(expected, rel=1e-6) and sem == pytest.approx(expected / 10)
    hot = d.model_copy(
        update={
            "temperature": 800.0,
            "D": 1e-6 * np.exp(0.3 / 8.617333262e-5 * (1 / 500 - 1 / 800)),
        }
    )
    fit = arrhenius(structure, [hot, d], fixed_ea=0.5)
    assert fit.activation_energy == pytest.approx(0.3, abs=1e-6)
    # with E_a 0.5 from 500 K: σ(300) = σ(500) · (500/300) · exp(-0.5/k (1/300 - 1/500))
    ratio = 500 / 300 * np.exp(-0.5 / 8.617333262e-5 * (1 / 300 - 1 / 500))
    assert fit.sigma_room_fixed_ea == pytest.approx(sigma * ratio, rel=1e-6)


def test_framework_msd_and_short_trajectories():
    structure, positions = walk(0, frames=281)  # 14 ps
    assert framework_msd(positions, np.arange(64, 96)) < 1e-9  # a rigid framework
    with pytest.raises(CryinError, match=r"shorter than one 15\.0 ps window"):
        windowed_diffusivity(structure, positions, 50.0, 500.0)
    with pytest.raises(ValueError, match="fit_start_ps"):
        TransportFit(fit_start_ps=0.5)
