"""Figures of the benchmark systems' datasets and scores (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


def sro_violins(sets: dict[str, dict[str, np.ndarray]], path: Path, title: str = "") -> Path:
    """Warren-Cowley SRO of shells 1 and 2 per pair, one violin per set (the published
    ``plot_sro.py`` view)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True, sharey=True)
    names = list(sets)
    for ax, shell in zip(axes, ("1NN", "2NN"), strict=True):
        keys = [k for k in next(iter(sets.values())) if k.startswith(shell)]
        for s, name in enumerate(names):
            data = [np.asarray(sets[name][k], dtype=float) for k in keys]
            position = np.arange(len(keys)) + (s - (len(names) - 1) / 2) * 0.8 / len(names)
            parts = ax.violinplot(
                data, positions=position, vert=False, widths=0.8 / len(names), showmedians=True
            )
            for body in parts["bodies"]:
                body.set_facecolor(COLOURS[s % len(COLOURS)])
                body.set_alpha(0.6)
            ax.plot([], [], color=COLOURS[s % len(COLOURS)], linewidth=6, label=name)
        ax.axvline(0.0, color="grey", linestyle=":", linewidth=1)
        ax.set_yticks(np.arange(len(keys)), [k.split("_")[1] for k in keys])
        ax.set(xlabel="Warren-Cowley SRO", title=f"{shell} {title}".strip())
    axes[0].invert_yaxis()
    axes[1].legend(frameon=False, fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def energy_histograms(energies: dict[str, np.ndarray], path: Path, xlabel: str) -> Path:
    """Normalised energy distributions, one step line per set."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8), constrained_layout=True)
    values = np.concatenate([np.asarray(v, dtype=float) for v in energies.values()])
    edges = np.histogram_bin_edges(values, bins=40)
    for k, (name, e) in enumerate(energies.items()):
        counts = np.histogram(e, bins=edges)[0]
        ax.stairs(counts / max(counts.sum(), 1), edges, label=name, color=COLOURS[k % 4])
    ax.set(xlabel=xlabel, ylabel="share of structures")
    ax.legend(frameon=False)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def band_plot(band, path: Path, xlabel: str, ylabel: str, xlim=None) -> Path:
    """Training average against the generated average with its 95 % band."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8), constrained_layout=True)
    ax.plot(band.x, band.training, color="black", linewidth=1.2, label="training")
    ax.plot(band.x, band.generated, color=COLOURS[1], linewidth=1.2, label="generated")
    ax.fill_between(band.x, band.low, band.high, color=COLOURS[1], alpha=0.3, linewidth=0)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if xlim is not None:
        ax.set_xlim(*xlim)
    ax.legend(frameon=False)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
