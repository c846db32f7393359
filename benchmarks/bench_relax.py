"""Batched relaxation: host overhead per structure-step, and speed against one-at-a-time ASE.

Relaxes random 264-atom LSC|LCO interfaces with a paper-size M3GNet (freshly initialised:
speed does not depend on the weights) for a fixed number of FIRE steps each:

* batched (``relax_batch``: device FIRE, vesin neighbour lists, in-flight batching) with
  ``--per-call`` structures per model call. Host overhead = everything outside the model's
  forward and force pass, per structure-step, measured over ``--host-steps`` steps with a
  narrow model of the same cutoffs (host work depends on the graph, not on the model's
  width). Target: <= 0.5 ms at 16 per call on CPU.
* the host work the earlier path did per structure-step, measured on the same structures:
  matgl's ``Atoms2Graph`` (ASE neighbour list) plus a numpy FIRE step (the baseline).
* one structure at a time through matgl's ASE calculator and ``ase.optimize.FIRE``.

Prints the figures and ratios; ``--json FILE`` writes them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch


def paper_potential(elements: tuple[str, ...], units: int = 64, nblocks: int = 3):
    """An M3GNet potential, by default paper-size (matgl's defaults: 64 units, 3 blocks)."""
    from matgl.apps.pes import Potential
    from matgl.models import M3GNet

    torch.manual_seed(0)
    model = M3GNet(
        element_types=elements,
        units=units,
        nblocks=nblocks,
        dim_node_embedding=units,
        dim_edge_embedding=units,
        is_intensive=False,
    )
    return Potential(model=model, calc_stresses=False)


def baseline_host_seconds(structures, potential, repeats: int = 3) -> float:
    """Seconds per structure-step of the earlier host path: ASE-neighbour-list graph + numpy
    FIRE step (the model call itself excluded)."""
    from matgl.ext.ase import Atoms2Graph

    model = potential.model
    converter = Atoms2Graph(model.element_types, model.cutoff)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    n = 0
    for _ in range(repeats):
        for i in range(len(structures)):
            atoms = structures.atoms(i)
            converter.get_graph(atoms)
            forces = rng.normal(size=(len(atoms), 3))
            velocity = rng.normal(size=(len(atoms), 3))
            vf = np.vdot(forces, velocity)  # the numpy FIRE step, as ase.optimize.FIRE does it
            velocity = 0.9 * velocity + 0.1 * forces / np.sqrt(np.vdot(forces, forces)) * np.sqrt(
                np.vdot(velocity, velocity)
            ) * (vf > 0)
            velocity += 0.1 * forces
            dr = 0.1 * velocity
            atoms.positions = atoms.positions + dr * min(1.0, 0.2 / np.sqrt(np.vdot(dr, dr)))
            n += 1
    return (time.perf_counter() - start) / n


def measure(
    n: int,
    steps: int,
    per_call: int,
    device: str,
    serial: bool,
    units: int = 64,
    nblocks: int = 3,
    host_steps: int = 30,
) -> dict:
    """The figures of one run (see the module docstring)."""
    from ase.optimize import FIRE
    from matgl.ext.ase import PESCalculator

    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
    from cryin_flows.interfaces.template import build_interface_template
    from cryin_flows.potentials.relax import BatchedPotential, RelaxSettings, relax_batch

    template = build_interface_template("lsc-lco")
    structures = RandomInterfaceGenerator(template).generate(n, seed=0)
    warm_up = RandomInterfaceGenerator(template).generate(1, seed=1)
    n_atoms = len(structures.species)
    potential = paper_potential(("Li", "Sc", "Co", "Cl", "O"), units, nblocks)
    model = BatchedPotential(potential, device)
    # an unreachable threshold: every structure takes exactly `steps` steps
    settings = RelaxSettings(
        fmax=1e-9, max_steps=steps, max_atoms=per_call * n_atoms, device=device
    )
    relax_batch(warm_up, model, settings.model_copy(update={"max_steps": 1}))
    model.model_seconds = 0.0  # the warm-up call above is not counted
    start = time.perf_counter()
    relax_batch(structures, model, settings)
    batched = time.perf_counter() - start
    structure_steps = n * (steps + 1)  # steps + the final evaluation

    # Host overhead does not depend on the model's width: measure it over a relaxation of
    # `host_steps` steps (one-off costs amortised as in a real run) with a narrow model of the
    # same cutoffs (the same graphs), so that the model's time does not drown it.
    narrow = BatchedPotential(paper_potential(("Li", "Sc", "Co", "Cl", "O"), 8, 1), device)
    relax_batch(warm_up, narrow, settings.model_copy(update={"max_steps": 1}))
    narrow.model_seconds = 0.0
    start = time.perf_counter()
    relax_batch(structures, narrow, settings.model_copy(update={"max_steps": host_steps}))
    host = (time.perf_counter() - start - narrow.model_seconds) / (n * (host_steps + 1))
    baseline = baseline_host_seconds(structures, potential)
    out = {
        "device": device,
        "structures": n,
        "atoms": n_atoms,
        "steps": steps,
        "host_steps": host_steps,
        "per_call": per_call,
        "batched_s": batched,
        "model_s": model.model_seconds,
        "host_ms_per_structure_step": 1000 * host,
        "baseline_host_ms_per_structure_step": 1000 * baseline,
        "host_ratio": baseline / host,
        "batched_structure_steps_per_s": structure_steps / batched,
    }
    if serial:
        calculator = PESCalculator(potential.to(device), stress_unit="eV/A3")
        start = time.perf_counter()
        for i in range(n):
            atoms = structures.atoms(i)
            atoms.calc = calculator
            FIRE(atoms, logfile=None, maxstep=0.2).run(fmax=1e-9, steps=steps)
        one_by_one = time.perf_counter() - start
        out["serial_s"] = one_by_one
        out["serial_structure_steps_per_s"] = structure_steps / one_by_one
        out["speedup_vs_serial"] = one_by_one / batched
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=16, help="structures")
    parser.add_argument("--steps", type=int, default=5, help="FIRE steps per structure")
    parser.add_argument("--per-call", type=int, default=16, help="structures per model call")
    parser.add_argument(
        "--host-steps", type=int, default=30, help="steps of the host-overhead relaxation"
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--no-serial", action="store_true", help="skip one-at-a-time ASE")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()

    r = measure(
        args.n,
        args.steps,
        args.per_call,
        args.device,
        not args.no_serial,
        host_steps=args.host_steps,
    )
    print(f"device                   : {r['device']}")
    print(
        f"structures x steps       : {r['structures']} x {r['steps']} ({r['atoms']} atoms "
        f"each), {r['per_call']} per model call"
    )
    print(
        f"batched                  : {r['batched_s']:.1f} s, of which model "
        f"{r['model_s']:.1f} s; {r['batched_structure_steps_per_s']:.2f} structure-steps/s"
    )
    print(
        f"host overhead            : {r['host_ms_per_structure_step']:.2f} ms per "
        f"structure-step over {r['host_steps']} steps (target <= 0.5 ms on CPU at 16 per call)"
    )
    print(
        f"earlier host path        : {r['baseline_host_ms_per_structure_step']:.2f} ms "
        f"(ASE neighbour list graph + numpy FIRE): {r['host_ratio']:.1f}x more"
    )
    if "serial_s" in r:
        print(
            f"one at a time (ASE)      : {r['serial_s']:.1f} s; batched is "
            f"{r['speedup_vs_serial']:.2f}x"
        )
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
