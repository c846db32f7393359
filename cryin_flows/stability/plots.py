"""Figures of the stability stages: windows on a voltage axis, mixing-energy curves, the
funnel, and the convex hull of a ternary chemistry."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from cryin_flows.stability.analysis import Mixing, Window

V_TOP = 6.0  # upper end of the voltage axis when a window has no oxidation limit


def window_figure(windows: list[Window], path: Path, title: str = "") -> Path:
    """One bar per phase from its reduction to its oxidation limit (V vs Li/Li+), with the
    decomposition products at each end."""
    fig, ax = plt.subplots(figsize=(7.5, 0.7 * len(windows) + 1.4))
    for i, w in enumerate(windows):
        low = w.e_red or 0.0
        high = V_TOP if w.e_ox is None else w.e_ox
        ax.barh(i, high - low, left=low, color="tab:green", alpha=0.6)
        ax.text(low - 0.05, i, " + ".join(w.reduction_products) or "Li", ha="right",
                va="center", fontsize=8)  # fmt: skip
        ax.text(high + 0.05, i, " + ".join(w.oxidation_products), ha="left", va="center",
                fontsize=8)  # fmt: skip
        ax.text((low + high) / 2, i, f"{low:.2f}–{high:.2f} V", ha="center", va="center",
                fontsize=8)  # fmt: skip
    ax.set_yticks(range(len(windows)), [w.formula for w in windows])
    ax.set_xlim(-2.0, V_TOP + 2.0)
    ax.set_xlabel("potential vs Li/Li⁺ (V)")
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_title(title or "electrochemical stability windows")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def mixing_figure(mixings: list[Mixing], path: Path) -> Path:
    """Reaction energy versus mixing ratio for each pair; the minimum marked with its
    products."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for m in mixings:
        x, e = zip(*m.curve, strict=True)
        (line,) = ax.plot(x, e, marker="o", ms=3, label=f"{m.reactants[0]} | {m.reactants[1]}")
        ax.annotate(
            " + ".join(m.products), (m.ratio, m.energy), textcoords="offset points",
            xytext=(6, 4), ha="left", fontsize=8, color=line.get_color(),
        )  # fmt: skip
    ax.axhline(0, color="grey", lw=0.5)
    first = {m.reactants[0] for m in mixings}
    ax.set_xlabel(f"atomic fraction of {first.pop() if len(first) == 1 else 'the first phase'}, x")
    ax.set_ylabel("reaction energy (eV/atom)")
    ax.set_title("mixing (interfacial reaction) energy")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def funnel_figure(counts: dict[str, int], path: Path, title: str = "screening funnel") -> Path:
    """Candidates left after each stage, widest first."""
    stages = list(counts)
    fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(stages) + 1.2))
    top = max(counts.values()) or 1
    for i, stage in enumerate(stages):
        n = counts[stage]
        ax.barh(i, n, left=(top - n) / 2, color="tab:blue", alpha=0.7)
        ax.text(top / 2, i, f"{stage}: {n}", ha="center", va="center", fontsize=9)
    ax.set_ylim(len(stages) - 0.5, -0.5)
    ax.set_yticks([])
    ax.set_xticks([])
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def hull_figure(entries, path: Path) -> Path | None:
    """pymatgen's convex-hull plot (matplotlib) for chemistries of up to three elements;
    None for larger ones (their windows and mixing curves say what the hull decides)."""
    from pymatgen.analysis.phase_diagram import PDPlotter, PhaseDiagram

    pd = PhaseDiagram(entries)
    if len(pd.elements) > 3:
        return None
    ax = PDPlotter(pd, backend="matplotlib", show_unstable=0.2).get_plot()
    ax.figure.savefig(path, dpi=120)
    plt.close(ax.figure)
    return Path(path)
