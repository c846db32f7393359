"""Batched relaxation vs one structure at a time with ASE, same potential and FIRE settings.

Relaxes 16 random 264-atom LSC|LCO interfaces with an M3GNet potential (paper size, freshly
initialised: speed does not depend on the weights) for a fixed number of FIRE steps each, once
batched (one model call per 16 structures) and once one at a time through matgl's ASE
calculator and ase.optimize.FIRE; prints structures per hour at 1,000 steps and the ratio.
Target: >= 3x on the 2-core CPU.
"""

from __future__ import annotations

import argparse
import time

import torch
from ase.optimize import FIRE
from matgl.apps.pes import Potential
from matgl.ext.ase import PESCalculator
from matgl.models import M3GNet

from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
from cryin_flows.interfaces.template import build_interface_template
from cryin_flows.potentials.relax import BatchedPotential, RelaxSettings, relax_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=16, help="structures")
    parser.add_argument("--steps", type=int, default=10, help="FIRE steps per structure")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, default=0, help="0 = all structures at once")
    args = parser.parse_args()

    torch.manual_seed(0)
    template = build_interface_template("lsc-lco")
    structures = RandomInterfaceGenerator(template).generate(args.n, seed=0)
    model = M3GNet(element_types=("Li", "Sc", "Co", "Cl", "O"), is_intensive=False)
    potential = Potential(model=model, calc_stresses=False)
    # an unreachable threshold: every structure takes exactly --steps steps
    batch = args.batch_size or args.n
    settings = RelaxSettings(fmax=1e-9, max_steps=args.steps, batch_size=batch, device=args.device)

    start = time.perf_counter()
    relax_batch(structures, potential, settings)
    batched = time.perf_counter() - start

    calculator = PESCalculator(potential.to(args.device), stress_unit="eV/A3")
    start = time.perf_counter()
    for i in range(len(structures)):
        atoms = structures.atoms(i)
        atoms.calc = calculator
        FIRE(atoms, logfile=None, maxstep=0.2).run(fmax=1e-9, steps=args.steps)
    serial = time.perf_counter() - start

    # where one call's time goes: graph construction (the only per-structure overhead that
    # batching could amortise) versus the model's forward and force (backward) pass
    model_calls = BatchedPotential(potential, args.device)
    atoms = structures.atoms(0)
    start = time.perf_counter()
    for _ in range(5):
        model_calls.converter.get_graph(atoms)
    graph_s = (time.perf_counter() - start) / 5
    start = time.perf_counter()
    for _ in range(5):
        model_calls([atoms])
    call_s = (time.perf_counter() - start) / 5

    per_hour = 3600 * args.n * args.steps / 1000
    print(f"device                 : {args.device}")
    print(
        f"structures x steps     : {args.n} x {args.steps} (264 atoms each), "
        f"batch size {settings.batch_size}"
    )
    print(
        f"batched                : {per_hour / batched:8.1f} structures/hour at 1,000 steps "
        f"({batched:.1f} s)"
    )
    print(
        f"one at a time (ASE)    : {per_hour / serial:8.1f} structures/hour at 1,000 steps "
        f"({serial:.1f} s)"
    )
    print(f"speed-up               : {serial / batched:8.2f}x (target >= 3x on 2 CPU cores)")
    print(
        f"one call, one structure: {call_s * 1000:.0f} ms, of which graph construction "
        f"{graph_s * 1000:.1f} ms ({100 * graph_s / call_s:.1f} %)"
    )


if __name__ == "__main__":
    main()
