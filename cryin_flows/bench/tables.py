"""The benchmark tables: metrics over seeds as mean (min, max), beside the published rows.

Published rows are Dismai-Bench's Tables 1-3 (Yong, Su, Ertekin 2024): each model trained
three times per dataset, 1,000 structures generated per model.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

# (mean, min, max); None where the paper's table gives no range or the row is not given
PUBLISHED: dict[str, dict[str, dict[str, tuple[float, float | None, float | None]]]] = {
    "alloy 300K narrow": {
        "CDVAE": {"d_cluster": (0.0604, 0.0540, 0.0675), "vacancy_percent": (35.8, None, None)},
        "DiffCSP": {"d_cluster": (0.0645, 0.0566, 0.0792), "vacancy_percent": (94.3, None, None)},
        "CryinGAN": {"d_cluster": (0.117, 0.106, 0.126), "vacancy_percent": (100, 100, 100)},
    },
    "alloy 300K wide": {
        "CDVAE": {"d_cluster": (0.0658, 0.0598, 0.0742), "vacancy_percent": (37.4, None, None)},
        "DiffCSP": {"d_cluster": (0.103, 0.0831, 0.121), "vacancy_percent": (95.8, None, None)},
        "CryinGAN": {"d_cluster": (0.125, 0.119, 0.129), "vacancy_percent": (100, 100, 100)},
    },
    "alloy 1500K narrow": {
        "CDVAE": {"d_cluster": (0.0621, 0.0589, 0.0665), "vacancy_percent": (54.8, None, None)},
        "DiffCSP": {"d_cluster": (0.0308, 0.0304, 0.0313), "vacancy_percent": (91.7, None, None)},
        "CryinGAN": {"d_cluster": (0.0643, 0.0629, 0.0659), "vacancy_percent": (100, 100, 100)},
    },
    "alloy 1500K wide": {
        "CDVAE": {"d_cluster": (0.0618, 0.0549, 0.0694), "vacancy_percent": (61.3, None, None)},
        "DiffCSP": {"d_cluster": (0.0338, 0.0332, 0.0342), "vacancy_percent": (92.3, None, None)},
        "CryinGAN": {"d_cluster": (0.0650, 0.0609, 0.0691), "vacancy_percent": (100, 100, 100)},
    },
    "a-si": {
        "CDVAE": {
            "d_motif": (0.0402, 0.0396, 0.0412),
            "d_rdf": (0.392, 0.381, 0.408),
            "d_angle": (0.00332, 0.00312, 0.00353),
            "failed_percent": (0.0, 0.0, 0.0),
        },
        "DiffCSP": {
            "d_motif": (0.0647, 0.0462, 0.0908),
            "d_rdf": (1.39, 1.03, 1.69),
            "d_angle": (0.0103, 0.00797, 0.0133),
            "failed_percent": (0.0, 0.0, 0.0),
        },
    },
    # Table 1 (LSC|LCO, all cation sites): CryinGAN's row, no range given
    "interface": {
        "CryinGAN": {
            "d_Li": (0.0538, None, None),
            "d_Co": (0.0274, None, None),
            "d_Sc": (0.0888, None, None),
            "d_all": (0.0426, None, None),
            "failed_percent": (9.0, None, None),
        }
    },
}
# the metrics of each system's rows, in table order
METRICS: dict[str, tuple[str, ...]] = {
    "interface": ("d_Li", "d_Co", "d_Sc", "d_all", "failed_percent", "converged_percent"),
    "alloy": ("d_cluster", "vacancy_percent", "rejected_percent"),
    "a-si": ("d_motif", "d_rdf", "d_angle", "failed_percent"),
}


class MeanMinMax(BaseModel):
    """A metric over runs."""

    mean: float = Field(description="Mean over runs")
    min: float | None = Field(None, description="Smallest run (None: not given)")
    max: float | None = Field(None, description="Largest run (None: not given)")

    def __str__(self) -> str:
        if self.min is None or self.max is None:
            return f"{self.mean:.3g}"
        return f"{self.mean:.3g} ({self.min:.3g}, {self.max:.3g})"


class BenchmarkRow(BaseModel):
    """One model on one dataset."""

    model: str = Field(description="Generator, or the published model's name")
    source: str = Field(description="'this run' or 'published'")
    runs: int = Field(description="Runs behind the row (published: 3)")
    metrics: dict[str, MeanMinMax] = Field(description="Metric -> mean (min, max)")


def value_of(entry) -> float:
    """A metric's value from a metrics document entry (an Interval or a number)."""
    return float(entry["value"]) if isinstance(entry, dict) else float(entry)


def summarise(model: str, system: str, metrics: list[dict]) -> BenchmarkRow:
    """Mean (min, max) of each of the system's metrics over the runs' documents."""
    values = {}
    for name in METRICS[system]:
        found = [value_of(m[name]) for m in metrics if name in m]
        if found:
            values[name] = MeanMinMax(
                mean=float(np.mean(found)), min=float(min(found)), max=float(max(found))
            )
    return BenchmarkRow(model=model, source="this run", runs=len(metrics), metrics=values)


def published_rows(dataset: str) -> list[BenchmarkRow]:
    """The paper's rows for ``dataset`` (a key of ``PUBLISHED``; none when unknown)."""
    return [
        BenchmarkRow(
            model=model,
            source="published",
            runs=3,
            metrics={k: MeanMinMax(mean=v[0], min=v[1], max=v[2]) for k, v in row.items()},
        )
        for model, row in PUBLISHED.get(dataset, {}).items()
    ]


def markdown_table(rows: list[BenchmarkRow], system: str | None = None) -> str:
    """The rows as a markdown table, one column per metric any row has (the system's
    metrics first, in their order)."""
    present = dict.fromkeys(k for r in rows for k in r.metrics)
    names = [k for k in METRICS.get(system, ()) if k in present]
    names += [k for k in present if k not in names]
    lines = [
        "| model | source | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for r in rows:
        cells = [str(r.metrics[n]) if n in r.metrics else "" for n in names]
        lines.append(f"| {r.model} | {r.source} ({r.runs}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)
