"""Figures of the transport stages: MSD curves, the Arrhenius plot, Li D per set by region and
direction, and a slice of the Li energy landscape with its percolation level."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from cryin_flows.dynamics.analysis import SetTransport, StructureTransport
from cryin_flows.dynamics.diffusion import CM2_S_TO_A2_PS, masked_msd
from cryin_flows.dynamics.trajectory import Trajectory


def _msd_curve(t: Trajectory, species: str) -> tuple[np.ndarray, np.ndarray]:
    atoms = t.species_indices(species)
    framework = np.setdiff1d(np.arange(t.positions.shape[1]), atoms)
    pos = t.positions.astype(float)
    pos = pos - (pos[:, framework] - pos[:1, framework]).mean(axis=1, keepdims=True)
    n = len(pos) - 1
    lags = np.unique(np.linspace(1, n, min(n, 80)).astype(int))
    msd = masked_msd(pos[:, atoms], np.ones((len(pos), len(atoms)), bool), lags)
    return lags * t.frame_fs / 1000, msd


def transport_figures(
    docs, structures: list[StructureTransport], sets: list[SetTransport], folder, species="Li"
) -> dict[str, Path]:
    """msd.png (each run's MSD of ``species`` against lag), arrhenius.png (D against 1000/T
    with window errors and the fit down to 300 K), and sets.png (D per set by region and
    direction) when there are regions. ``docs``: objects with ``label`` and ``trajectories``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    fig, ax = plt.subplots(figsize=(6, 4))
    for doc in docs:
        for t in doc.trajectories:
            lag, msd = _msd_curve(t, species)
            ax.plot(lag, msd, label=f"{doc.label} {t.name} {t.temperature:.0f} K".strip(), lw=1)
    ax.set(
        xlabel="lag (ps)",
        ylabel=f"{species} MSD (Å²)",
        title=f"{species} mean squared displacement",
    )
    if sum(len(d.trajectories) for d in docs) <= 12:
        ax.legend(fontsize=7)
    fig.tight_layout()
    out["msd"] = folder / "msd.png"
    fig.savefig(out["msd"], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for s in structures:
        a = s.arrhenius
        x = 1000 / np.array(a.temperatures)
        sem = [r.diffusivity.D_sem for r in s.runs]
        ax.errorbar(x, a.D, yerr=sem, fmt="o", capsize=3, label=s.name)
        if a.activation_energy is not None and all(d > 0 for d in a.D):
            line = np.linspace(1000 / 300, x.min(), 50)
            slope = -a.activation_energy / 8.617333262e-5 / 1000
            fit = np.exp(np.log(a.D[0]) + slope * (line - x[0]))
            ax.plot(line, fit, "--", lw=1, color=ax.lines[-1].get_color() if ax.lines else None)
    ax.set_yscale("log")
    ax.axvline(1000 / 300, color="grey", lw=0.8)
    ax.set(
        xlabel="1000 / T (1/K)",
        ylabel=f"D {species} (cm²/s)",
        title="Arrhenius (line: fit to 300 K)",
    )
    if len(structures) <= 12:
        ax.legend(fontsize=7)
    fig.tight_layout()
    out["arrhenius"] = folder / "arrhenius.png"
    fig.savefig(out["arrhenius"], dpi=120)
    plt.close(fig)

    resolved = [s for s in sets if len(s.D) > 1]
    if resolved:
        keys = [k for k in resolved[0].D if k != "all"]
        fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(keys)), 4))
        width = 0.8 / len(resolved)
        for i, s in enumerate(resolved):
            values = [s.D.get(k, np.nan) * CM2_S_TO_A2_PS for k in keys]
            errors = [s.D_sem.get(k, 0.0) * CM2_S_TO_A2_PS for k in keys]
            ax.bar(np.arange(len(keys)) + i * width, values, width, yerr=errors, capsize=3,
                   label=f"{s.label} ({s.n_structures}, {s.temperature:.0f} K)")  # fmt: skip
        ax.set_xticks(
            np.arange(len(keys)) + width * (len(resolved) - 1) / 2, keys, rotation=30, fontsize=8
        )
        ax.axhline(0, color="black", lw=0.6)
        ax.set(ylabel=f"D {species} (Å²/ps)", title=f"{species} diffusion by region and direction")
        ax.legend(fontsize=7)
        fig.tight_layout()
        out["sets"] = folder / "sets.png"
        fig.savefig(out["sets"], dpi=120)
        plt.close(fig)
    return out


def landscape_figure(energies: np.ndarray, barriers: list[float], folder, name: str) -> Path:
    """The Li energy on the grid plane (normal to c) through the lowest point, the points at
    or below the lowest percolation level outlined: where Li can go at that energy."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    low = np.unravel_index(
        np.argmin(np.where(np.isfinite(energies), energies, np.inf)), energies.shape
    )
    plane = energies[:, :, low[2]]
    finite = [b for b in barriers if np.isfinite(b)]
    top = (min(finite) if finite else np.nanmax(plane[np.isfinite(plane)])) + 0.5
    fig, ax = plt.subplots(figsize=(5, 4.5))
    image = ax.imshow(np.clip(plane, 0, top).T, origin="lower", cmap="viridis", extent=(0, 1, 0, 1))
    fig.colorbar(image, ax=ax, label="E − E_min (eV)")
    if finite:
        ax.contour(np.linspace(0, 1, plane.shape[0]), np.linspace(0, 1, plane.shape[1]),
                   np.where(np.isfinite(plane), plane, top).T, levels=[min(finite)],
                   colors="white", linewidths=1.2)  # fmt: skip
    text = ", ".join("none" if not np.isfinite(b) else f"{b:.2f}" for b in barriers)
    where = f"c = {low[2] / energies.shape[2]:.2f}"
    title = f"{name}: Li on the grid, {where}\nbarriers a, b, c: {text} eV"
    ax.set(xlabel="a (fractional)", ylabel="b (fractional)", title=title)
    fig.tight_layout()
    path = folder / f"landscape_{name}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
