"""Diffusion and conductivity from MD trajectories (paper 003 after Kahle et al. 2020).

The trajectory is cut into windows (15 ps); in each, pymatgen-analysis-diffusion's
``DiffusionAnalyzer`` gives the drift-corrected MSD over every time origin, and the slope of
the MSD over lags of 3-15 ps gives one D. D is the mean over the windows, its standard error
their spread / sqrt(n). Conductivity by Nernst-Einstein (the library's conversion factor),
Arrhenius fits and extrapolation by the library. Region- and direction-resolved MSDs (Li
crossing an interface) are computed here: the library's regional MSD follows the fractional c
of each frame in Python and has no direction split across a plane."""

from __future__ import annotations

import warnings

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.core import Structure

from cryin_flows.errors import CryinError

#: 1 cm²/s in Å²/ps
CM2_S_TO_A2_PS = 1e4


class TransportFit(BaseModel):
    """How D is read from a trajectory (paper 003 after Kahle et al. 2020)."""

    window_ps: float = Field(15.0, gt=0, description="Length of each window, ps")
    fit_start_ps: float = Field(
        3.0,
        ge=1.0,
        description="Shortest lag of the MSD fit, ps (pymatgen-analysis-diffusion's MSD starts "
        "at 1 ps)",
    )
    fit_end_ps: float = Field(15.0, gt=0, description="Longest lag of the MSD fit, ps")
    activation_energy: float = Field(
        0.5, description="eV; σ(300 K) is extrapolated with it from the lowest temperature"
    )


class Diffusivity(BaseModel):
    """D of one species (or a subset of its atoms) at one temperature, from windowed fits."""

    species: str = Field(description="Diffusing species")
    temperature: float = Field(description="K")
    what: str = Field("all", description="Which atoms and directions: all, or a region/direction")
    dimensions: int = Field(3, description="Dimensions of the displacement (3, 2 in-plane, 1)")
    D: float = Field(description="Mean over windows, cm²/s")
    D_sem: float = Field(description="Standard error over windows, cm²/s (0 with one window)")
    windows: list[float] = Field(description="D of each window, cm²/s")
    n_atoms: float = Field(description="Atoms counted (mean over time origins for a region)")


def _check(positions: np.ndarray, frame_fs: float, fit: TransportFit) -> int:
    if positions.ndim != 3 or positions.shape[2] != 3:
        raise CryinError(f"positions must be (frames, atoms, 3), got {positions.shape}")
    per_window = round(fit.window_ps * 1000 / frame_fs)
    if fit.fit_end_ps > fit.window_ps or fit.fit_start_ps >= fit.fit_end_ps:
        raise CryinError(
            f"MSD fit {fit.fit_start_ps}-{fit.fit_end_ps} ps must lie inside the "
            f"{fit.window_ps} ps window"
        )
    if positions.shape[0] < per_window + 1:
        raise CryinError(
            f"trajectory of {(positions.shape[0] - 1) * frame_fs / 1000:.2f} ps is shorter "
            f"than one {fit.window_ps} ps window"
        )
    return per_window


def _slope(lags_fs: np.ndarray, msd: np.ndarray, fit: TransportFit) -> float:
    keep = (lags_fs >= fit.fit_start_ps * 1000 - 1e-9) & (lags_fs <= fit.fit_end_ps * 1000 + 1e-9)
    if keep.sum() < 2:
        raise CryinError("fewer than two MSD points inside the fit range: save frames more often")
    slope, _ = np.polyfit(lags_fs[keep], msd[keep], 1)
    return float(slope)


def windowed_diffusivity(
    structure: Structure,
    positions: np.ndarray,
    frame_fs: float,
    temperature: float,
    species: str = "Li",
    fit: TransportFit | None = None,
) -> Diffusivity:
    """D of ``species`` from unwrapped Cartesian ``positions`` (frames, atoms, 3), one frame
    every ``frame_fs``: per window, the drift-corrected MSD of pymatgen-analysis-diffusion's
    ``DiffusionAnalyzer`` over every origin, its slope over the fit lags, D = slope / 6."""
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer

    fit = fit or TransportFit()
    per_window = _check(positions, frame_fs, fit)
    n_windows = (positions.shape[0] - 1) // per_window
    values = []
    for w in range(n_windows):
        part = positions[w * per_window : (w + 1) * per_window + 1]
        disp = np.transpose(part - part[:1], (1, 0, 2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            analyzer = DiffusionAnalyzer(
                structure, disp, species, temperature, frame_fs, 1, smoothed="max", min_obs=1
            )
        slope = _slope(np.asarray(analyzer.dt), np.asarray(analyzer.msd), fit)
        values.append(slope / 6 * 0.1)  # Å²/fs -> cm²/s
    n_species = sum(site.specie.symbol == species for site in structure)
    return _summary(species, temperature, "all", 3, values, n_species)


def _summary(species, temperature, what, dims, values, n_atoms) -> Diffusivity:
    values = [float(v) for v in values]
    sem = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
    return Diffusivity(
        species=species,
        temperature=temperature,
        what=what,
        dimensions=dims,
        D=float(np.mean(values)),
        D_sem=sem,
        windows=values,
        n_atoms=float(n_atoms),
    )


def masked_msd(
    positions: np.ndarray, mask: np.ndarray, lags: np.ndarray, project=None
) -> np.ndarray:
    """MSD at ``lags`` (frames) of the atoms where ``mask`` (frames, atoms) is true at the
    time origin, over every origin; ``project`` maps displacements (…, 3) to the squared
    length counted (default: the full 3D one)."""
    out = np.zeros(len(lags))
    for i, lag in enumerate(lags):
        d = positions[lag:] - positions[: len(positions) - lag]
        sq = (d**2).sum(axis=-1) if project is None else project(d)
        weight = mask[: len(positions) - lag]
        out[i] = (sq * weight).sum() / max(weight.sum(), 1)
    return out


def fractional_regions(
    lattice: np.ndarray, positions: np.ndarray, atoms: np.ndarray, bounds: dict
) -> dict[str, np.ndarray]:
    """Masks (frames, len(atoms)) of ``atoms`` inside each region given as fractional c
    bounds (name -> (low, high)), frame by frame."""
    frac_c = (positions[:, atoms] @ np.linalg.inv(np.asarray(lattice, dtype=float)))[..., 2] % 1
    return {name: (frac_c >= low) & (frac_c < high) for name, (low, high) in bounds.items()}


def resolved_diffusivity(
    lattice: np.ndarray,
    positions: np.ndarray,
    frame_fs: float,
    temperature: float,
    atoms: np.ndarray,
    regions: dict[str, np.ndarray],
    species: str = "Li",
    fit: TransportFit | None = None,
) -> list[Diffusivity]:
    """D of the ``atoms`` (indices of the species) by region and direction: for each region
    (name -> mask (frames, len(atoms)), e.g. ``fractional_regions``) the atoms inside it at
    each time origin, in-plane (2D, the plane of a and b) and across (1D, along its normal);
    windows and fit as ``windowed_diffusivity``. The drift of the other atoms' centre is
    removed first."""
    fit = fit or TransportFit()
    per_window = _check(positions, frame_fs, fit)
    lattice = np.asarray(lattice, dtype=float)
    normal = np.cross(lattice[0], lattice[1])
    normal /= np.linalg.norm(normal)
    framework = np.setdiff1d(np.arange(positions.shape[1]), atoms)
    sub = positions[:, atoms] - _drift(positions, framework)
    directions = {
        "in-plane": (2, lambda d: (d**2).sum(-1) - (d @ normal) ** 2),
        "across": (1, lambda d: (d @ normal) ** 2),
    }
    step = max(1, per_window // 60)
    lags = np.arange(step, per_window + 1, step)
    out = []
    n_windows = (positions.shape[0] - 1) // per_window
    for name, inside in regions.items():
        for direction, (dims, project) in directions.items():
            values = []
            for w in range(n_windows):
                part = slice(w * per_window, (w + 1) * per_window + 1)
                msd = masked_msd(sub[part], inside[part], lags, project)
                values.append(_slope(lags * frame_fs, msd, fit) / (2 * dims) * 0.1)
            counted = inside.sum(1).mean()
            out.append(_summary(species, temperature, f"{name} {direction}", dims, values, counted))
    return out


def conductivity(structure: Structure, d: Diffusivity) -> tuple[float, float]:
    """σ and its standard error, mS/cm, by Nernst-Einstein from D of all the species' atoms
    (pymatgen-analysis-diffusion's conversion factor: charge from the oxidation state or the
    valence, density from ``structure``)."""
    from pymatgen.analysis.diffusion.analyzer import get_conversion_factor

    factor = get_conversion_factor(structure, d.species, d.temperature)
    return d.D * factor, d.D_sem * factor


def _drift(positions: np.ndarray, framework: np.ndarray) -> np.ndarray:
    """Displacement of the framework's centre (frames, 1, 3) from the first frame; removed
    from every atom's displacement as pymatgen-analysis-diffusion removes it."""
    return (positions[:, framework] - positions[:1, framework]).mean(axis=1, keepdims=True)


def framework_msd(positions: np.ndarray, framework: np.ndarray) -> float:
    """Mean squared displacement of the framework atoms from the first frame to the last,
    Å², their centre's drift removed: paper 003's stability check (< 2 Å² over 100 ps at
    1000 K)."""
    d = positions[-1, framework] - positions[0, framework] - _drift(positions, framework)[-1]
    return float((d**2).sum(-1).mean())


def max_msd(positions: np.ndarray, atoms: np.ndarray, framework: np.ndarray) -> float:
    """Largest mean squared displacement of ``atoms`` from the first frame at any frame, Å²,
    the framework's drift removed (paper 003's diffusion check for Li at 500 K: > 4 Å²)."""
    d = positions[:, atoms] - positions[:1, atoms] - _drift(positions, framework)
    return float((d**2).sum(-1).mean(axis=1).max())


class Arrhenius(BaseModel):
    """D(T) = D0 exp(-E_a / kT) fitted over temperatures, and σ at room temperature."""

    temperatures: list[float] = Field(description="K")
    D: list[float] = Field(description="cm²/s at each temperature")
    activation_energy: float | None = Field(description="Fitted E_a, eV (None below 2 points)")
    activation_energy_sem: float | None = Field(description="Its standard error (3+ points)")
    sigma_room: float = Field(description="σ at 300 K, Arrhenius-extrapolated, mS/cm")
    sigma_room_sem: float = Field(description="Its standard error, mS/cm")
    sigma_room_fixed_ea: float = Field(
        description="σ(300 K) from the lowest temperature with the fixed E_a (paper 003), mS/cm"
    )
    sigma_room_fixed_ea_sem: float = Field(description="Its standard error, mS/cm")
    fixed_activation_energy: float = Field(description="The fixed E_a used, eV")


def arrhenius(structure: Structure, results: list[Diffusivity], fixed_ea: float = 0.5) -> Arrhenius:
    """Arrhenius fit of D over ``results`` (pymatgen-analysis-diffusion's ``fit_arrhenius``)
    and σ(300 K): from the fit when there are two temperatures or more, and from the
    lowest temperature with ``fixed_ea`` (paper 003: σ ∝ exp(-E_a/kT)/T)."""
    from pymatgen.analysis.diffusion.analyzer import fit_arrhenius, get_conversion_factor

    ordered = sorted(results, key=lambda r: r.temperature)
    temps = [r.temperature for r in ordered]
    species = ordered[0].species
    k_b = 8.617333262e-5
    low = ordered[0]
    shift = np.exp(-fixed_ea / k_b * (1 / 300.0 - 1 / low.temperature))
    factor = get_conversion_factor(structure, species, 300.0)
    fixed, fixed_sem = low.D * shift * factor, low.D_sem * shift * factor
    ea = ea_sem = None
    sigma, sigma_sem = fixed, fixed_sem
    positive = all(r.D > 0 for r in ordered)
    if len(ordered) >= 2 and positive:
        ea, d0, ea_sem = fit_arrhenius(temps, [r.D for r in ordered])
        sigma = d0 * np.exp(-ea / (k_b * 300.0)) * factor
        # the window errors of ln D carried through the same least-squares line to 300 K
        a = np.column_stack([1 / np.array(temps), np.ones(len(temps))])
        weights = np.array([1 / 300.0, 1.0]) @ np.linalg.pinv(a)
        rel = np.array([r.D_sem / r.D for r in ordered])
        sigma_sem = sigma * float(np.sqrt(np.sum((weights * rel) ** 2)))
    return Arrhenius(
        temperatures=temps,
        D=[r.D for r in ordered],
        activation_energy=None if ea is None else float(ea),
        activation_energy_sem=None if ea_sem is None else float(ea_sem),
        sigma_room=float(sigma),
        sigma_room_sem=float(sigma_sem),
        sigma_room_fixed_ea=float(fixed),
        sigma_room_fixed_ea_sem=float(fixed_sem),
        fixed_activation_energy=fixed_ea,
    )
