"""Bootstrap intervals and the dataset-level metrics built on per-structure numbers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from pydantic import BaseModel, Field


class Stats(BaseModel):
    """Summary statistics of one quantity over a set."""

    min: float = Field(description="Smallest value")
    mean: float = Field(description="Mean value")
    max: float = Field(description="Largest value")

    @classmethod
    def of(cls, values) -> Stats:
        """Stats of a non-empty sequence of numbers."""
        values = [float(v) for v in values]
        return cls(min=min(values), mean=sum(values) / len(values), max=max(values))


class Interval(BaseModel):
    """A statistic with its 95 % pivotal bootstrap confidence interval."""

    value: float = Field(description="Estimate on the full data")
    low: float = Field(description="Lower end of the interval")
    high: float = Field(description="Upper end of the interval")

    def __str__(self) -> str:
        return f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}]"


def pivotal_interval(estimate, samples, level: float = 0.95) -> tuple:
    """Pivotal (basic) bootstrap interval: [2θ̂ − q(1−α/2), 2θ̂ − q(α/2)], elementwise."""
    alpha = 1.0 - level
    q_low, q_high = np.nanquantile(np.asarray(samples), [alpha / 2, 1 - alpha / 2], axis=0)
    estimate = np.asarray(estimate)
    return 2 * estimate - q_high, 2 * estimate - q_low


def bootstrap(
    statistic: Callable[..., np.ndarray | float],
    sizes: Sequence[int],
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate and pivotal interval of ``statistic(idx_1, idx_2, ...)``.

    Each argument indexes one dataset's structures; every resample draws each dataset's
    structures with replacement independently. Returns (estimate, low, high).
    """
    rng = np.random.default_rng(seed)
    full = [np.arange(n) for n in sizes]
    estimate = np.asarray(statistic(*full), dtype=float)
    samples = np.empty((n_resamples, *estimate.shape))
    for b in range(n_resamples):
        samples[b] = statistic(*(rng.integers(0, n, n) for n in sizes))
    low, high = pivotal_interval(estimate, samples, level)
    return estimate, np.asarray(low), np.asarray(high)


def interval(statistic, sizes, n_resamples=1000, seed=0) -> Interval:
    """``bootstrap`` of a scalar statistic, as an Interval."""
    value, low, high = bootstrap(statistic, sizes, n_resamples, seed)
    return Interval(value=float(value), low=float(low), high=float(high))


def euclidean(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity, a·b / (|a||b|) (the CryinGAN paper's measure; 1 = same direction).

    NaN when a vector is zero (scipy gives NaN for the distance then too)."""
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    return float(np.dot(a, b) / norm) if norm else float("nan")


def fingerprint_metrics(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    """[Euclidean distance, cosine similarity, cosine distance = 1 − similarity] of two
    average fingerprints (Dismai-Bench reports scipy's Euclidean and cosine distances)."""
    similarity = cosine_similarity(reference, other)
    return np.array([euclidean(reference, other), similarity, 1.0 - similarity])


def structure_means(sums: np.ndarray, counts: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mean over the structures ``idx`` of per-structure mean vectors (structures with sites)."""
    sel_counts = counts[idx]
    has = sel_counts > 0
    if not has.any():
        return np.full(sums.shape[1], np.nan)
    return (sums[idx][has] / sel_counts[has, None]).mean(axis=0)
