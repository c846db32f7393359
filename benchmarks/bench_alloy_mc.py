"""The alloy datasets' Monte Carlo: incremental swaps against a recount per swap, and the
published protocol at full scale (issue 24).

1. Speed: the same random swaps at 1500 K, one chain, scored two ways — the package's
   incremental energy change (two sites' 134 neighbours) and a plain recount of the cell's
   cluster counts before and after each swap (``swap_delta_reference``). Prints attempts per
   second of each and their ratio, and checks the two chains end in the same order.
2. The protocol (``--full``; paper §4.1.1): 300 K and 1500 K, 10 chains x 50,000 passes,
   a snapshot every 10 passes; wide and narrow sets of 1,500 (after a burn-in), their mean
   shell 1-2 SRO, and d_cluster between the 1500 K wide set and a second, independent one
   (another seed): the floor a perfect generator would reach.
``--json FILE`` writes the figures; ``--out DIR`` also writes the sets as extxyz.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _speed(attempts_plain: int, attempts_fast: int) -> dict:
    from ase import units

    from cryin_flows.alloys.expansion import ClusterExpansion, cluster_counts
    from cryin_flows.alloys.lattice import FCCLattice
    from cryin_flows.alloys.montecarlo import (
        MonteCarloSettings,
        random_orders,
        run_monte_carlo,
        swap_delta_reference,
    )

    lattice, ce = FCCLattice(), ClusterExpansion.bundled()
    n = lattice.n_sites
    passes = attempts_plain // n
    settings = MonteCarloSettings(
        temperature=1500, n_chains=1, passes=passes, snapshot_every=passes
    )
    run_monte_carlo(settings)  # compile
    start = time.perf_counter()
    fast = run_monte_carlo(settings)
    fast_seconds = time.perf_counter() - start
    # the same stream, scored by recounting the cell
    rng = np.random.default_rng(np.random.SeedSequence(settings.seed).spawn(1)[0])
    occ = random_orders(lattice, ce.composition, [rng])[0]
    picks_i, picks_j, uniforms = (
        rng.integers(0, n, passes * n),
        rng.integers(0, n, passes * n),
        rng.random(passes * n),
    )
    beta = 1.0 / (units.kB * settings.temperature)
    start = time.perf_counter()
    for i, j, u in zip(picks_i, picks_j, uniforms, strict=True):
        if occ[i] != occ[j]:
            delta = swap_delta_reference(occ, lattice, ce, i, j)
            if delta <= 0 or u < np.exp(-beta * delta):
                occ[i], occ[j] = occ[j], occ[i]
    plain_seconds = time.perf_counter() - start
    same = bool((occ == fast.occupations[0, -1]).all())
    long = run_monte_carlo(
        settings.model_copy(
            update={"passes": attempts_fast // n, "snapshot_every": attempts_fast // n}
        )
    )
    energy_check = float(
        abs(ce.energy(cluster_counts(long.occupations[0, -1], lattice))[0] - long.energies[0, -1])
    )
    rates = {
        "plain": passes * n / plain_seconds,
        "incremental": attempts_fast // n * n / long.seconds,
    }
    return {
        "attempts_plain": passes * n,
        "attempts_incremental": attempts_fast // n * n,
        "attempts_per_s": rates,
        "ratio": rates["incremental"] / rates["plain"],
        "same_final_order": same,
        "incremental_first_chunk_s": fast_seconds,
        "energy_drift_ev_atom": energy_check,
    }


def _protocol(out: Path | None) -> dict:
    from ase.io import write

    from cryin_flows.alloys.dataset import AlloySetSettings, select_sets, set_atoms
    from cryin_flows.alloys.expansion import cluster_counts, warren_cowley
    from cryin_flows.alloys.lattice import FCCLattice
    from cryin_flows.alloys.montecarlo import MonteCarloSettings, run_monte_carlo
    from cryin_flows.analysis.alloy import alloy_metrics, structure_metrics

    lattice, figures, wide = FCCLattice(), {}, {}
    for label, temperature, seed in (("300K", 300, 0), ("1500K", 1500, 0), ("1500K-b", 1500, 1)):
        result = run_monte_carlo(MonteCarloSettings(temperature=temperature, seed=seed))
        sets = select_sets(result, AlloySetSettings(seed=seed), lattice)
        row = {"seconds": result.seconds, "acceptance": result.acceptance}
        for name, chosen in sets.items():
            occ = result.occupations[chosen.chain, chosen.snapshot]
            sro = warren_cowley(cluster_counts(occ, lattice))
            row[name] = {
                "pool": chosen.pool,
                "energy_mean": float(np.mean(chosen.energy)),
                "sro_mean": {k: round(float(v.mean()), 4) for k, v in sro.items()},
                "sro_std": {k: round(float(v.std()), 4) for k, v in sro.items()},
            }
            if name == "wide":
                wide[label] = occ
            if out is not None and label != "1500K-b":
                out.mkdir(parents=True, exist_ok=True)
                write(out / f"alloy_{label}_{name}.extxyz", set_atoms(result, chosen, lattice))
        figures[label] = row
        print(f"{label}: {result.seconds:.1f} s, acceptance {result.acceptance:.3f}", flush=True)
    d = alloy_metrics(structure_metrics(wide["1500K"]), structure_metrics(wide["1500K-b"]))
    figures["d_cluster_two_1500K_wide_sets"] = d.d_cluster.model_dump()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plain-attempts", type=int, default=5_120, help="swaps recounted")
    parser.add_argument("--attempts", type=int, default=25_600_000, help="incremental swaps")
    parser.add_argument("--full", action="store_true", help="also run the published protocol")
    parser.add_argument("--out", type=Path, help="write the full protocol's sets here")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import numba

    figures = {
        "threads": numba.get_num_threads(),
        "speed": _speed(args.plain_attempts, args.attempts),
    }
    s = figures["speed"]
    print(
        f"swap attempts per second: recount {s['attempts_per_s']['plain']:.0f}, incremental "
        f"{s['attempts_per_s']['incremental']:.3g} ({figures['threads']} threads): "
        f"ratio {s['ratio']:.0f}; same final order: {s['same_final_order']}"
    )
    if args.full:
        start = time.perf_counter()
        figures["protocol"] = _protocol(args.out)
        figures["protocol"]["seconds_total"] = time.perf_counter() - start
        print(json.dumps(figures["protocol"], indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
