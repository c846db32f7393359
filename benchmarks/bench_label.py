"""Reference labelling (CHGNet two-stage relaxations) in worker processes vs one process.

Labels the same random interfaces twice with ``label_interfaces``: one process with all torch
threads (the baseline), then ``--workers`` spawned processes with an equal share of the threads
each. Every relaxation runs its full step budget (stage-2 threshold unreachably low), so both
layouts do the same work. The parallel time includes starting the workers and loading CHGNet in
each, as a labelling job pays it. Prints relaxation steps per second and the ratio; ``--json
FILE`` writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--system", default="li2o-licl", help="interface system (demo's default)")
    parser.add_argument("--n", type=int, default=8, help="structures to label")
    parser.add_argument("--steps", type=int, default=10, help="stage-2 steps per structure")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()

    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
    from cryin_flows.interfaces.template import build_interface_template
    from cryin_flows.potentials.calculators import get_calculator
    from cryin_flows.potentials.labelling import LabelSettings, label_interfaces

    template = build_interface_template(args.system)
    structures = RandomInterfaceGenerator(template).generate(args.n, seed=0)
    settings = LabelSettings(stage1_steps=3, stage2_fmax=1e-9, stage2_max_steps=args.steps)
    get_calculator("chgnet")  # the baseline's model load is outside its timing
    figures = {"system": args.system, "atoms": template.n_atoms, "n": args.n}
    for name, workers in (("one_process", 1), ("workers", args.workers)):
        start = time.perf_counter()
        trajectories = label_interfaces(structures, template, "chgnet", settings, workers=workers)
        seconds = time.perf_counter() - start
        steps = sum(len(t) for t in trajectories)
        figures[name] = {"workers": workers, "s": seconds, "steps_per_s": steps / seconds}
        print(
            f"{workers} process(es): {steps} CHGNet steps of {template.n_atoms} atoms in "
            f"{seconds:.1f} s = {steps / seconds:.2f} steps/s"
        )
    figures["ratio"] = figures["workers"]["steps_per_s"] / figures["one_process"]["steps_per_s"]
    print(f"{args.workers} workers vs 1 process: {figures['ratio']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
