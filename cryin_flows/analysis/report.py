"""A self-contained HTML report (one file, figures embedded) plus metrics.json."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from cryin_flows import __version__
from cryin_flows.analysis.plots import write_figures
from cryin_flows.analysis.results import EvaluationResult

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:0.6em 0}td,th{border:1px solid #bbb;padding:4px 9px;
text-align:right}th{background:#eef3fa}td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:0.6em;vertical-align:top}figcaption{text-align:center;
font-size:0.9em;color:#555}img{max-width:520px;border:1px solid #ddd}
.note{color:#555;font-size:0.9em}
"""


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


OUTSIDE_MARK = "†"


def _ci(interval, percent: bool = False, outside: bool = False) -> str:
    if interval is None:
        return "–"
    k = 100 if percent else 1
    fmt = "{:.1f}" if percent else "{:.4f}"
    value, low, high = (fmt.format(k * v) for v in (interval.value, interval.low, interval.high))
    return f"{value} [{low}, {high}]" + (f" {OUTSIDE_MARK}" if outside else "")


def _image(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f"data:image/png;base64,{data}"


def _figures(items) -> str:
    """Embedded PNGs with captions, from (caption, path) pairs."""
    return "".join(
        f'<figure><img src="{_image(path)}" alt="{html.escape(name)}"><figcaption>'
        f"{html.escape(name)}</figcaption></figure>"
        for name, path in items
    )


_SITES = {
    "region": "cations of each structure's interface region (between the substrate's top and "
    "the film's bottom plane found in that structure)",
    "all": "every cation site",
}


def stability_section(stability, out_dir: Path) -> str:
    """The study's stability stage (a ``StabilityDoc``): E_hull, windows and mixing energies of
    the two bulks, with their figures drawn into ``out_dir``."""
    from cryin_flows.stability.plots import mixing_figure, window_figure

    hull = _table(
        ["phase", "E_hull (eV/atom)"],
        [[name, f"{value:.3f}"] for name, value in stability.e_hull.items()],
    )
    windows = _table(
        ["phase", "E_red (V)", "E_ox (V)", "reduced to", "oxidised to"],
        [
            [
                w.formula,
                "0 (Li metal)" if w.e_red is None else f"{w.e_red:.2f}",
                "–" if w.e_ox is None else f"{w.e_ox:.2f}",
                " + ".join(w.reduction_products) or "–",
                " + ".join(w.oxidation_products) or "–",
            ]
            for w in stability.windows
        ],
    )
    mixings = _table(
        ["pair", "E_rxn (eV/atom)", "at x", "reaction"],
        [
            [" | ".join(m.reactants), f"{m.energy:.3f}", f"{m.ratio:.2f}", m.reaction]
            for m in stability.mixings
        ],
    )
    images = []
    if stability.windows:
        images.append(("windows", window_figure(stability.windows, out_dir / "windows.png")))
    if stability.mixings:
        images.append(("mixing", mixing_figure(stability.mixings, out_dir / "mixing.png")))
    figures = _figures(images)
    return f"""<h2>Stability of the two bulks</h2>
<p class="note">Phases of {html.escape(stability.chemistry)} relaxed with
{html.escape(stability.calculator)} (energies: {html.escape(stability.energy_scheme)}); hull,
windows vs Li/Li⁺ and mixing energies by pymatgen (seed 003's method).</p>
{windows}{mixings}<details><summary>E_hull of every phase</summary>{hull}</details>{figures}"""


_TRANSPORT_COLUMNS = ("all", "region across", "region in-plane", "substrate across", "film across")


def transport_section(transport) -> str:
    """The study's transport stage (a ``TransportDoc``): Li D per set, pooled over its
    structures' windows, by region and direction, with the stage's figures."""
    scale = 1e4  # cm²/s -> Å²/ps

    def cell(s, key):
        if key not in s.D:
            return "–"
        return f"{s.D[key] * scale:.4f} ± {s.D_sem[key] * scale:.4f}"

    table = _table(
        ["set", "T (K)", "structures", *[f"D {c} (Å²/ps)" for c in _TRANSPORT_COLUMNS]],
        [
            [
                s.label,
                f"{s.temperature:.0f}",
                s.n_structures,
                *[cell(s, c) for c in _TRANSPORT_COLUMNS],
            ]
            for s in transport.sets
        ],
    )
    images = _figures(
        [(name, ref.path) for name, ref in transport.figures.items() if Path(ref.path).is_file()]
    )
    fit = transport.fit
    return f"""<h2>Li transport across the interface</h2>
<p class="note">NVT MD of each set's lowest-γ̃ structures with the study's potential; D from
the MSD slope over {fit.fit_start_ps:g}–{fit.fit_end_ps:g} ps lags in {fit.window_ps:g} ps windows
(seed 003 after Kahle et al. 2020), pooled over every window of every structure of a set (± one
standard error). "Across" is along the interface normal (1D), "in-plane" parallel to it (2D);
region, substrate and film are found in each structure by the template's rule. A framework MSD
above 2 Å² over the run means the slabs themselves flow at that temperature (seed 003's cut):
then D is a liquid's. A few short runs show whether generated interfaces let Li cross as the
training structures do, not a conductivity.</p>
{table}{images}"""


def render_html(doc: EvaluationResult, figures: dict[str, Path], extra: str = "") -> str:
    """The report page as a string; ``extra`` is HTML placed before the parameters."""
    rows = []
    for name, s in doc.datasets.items():
        e = s.energy
        rows.append(
            [
                name + (" (reference)" if name == doc.reference else ""),
                s.n_structures,
                s.n_requested,
                f"{s.failed_percent:.1f}",
                f"{s.close_pairs_mean:.2f}",
                f"{e.mean:.3f}" if e else "–",
                f"{s.region_gap.mean:.2f} ({s.region_gap.min:.2f}–{s.region_gap.max:.2f})"
                if s.region_gap
                else "–",
                _ci(e.fraction_below_0, True) if e else "–",
                _ci(e.fraction_below_minus_0_2, True) if e else "–",
            ]
        )
    datasets = _table(
        [
            "dataset",
            "structures",
            "requested",
            "failed %",
            "pairs ≤ 1.5 Å",
            "mean γ̃ (J/m²)",
            "region gap (Å)",
            "γ̃ ≤ 0 (%)",
            "γ̃ ≤ −0.2 (%)",
        ],
        rows,
    )
    fp_rows, any_outside = [], False
    for name, per_element in doc.fingerprint_distances.items():
        for element, d in per_element.items():
            outside = d.outside_range
            any_outside |= bool(outside)
            fp_rows.append(
                [
                    name,
                    element,
                    d.n_sites,
                    *(
                        _ci(getattr(d, metric), outside=metric in outside)
                        for metric in ("euclidean", "cosine_similarity", "cosine_distance")
                    ),
                ]
            )
    fingerprints = _table(
        [
            "dataset",
            "cation",
            "sites",
            "Euclidean distance [95 % CI]",
            "cosine similarity [95 % CI]",
            "cosine distance [95 % CI]",
        ],
        fp_rows,
    )
    if any_outside:
        fingerprints += (
            f'<p class="note">{OUTSIDE_MARK} The interval leaves the quantity\'s natural range '
            "(a distance below 0, a similarity above 1): pivotal intervals can, when the "
            "estimate is near the boundary; shown as computed.</p>"
        )
    bond_rows = [
        [element, name, _ci(b.O), _ci(b.Cl)]
        for element, per_dataset in doc.bond_counts.items()
        for name, b in per_dataset.items()
    ]
    bonds = _table(["cation", "dataset", "O neighbours", "Cl neighbours"], bond_rows)
    images = _figures(figures.items())
    settings = doc.settings if isinstance(doc.settings, dict) else doc.settings.model_dump()
    params = _table(
        ["parameter", "value"],
        [
            [k, v]
            for k, v in {
                "sites": _SITES.get(settings.get("sites"), settings.get("sites")),
                "bootstrap resamples": settings.get("n_resamples"),
                "fingerprint intervals resample": settings.get("bootstrap"),
                "seed": settings.get("seed"),
                "e_ref (eV/atom)": None if doc.e_ref is None else round(doc.e_ref, 5),
                "interface area (Å²)": round(doc.area, 3),
                "template": doc.template_hash[:16] or "–",
                "fingerprints from cache": doc.cache_hits,
            }.items()
        ],
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cryin-flows evaluation</title>
<style>{STYLE}</style></head><body>
<h1>Evaluation against “{html.escape(doc.reference)}”</h1>
<p class="note">Generated by cryin-flows {html.escape(__version__)}.
Intervals: {html.escape(doc.interval_method or "95 % pivotal bootstrap over structures")}.</p>
<h2>Datasets and energies</h2>{datasets}
<h2>Coordination fingerprints</h2>
<p class="note">Distances between average CrystalNN fingerprints (Dismai-Bench's 109-value
vector) and the reference's; per cation, and over all cations weighted by the reference's sites
per structure.</p>{fingerprints}
<h2>Bonds per cation (most likely shell)</h2>{bonds}
<h2>Figures</h2>{images}
{extra}
<h2>Parameters</h2>{params}
</body></html>
"""


def write_report(
    doc: EvaluationResult,
    out_dir: str | Path,
    extra_figures: dict[str, Path] | None = None,
    stability=None,
    transport=None,
) -> Path:
    """metrics.json, the PNGs and report.html into ``out_dir``; returns the report path.
    ``stability`` (a ``StabilityDoc``) and ``transport`` (a ``TransportDoc``) add sections."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(doc.model_dump_json(indent=1))
    figures = write_figures(doc, out_dir)
    figures.update(extra_figures or {})
    path = out_dir / "report.html"
    extra = stability_section(stability, out_dir) if stability is not None else ""
    extra += transport_section(transport) if transport is not None else ""
    path.write_text(render_html(doc, figures, extra), encoding="utf-8")
    return path
