"""The screening funnel on pyxtal candidates (issue 22): how long, and what survives.

Generates ``--n`` random symmetric Li-Y-Cl crystals (pyxtal, at most ``--max-atoms`` in the
conventional cell), relaxes the phases of Li-Y-Cl plus the electrolyte's and cathode's elements
with CHGNet, and runs the funnel (seed 003's cuts), ``--batch-size`` structures per model call.
Baselines, measured in the same run on the first ``--baseline`` valid candidates: one structure
at a time with torch's default threads (how relaxations ran before batching), one at a time
with one thread, and the same candidates in one batch; the ratios are time over the batch's.
Prints the per-stage counts; ``--json FILE`` writes the figures. Writes its files to a
temporary folder (or ``--out``), so a killed run resumes there.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="candidates")
    parser.add_argument("--elements", default="Li-Y-Cl")
    parser.add_argument("--max-atoms", type=int, default=12, help="per conventional cell")
    parser.add_argument("--max-steps", type=int, default=500, help="relaxation steps")
    parser.add_argument("--batch-size", type=int, default=32, help="structures per model call")
    parser.add_argument("--workers", type=int, default=1, help="relaxation processes")
    parser.add_argument("--baseline", type=int, default=12, help="candidates of the baselines")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="work folder (default: temporary)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()

    from cryin_flows.stability.candidates import random_candidates
    from cryin_flows.stability.funnel import ScreenCriteria, prefilter
    from cryin_flows.stability.library import load_library
    from cryin_flows.stability.pipeline import compute_phase_energies, run_screen
    from cryin_flows.stability.plots import funnel_figure
    from cryin_flows.stability.relaxation import PhaseRelaxSettings, relax_many

    quiet = lambda line: None  # noqa: E731
    criteria = ScreenCriteria()
    settings = PhaseRelaxSettings(max_steps=args.max_steps, batch_size=args.batch_size)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.out or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        library = load_library()
        elements = args.elements.split("-")
        chemistry = sorted(
            set(elements)
            | library[criteria.electrolyte].elements
            | library[criteria.cathode].elements
        )
        start = time.perf_counter()
        candidates = random_candidates(elements, args.n, args.seed, args.max_atoms)
        generate_s = time.perf_counter() - start
        start = time.perf_counter()
        energies = compute_phase_energies(
            library, chemistry, "chgnet", "mp2020-included", settings, work / "phases",
            workers=args.workers, echo=quiet,
        )  # fmt: skip
        phases_s = time.perf_counter() - start
        _, kept = prefilter(candidates, criteria)
        first = kept[: args.baseline]
        seconds = {}
        for label, threads, size in (
            ("one_at_a_time_default_threads", None, 1),
            ("one_at_a_time_one_thread", 1, 1),
            ("batched", settings.threads, settings.batch_size),
        ):
            start = time.perf_counter()
            relax_many(
                first,
                "chgnet",
                settings.model_copy(update={"threads": threads, "batch_size": size}),
            )
            seconds[label] = (time.perf_counter() - start) / max(1, len(first))
            print(f"{label}: {seconds[label]:.2f} s per candidate", flush=True)
        start = time.perf_counter()
        result, _ = run_screen(
            candidates, energies, criteria, work / "screen", workers=args.workers,
            echo=lambda line: print(line, flush=True),
        )  # fmt: skip
        funnel_s = time.perf_counter() - start
        funnel_figure(result.counts, work / "funnel.png")
        relaxed = result.counts["relaxed"]
        per_candidate = funnel_s / max(1, result.counts["unique"])
        figures = {
            "n": args.n,
            "max_atoms": args.max_atoms,
            "workers": args.workers,
            "counts": result.counts,
            "survivors": result.survivors,
            "not_converged": sum(1 for c in result.candidates if c.converged is False),
            "electrolyte_window": [result.electrolyte_window.e_red, result.electrolyte_window.e_ox],
            "seconds": {
                "generate": generate_s,
                "phases": phases_s,
                "funnel": funnel_s,
                "total": generate_s + phases_s + funnel_s,
            },
            "batch_size": args.batch_size,
            "baseline_candidates": len(first),
            "seconds_per_candidate": seconds | {"funnel": per_candidate},
            "ratio_over_batched": {
                k: v / seconds["batched"] for k, v in seconds.items() if k != "batched"
            },
        }
        print(json.dumps(result.counts))
        print(
            f"{args.n} candidates, {relaxed} relaxed ({figures['not_converged']} not converged) "
            f"in {funnel_s:.0f} s with {args.workers} workers; phases {phases_s:.0f} s; total "
            f"{figures['seconds']['total'] / 60:.1f} min; per candidate {per_candidate:.1f} s; "
            f"on the first {len(first)}: one at a time over batched "
            + ", ".join(f"{k} {v:.2f}" for k, v in figures["ratio_over_batched"].items())
        )
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
