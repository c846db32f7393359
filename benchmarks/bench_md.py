"""Batched MD against one run at a time through ASE (issue 23).

``--n`` random 264-atom LSC|LCO interfaces (paper-size M3GNet, freshly initialised: speed does
not depend on the weights) run ``--steps`` Nosé-Hoover steps at 800 K:

* batched: every run's state on the device, one model call per step for all of them
  (``cryin_flows.dynamics``: ``MDState`` + ``NoseHoover`` + the relaxer's ``BatchedPotential``);
* one at a time: ASE's ``NoseHooverChainNVT`` with matgl's ASE calculator, the same starting
  positions and momenta.

Prints run-steps per second of both and their ratio, and the largest difference of the
potential energies after the last step (the two build their graphs differently, float32
round-off grows along a trajectory; stated tolerance 1e-3 eV/atom after 20 steps).
``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch


def md_figures(n: int, steps: int, device: str, units: int = 64, nblocks: int = 3) -> dict:
    """Run-steps per second, batched and one at a time, and the energy agreement."""
    from ase.md.nose_hoover_chain import NoseHooverChainNVT
    from ase.units import fs
    from bench_relax import paper_potential
    from matgl.ext.ase import PESCalculator

    from cryin_flows.dynamics.forces import potential_forces
    from cryin_flows.dynamics.integrators import MDState, NoseHoover, run
    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
    from cryin_flows.interfaces.template import build_interface_template
    from cryin_flows.potentials.relax import BatchedPotential

    template = build_interface_template("lsc-lco")
    structures = RandomInterfaceGenerator(template).generate(n, seed=0)
    potential = paper_potential(tuple(sorted(set(template.species))), units, nblocks)
    atoms = [structures.atoms(i) for i in range(n)]
    model = BatchedPotential(potential, device)
    fn = potential_forces(model, atoms[0].cell[:], atoms[0].get_chemical_symbols())
    state = MDState(
        fn, [a.positions for a in atoms], [a.get_masses() for a in atoms], [800.0] * n,
        device=model.device,
    )  # fmt: skip
    state.maxwell_boltzmann(seed=0)
    momenta = state.momenta.cpu().numpy()
    run(state, NoseHoover(tdamp_fs=25.0), 1, 2.0)  # warm-up (graphs, lists)
    state.positions = torch.as_tensor(np.array([a.positions for a in atoms]), device=model.device)
    state.momenta = torch.as_tensor(momenta, device=model.device)
    state.update_forces()
    ensemble = NoseHoover(tdamp_fs=25.0)
    start = time.perf_counter()
    run(state, ensemble, steps, 2.0)
    if model.device.type == "cuda":
        torch.cuda.synchronize()
    batched = time.perf_counter() - start
    calculator = PESCalculator(potential.to(model.device) if device != "cpu" else potential)
    energies, start = [], time.perf_counter()
    for a, p in zip(atoms, momenta, strict=True):
        a = a.copy()
        a.calc = calculator
        a.set_momenta(p)
        NoseHooverChainNVT(a, 2.0 * fs, temperature_K=800.0, tdamp=25.0 * fs).run(steps)
        energies.append(a.get_potential_energy())
    serial = time.perf_counter() - start
    gap = np.abs(np.array(energies) - state.energies.cpu().numpy()).max() / len(atoms[0])
    return {
        "md_runs": n,
        "md_steps": steps,
        "md_atoms": len(atoms[0]),
        "md_batched_run_steps_per_s": n * steps / batched,
        "md_serial_run_steps_per_s": n * steps / serial,
        "md_speedup": serial / batched,
        "md_energy_gap_ev_atom": float(gap),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=8, help="runs side by side")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--nblocks", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    r = md_figures(args.n, args.steps, args.device, args.units, args.nblocks)
    print(
        f"{r['md_runs']} runs x {r['md_steps']} steps of {r['md_atoms']} atoms on {args.device}: "
        f"batched {r['md_batched_run_steps_per_s']:.2f} run-steps/s, one at a time (ASE) "
        f"{r['md_serial_run_steps_per_s']:.2f}; ratio {r['md_speedup']:.2f}x; energies after "
        f"the last step agree to {r['md_energy_gap_ev_atom']:.1e} eV/atom"
    )
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    main()
