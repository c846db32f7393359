"""How well each diffusion analysis states its own error (issue 23: which library, and why).

Synthetic random walks with a known D (64 Li walkers, a static Cl framework, vibrations of
0.3 Å, 90 ps at 50 fs per frame) are analysed three ways:

* windowed (this package): pymatgen-analysis-diffusion's MSD in 15 ps windows, 3-15 ps
  slopes, standard error over the 6 windows (paper 003 after Kahle et al. 2020);
* pymatgen-analysis-diffusion on the whole trajectory (``smoothed="max"``), its ``D_sigma``;
* kinisi's Bayesian estimate (``--kinisi`` walks; 150 lags up to 15 ps, fitted from 3 ps),
  the spread of its posterior samples.

For each: the share of walks whose D lies within 2 stated errors of the truth (a well-stated
error gives ~95 %; with 6 windows the t distribution gives ~90 %), and the seconds per walk.
``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--walks", type=int, default=100)
    parser.add_argument("--kinisi", type=int, default=20, help="walks also given to kinisi")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer

    from cryin_flows.dynamics.diffusion import CM2_S_TO_A2_PS, windowed_diffusivity
    from tests.dynamics.test_diffusion import D_TRUE, kinisi_samples, walk

    found = {"windowed": [], "pymatgen whole": [], "kinisi": []}
    seconds = {k: 0.0 for k in found}
    for seed in range(args.walks):
        structure, positions = walk(seed, vib=0.3)
        start = time.perf_counter()
        d = windowed_diffusivity(structure, positions, 50.0, 500.0)
        seconds["windowed"] += time.perf_counter() - start
        found["windowed"].append((d.D * CM2_S_TO_A2_PS, d.D_sem * CM2_S_TO_A2_PS))
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            whole = DiffusionAnalyzer(
                structure, np.transpose(positions - positions[:1], (1, 0, 2)), "Li", 500.0, 50.0, 1
            )
        seconds["pymatgen whole"] += time.perf_counter() - start
        found["pymatgen whole"].append(
            (whole.diffusivity * CM2_S_TO_A2_PS, whole.diffusivity_std_dev * CM2_S_TO_A2_PS)
        )
        if seed < args.kinisi:
            start = time.perf_counter()
            samples = kinisi_samples(positions, 50.0, seed=seed)
            seconds["kinisi"] += time.perf_counter() - start
            found["kinisi"].append((samples.mean(), samples.std()))
    figures = {}
    for name, values in found.items():
        values = np.array(values)
        z = (values[:, 0] - D_TRUE) / values[:, 1]
        figures[name] = {
            "walks": len(values),
            "within_2_errors": float(np.mean(np.abs(z) < 2)),
            "mean_D": float(values[:, 0].mean()),
            "mean_stated_error": float(values[:, 1].mean()),
            "spread_of_D": float(values[:, 0].std(ddof=1)),
            "seconds_per_walk": seconds[name] / len(values),
        }
        f = figures[name]
        print(
            f"{name:15s} {f['walks']:4d} walks: D {f['mean_D']:.4f} (truth {D_TRUE}), stated "
            f"error {f['mean_stated_error']:.4f}, actual spread {f['spread_of_D']:.4f}, within "
            f"2 errors {100 * f['within_2_errors']:.0f} %, {f['seconds_per_walk']:.2f} s/walk"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
