"""Relaxation on a CPU node: worker processes x threads per process, measured.

Relaxes random 264-atom LSC|LCO interfaces with a paper-size M3GNet (one structure per call,
the CPU default) for a fixed number of FIRE steps in three layouts on the same structures:
1 process x all threads (the baseline), P processes x 1 thread (the structures split between
them, run at once) and 1 process x 1 thread. Prints structure-steps per second, the ratios and
each worker's peak memory; ``--json FILE`` writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch


def worker(threads: int, first: int, n: int, steps: int) -> None:
    """One worker: relax structures first..first+n-1 and print seconds, steps and memory."""
    torch.set_num_threads(threads)
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_relax import paper_potential

    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
    from cryin_flows.interfaces.template import build_interface_template
    from cryin_flows.potentials.relax import BatchedPotential, RelaxSettings, relax_batch

    template = build_interface_template("lsc-lco")
    generator = RandomInterfaceGenerator(template)
    structures = generator.generate(n, seed=0, start=first)
    potential = BatchedPotential(paper_potential(("Li", "Sc", "Co", "Cl", "O")))
    relax_batch(generator.generate(1, seed=99), potential, RelaxSettings(fmax=1e-9, max_steps=1))
    start = time.perf_counter()
    relax_batch(structures, potential, RelaxSettings(fmax=1e-9, max_steps=steps))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"s": time.perf_counter() - start, "steps": n * (steps + 1), "mb": peak_mb}))


def layout(processes: int, threads: int, n: int, steps: int) -> dict:
    """Structure-steps per second of ``processes`` workers sharing ``n`` structures."""
    share = n // processes
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                str(threads),
                str(k * share),
                str(share),
                str(steps),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(processes)
    ]
    outs = [json.loads(w.communicate()[0].strip().splitlines()[-1]) for w in workers]
    return {
        "processes": processes,
        "threads": threads,
        "structure_steps_per_s": sum(o["steps"] for o in outs) / max(o["s"] for o in outs),
        "peak_mb_per_process": max(o["mb"] for o in outs),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*map(int, sys.argv[2:6]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    cores = os.cpu_count() or 1
    parser.add_argument("--processes", type=int, default=cores, help="workers of 1 thread")
    parser.add_argument("--n", type=int, default=8, help="structures (split between workers)")
    parser.add_argument("--steps", type=int, default=8, help="FIRE steps per structure")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()

    baseline = layout(1, args.processes, args.n, args.steps)
    parallel = layout(args.processes, 1, args.n, args.steps)
    single = layout(1, 1, args.n // args.processes, args.steps)
    for r in (baseline, parallel, single):
        print(
            f"{r['processes']:3d} process(es) x {r['threads']} thread(s): "
            f"{r['structure_steps_per_s']:6.2f} structure-steps/s, "
            f"peak {r['peak_mb_per_process']:.0f} MB per process"
        )
    ratio = parallel["structure_steps_per_s"] / baseline["structure_steps_per_s"]
    scaling = parallel["structure_steps_per_s"] / single["structure_steps_per_s"]
    print(f"processes vs threads: {ratio:.2f}x; {args.processes} processes vs 1: {scaling:.2f}x")
    if args.json:
        figures = {"layouts": [baseline, parallel, single], "ratio": ratio, "scaling": scaling}
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
