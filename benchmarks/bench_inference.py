"""What one model call costs: each model as its library calls it against as the package does.

* CHGNet: its own ASE calculator (``CHGNet.predict_graph`` takes forces and stresses as two
  gradients, each recording a graph of itself for training) against the package's
  ``get_calculator("chgnet")``, which takes both from one gradient call without that graph
  (``chgnet_results``). For ``--n`` random interfaces of ``--system`` (the demo's 80-atom
  Li2O|LiCl by default; ``lsc-lco`` for the paper's 264 atoms), energy, forces and stress of
  every structure ``--repeat`` times, atoms moved slightly each time as a relaxation does.
  Tolerances (float32 model): 1e-5 eV/atom, 1e-4 eV/Å, 1e-5 eV/Å³.
* matgl: ``matgl.load_model`` hands a potential back in training mode, where each force call
  also records the graph of its gradient; the package's loader and ``BatchedPotential`` put it
  in inference mode. The same ``BatchedPotential`` steps of an M3GNet (``--units``,
  ``--nblocks``; paper size by default) on the same interfaces, in each mode; tolerance
  1e-5 eV/atom.

Prints evaluations per second of each, their ratios and the largest differences; ``--json
FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch


def chgnet_figures(system: str, n: int, repeat: int) -> dict:
    """Evaluations per second of CHGNet's calculator and of the one-gradient one."""
    from chgnet.model.dynamics import CHGNetCalculator

    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
    from cryin_flows.interfaces.template import build_interface_template
    from cryin_flows.potentials.calculators import _chgnet_model, get_calculator

    template = build_interface_template(system)
    structures = RandomInterfaceGenerator(template).generate(n, seed=0)
    calculators = {
        "chgnet": CHGNetCalculator(model=_chgnet_model(), use_device="cpu"),
        "one_gradient": get_calculator("chgnet", device="cpu"),
    }
    rng = np.random.default_rng(0)
    moves = [rng.normal(0, 0.01, (repeat, len(template.species), 3)) for _ in range(n)]
    figures: dict = {"system": system, "atoms": len(template.species), "n": n, "repeat": repeat}
    results: dict[str, list] = {}
    for name, calculator in calculators.items():
        atoms = structures.atoms(0)
        atoms.calc = calculator
        atoms.get_stress()  # warm-up
        found, start = [], time.perf_counter()
        for i in range(n):
            atoms = structures.atoms(i)
            atoms.calc = calculator
            for move in moves[i]:
                atoms.positions += move
                found.append(
                    (
                        atoms.get_potential_energy() / len(atoms),
                        atoms.get_forces(),
                        atoms.get_stress(),
                    )
                )
        figures[f"{name}_evaluations_per_s"] = n * repeat / (time.perf_counter() - start)
        results[name] = found
    pairs = list(zip(results["chgnet"], results["one_gradient"], strict=True))
    figures["speedup"] = (
        figures["one_gradient_evaluations_per_s"] / figures["chgnet_evaluations_per_s"]
    )
    for k, key in enumerate(("energy_ev_atom", "force_ev_a", "stress_ev_a3")):
        figures[f"max_{key}_difference"] = float(max(np.abs(a[k] - b[k]).max() for a, b in pairs))
    return figures


def matgl_figures(system: str, n: int, repeat: int, units: int, nblocks: int) -> dict:
    """Evaluations per second of one ``BatchedPotential`` in training and inference mode."""
    from bench_relax import paper_potential

    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
    from cryin_flows.interfaces.template import build_interface_template
    from cryin_flows.potentials.relax import BatchedPotential

    template = build_interface_template(system)
    structures = RandomInterfaceGenerator(template).generate(n, seed=0)
    potential = paper_potential(tuple(sorted(set(template.species))), units, nblocks)
    potential.calc_stresses = True  # as the study's potentials are saved (trained on stress)
    model = BatchedPotential(potential, "cpu")
    lattice = torch.as_tensor(structures.lattice, dtype=torch.float64)
    start_positions = torch.as_tensor(
        np.array([structures.atoms(i).positions for i in range(n)]), dtype=torch.float64
    )
    figures: dict = {"matgl_units": units, "matgl_nblocks": nblocks}
    energies = {}
    for mode in ("training", "inference"):
        model.potential.train(mode == "training")
        generator = torch.Generator().manual_seed(0)
        positions = start_positions.clone()
        model(positions, lattice, structures.species)  # warm-up: Verlet lists
        start = time.perf_counter()
        for _ in range(repeat):
            positions += 0.01 * torch.randn(
                positions.shape, generator=generator, dtype=torch.float64
            )
            energy, _ = model(positions, lattice, structures.species)
        figures[f"matgl_{mode}_evaluations_per_s"] = n * repeat / (time.perf_counter() - start)
        energies[mode] = energy / len(template.species)
    figures["matgl_speedup"] = (
        figures["matgl_inference_evaluations_per_s"] / figures["matgl_training_evaluations_per_s"]
    )
    gap = (energies["training"] - energies["inference"]).abs().max()
    figures["matgl_max_energy_ev_atom_difference"] = float(gap)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--system", default="li2o-licl")
    parser.add_argument("--n", type=int, default=4, help="random interfaces")
    parser.add_argument("--repeat", type=int, default=5, help="evaluations per structure")
    parser.add_argument("--units", type=int, default=64, help="M3GNet units (paper: 64)")
    parser.add_argument("--nblocks", type=int, default=3, help="M3GNet blocks (paper: 3)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = chgnet_figures(args.system, args.n, args.repeat)
        r |= matgl_figures(args.system, args.n, args.repeat, args.units, args.nblocks)
    print(
        f"{r['n']} x {r['repeat']} evaluations of {r['atoms']}-atom {r['system']} (energy, forces, "
        f"stress): CHGNet's calculator {r['chgnet_evaluations_per_s']:.2f}/s, one gradient "
        f"{r['one_gradient_evaluations_per_s']:.2f}/s; ratio {r['speedup']:.2f}x; largest "
        f"differences {r['max_energy_ev_atom_difference']:.1e} eV/atom, "
        f"{r['max_force_ev_a_difference']:.1e} eV/Å, {r['max_stress_ev_a3_difference']:.1e} eV/Å³"
    )
    print(
        f"M3GNet ({r['matgl_units']} units, {r['matgl_nblocks']} blocks) batched, energy and "
        f"forces: training mode {r['matgl_training_evaluations_per_s']:.2f}/s, inference mode "
        f"{r['matgl_inference_evaluations_per_s']:.2f}/s; ratio {r['matgl_speedup']:.2f}x; "
        f"largest difference {r['matgl_max_energy_ev_atom_difference']:.1e} eV/atom"
    )
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    main()
