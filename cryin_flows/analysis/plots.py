"""Figures of an evaluation, as PNG files (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from cryin_flows.analysis.results import EvaluationResult

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def _colour(names: list[str], name: str) -> str:
    return COLOURS[names.index(name) % len(COLOURS)]


def energy_histogram(doc: EvaluationResult, path: Path) -> Path | None:
    """Normalised interface-energy distributions (0.05 J/m² bins), one step line per dataset."""
    names = [n for n, s in doc.datasets.items() if s.energy is not None]
    if not names:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.8), constrained_layout=True)
    for name in names:
        energy = doc.datasets[name].energy
        edges = np.array(energy.histogram_edges)
        counts = np.array(energy.histogram_counts, dtype=float)
        share = counts / max(counts.sum(), 1) * 100
        ax.stairs(
            share,
            edges,
            label=f"{name} (≤0: {100 * energy.fraction_below_0.value:.0f} %)",
            color=_colour(list(doc.datasets), name),
            linewidth=1.8,
        )
    ax.axvline(0.0, color="grey", linestyle=":", linewidth=1)
    ax.set(
        xlabel="normalised interface energy (J/m²)",
        ylabel="structures (%)",
        title="Interface energy",
    )
    ax.legend(frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def motif_bars(doc: EvaluationResult, element: str, path: Path) -> Path | None:
    """Most-likely-motif shares with 95 % CI error bars, datasets side by side (paper Fig. 8)."""
    rows = doc.motifs.get(element, [])
    if not rows:
        return None
    names = list(doc.datasets)
    height = 0.8 / len(names)
    fig, ax = plt.subplots(
        figsize=(6.8, 0.32 * len(rows) * len(names) + 1.4), constrained_layout=True
    )
    y = np.arange(len(rows))
    for k, name in enumerate(names):
        values, errs = [], [[], []]
        for row in rows:
            iv = row.fractions.get(name)
            v = iv.value * 100 if iv else 0.0
            values.append(v)
            errs[0].append(max(v - (iv.low * 100 if iv else 0.0), 0))
            errs[1].append(max((iv.high * 100 if iv else 0.0) - v, 0))
        ax.barh(
            y + k * height,
            values,
            height,
            xerr=errs,
            label=name,
            color=_colour(names, name),
            capsize=2,
            error_kw={"linewidth": 0.8},
        )
    ax.set_yticks(y + height * (len(names) - 1) / 2, [r.label for r in rows])
    ax.set_ylim(len(rows) - 0.1, -0.3)
    ax.set(xlabel=f"{element} sites (%)", title=f"Most likely {element} coordination motifs")
    ax.legend(frameon=False, loc="lower right")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def rdf_plot(doc: EvaluationResult, index: int, path: Path) -> Path:
    """One partial RDF with its bootstrap band per dataset."""
    curve = doc.rdfs[index]
    names = list(doc.datasets)
    fig, ax = plt.subplots(figsize=(6.0, 3.6), constrained_layout=True)
    r = np.array(curve.r)
    for name, data in curve.curves.items():
        colour = _colour(names, name)
        ax.plot(r, data["g"], color=colour, label=name, linewidth=1.4)
        ax.fill_between(r, data["low"], data["high"], color=colour, alpha=0.25, linewidth=0)
    ax.set(xlabel="r (Å)", ylabel="g(r)", title=f"{curve.pair} RDF (interface region)")
    ax.legend(frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def region_profile(doc: EvaluationResult, path: Path) -> Path | None:
    """Every atom's height by element, the two boundary planes found and the region between."""
    profile = doc.region_profile
    if profile is None:
        return None
    species = np.array(profile.species)
    heights = np.array(profile.heights)
    inside = np.array(profile.in_region)
    elements = list(dict.fromkeys(profile.species))
    fig, ax = plt.subplots(figsize=(6.8, 0.45 * len(elements) + 1.6), constrained_layout=True)
    ax.axvspan(profile.substrate_plane_z, profile.film_plane_z, color="#eef3fa", zorder=0)
    for z, text in (
        (profile.substrate_plane_z, "top substrate plane"),
        (profile.film_plane_z, "bottom film plane"),
    ):
        ax.axvline(z, color="grey", linestyle=":", linewidth=1)
        ax.annotate(text, (z, len(elements) - 0.4), fontsize=7, ha="center", color="#555")
    rng = np.random.default_rng(0)
    for row, element in enumerate(elements):
        mask = species == element
        jitter = rng.uniform(-0.25, 0.25, mask.sum())
        colours = np.where(inside[mask], COLOURS[1], "#9a9a9a")
        ax.scatter(heights[mask], row + jitter, s=9, c=colours, linewidths=0)
    ax.set_yticks(range(len(elements)), elements)
    ax.set_ylim(-0.6, len(elements) - 0.1)
    gap = profile.film_plane_z - profile.substrate_plane_z
    ax.set(
        xlabel="height along c (Å)",
        title=f"Interface region of reference structure {profile.structure} "
        f"({int(inside.sum())} atoms in red; gap {gap:.2f} Å)",
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_figures(doc: EvaluationResult, out_dir: Path) -> dict[str, Path]:
    """All figures of a document into ``out_dir``; returns caption -> path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Path] = {}
    energy = energy_histogram(doc, out_dir / "energy_distribution.png")
    if energy:
        figures["Interface-energy distributions"] = energy
    for element in doc.motifs:
        path = motif_bars(doc, element, out_dir / f"motifs_{element}.png")
        if path:
            figures[f"{element} coordination motifs"] = path
    for i, curve in enumerate(doc.rdfs):
        figures[f"{curve.pair} RDF"] = rdf_plot(doc, i, out_dir / f"rdf_{curve.pair}.png")
    region = region_profile(doc, out_dir / "region_profile.png")
    if region:
        figures["Interface region found in a reference structure"] = region
    return figures
