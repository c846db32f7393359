"""One command for the GPU figures: relaxation, GAN training step, generation, CHGNet labels.

1. Relaxation throughput: random 264-atom LSC|LCO interfaces, paper-size M3GNet, in-flight
   batched (``relax_batch``) against one at a time through ASE on the same device.
2. One CryinGAN training batch (B = 32, N = 264, λ = 0.05): this implementation against the
   published step re-stated (27-image k-NN), in the same run; and in tf32 and bfloat16.
3. Sampling and cleaning 1,000 structures.
4. CHGNet labelling throughput: single points of 80-atom Li2O|LiCl interfaces, the package's
   batched one-gradient prediction (``chgnet_results``, 16 per call) against one at a time
   through CHGNet's own ASE calculator.
5. MD throughput: Nosé-Hoover runs of 264-atom interfaces, all on the device with one model
   call per step, against one at a time through ASE (``bench_md.py``).

Writes a markdown table (stdout, and ``--markdown FILE``) and ``--json FILE``. ``--smoke``
runs tiny sizes on the CPU in well under a minute (the tests run it); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))

from bench_gan import time_steps
from bench_md import md_figures
from bench_relax import measure

FULL = {
    "relax_n": 64,
    "relax_steps": 10,
    "per_call": 16,
    "units": 64,
    "nblocks": 3,
    "gan_batch": 32,
    "gan_steps": 5,
    "n_generate": 1000,
    "n_label": 32,
    "md_n": 16,
    "md_steps": 20,
}
SMOKE = {
    "relax_n": 3,
    "relax_steps": 2,
    "per_call": 2,
    "units": 8,
    "nblocks": 1,
    "gan_batch": 4,
    "gan_steps": 1,
    "n_generate": 20,
    "n_label": 2,
    "md_n": 2,
    "md_steps": 2,
}


def gan_figures(sizes: dict, device: str) -> dict:
    """Seconds per training batch (ours, published k-NN) and to sample + clean structures."""
    from cryin_flows.gan.config import GanConfig
    from cryin_flows.gan.dataset import GanDataset
    from cryin_flows.gan.distances import brute_force_neighbour_distances
    from cryin_flows.gan.generate import load_generator, move_apart, sample_coordinates
    from cryin_flows.gan.training import GanTrainer
    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
    from cryin_flows.interfaces.template import build_interface_template

    template = build_interface_template("lsc-lco")
    structures = RandomInterfaceGenerator(template).generate(max(sizes["gan_batch"], 8), seed=0)
    dataset = GanDataset.from_interface_set(structures)
    config = GanConfig(bond_weight=0.05, batch_size=sizes["gan_batch"], device=device)
    by_precision = {}
    for precision in ("tf32", "bfloat16"):
        with tempfile.TemporaryDirectory() as run_dir:
            changed = config.model_copy(update={"precision": precision})
            by_precision[precision] = time_steps(
                GanTrainer(dataset, changed, run_dir), sizes["gan_steps"]
            )
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = GanTrainer(dataset, config, run_dir)
        ours = time_steps(trainer, sizes["gan_steps"])
        trainer.distance_fn = brute_force_neighbour_distances
        published = time_steps(trainer, sizes["gan_steps"])
        trainer.save_generator()
        start = time.perf_counter()
        frac = sample_coordinates(load_generator(run_dir), sizes["n_generate"], seed=0)
        sampling = time.perf_counter() - start
    start = time.perf_counter()
    move_apart(frac, structures.lattice)
    cleaning = time.perf_counter() - start
    return {
        "gan_batch_s": ours,
        "gan_batch_published_s": published,
        "gan_speedup": published / ours,
        "gan_batch_tf32_s": by_precision["tf32"],
        "gan_batch_bfloat16_s": by_precision["bfloat16"],
        "sample_s": sampling,
        "clean_s": cleaning,
        "n_generate": sizes["n_generate"],
    }


def chgnet_figures(n: int, device: str) -> dict:
    """Structures per second of CHGNet single points, batched and one at a time."""
    from chgnet.model import CHGNet
    from chgnet.model.dynamics import CHGNetCalculator

    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
    from cryin_flows.interfaces.template import build_interface_template
    from cryin_flows.potentials.calculators import chgnet_results

    template = build_interface_template("li2o-licl")
    structures = RandomInterfaceGenerator(template).generate(n, seed=0)
    model = CHGNet.load(verbose=False).to(device)
    atoms = [structures.atoms(i) for i in range(n)]
    chgnet_results(model, atoms[:1])  # warm-up
    start = time.perf_counter()
    for first in range(0, n, 16):
        chgnet_results(model, atoms[first : first + 16])
    batched = time.perf_counter() - start
    calculator = CHGNetCalculator(model=model, use_device=device)
    start = time.perf_counter()
    for one in atoms:
        one = one.copy()
        one.calc = calculator
        one.get_forces()
    serial = time.perf_counter() - start
    return {
        "chgnet_structures": n,
        "chgnet_batched_per_s": n / batched,
        "chgnet_serial_per_s": n / serial,
        "chgnet_speedup": serial / batched,
    }


def table(r: dict) -> str:
    """The figures as a markdown table."""
    rows = [
        ("device", r["device_name"], ""),
        ("jobs on device 'auto'", r["auto_device"], "the GPU on a GPU node"),
        (
            "relaxation, in-flight batched",
            f"{r['batched_structure_steps_per_s']:.1f}",
            f"structure-steps/s ({r['per_call']} per call); "
            f"{3600 * r['batched_structure_steps_per_s'] / 1000:.0f} structures/h at 1,000 steps",
        ),
        (
            "relaxation, one at a time (ASE)",
            f"{r['serial_structure_steps_per_s']:.1f}",
            f"structure-steps/s; batched is {r['speedup_vs_serial']:.2f}x",
        ),
        (
            "relaxation host overhead",
            f"{r['host_ms_per_structure_step']:.2f}",
            f"ms per structure-step (earlier path {r['baseline_host_ms_per_structure_step']:.2f})",
        ),
        (
            "GAN training batch",
            f"{1000 * r['gan_batch_s']:.1f}",
            f"ms (published k-NN: {1000 * r['gan_batch_published_s']:.1f} ms, "
            f"{r['gan_speedup']:.2f}x)",
        ),
        (
            "GAN training batch, tf32 / bfloat16",
            f"{1000 * r['gan_batch_tf32_s']:.1f} / {1000 * r['gan_batch_bfloat16_s']:.1f}",
            f"ms ({r['gan_batch_s'] / r['gan_batch_tf32_s']:.2f}x / "
            f"{r['gan_batch_s'] / r['gan_batch_bfloat16_s']:.2f}x float32; tf32 is float32 "
            "on CPU)",
        ),
        (
            f"sample + clean {r['n_generate']}",
            f"{r['sample_s'] + r['clean_s']:.2f}",
            f"s (sample {r['sample_s']:.2f}, clean {r['clean_s']:.2f})",
        ),
        (
            "CHGNet single points, batched",
            f"{r['chgnet_batched_per_s']:.2f}",
            f"structures/s ({r['chgnet_structures']} × 80 atoms; one at a time "
            f"{r['chgnet_serial_per_s']:.2f}/s, {r['chgnet_speedup']:.2f}x)",
        ),
        (
            "MD, batched on the device",
            f"{r['md_batched_run_steps_per_s']:.2f}",
            f"run-steps/s ({r['md_runs']} × {r['md_atoms']} atoms; one at a time through ASE "
            f"{r['md_serial_run_steps_per_s']:.2f}/s, {r['md_speedup']:.2f}x; energies agree to "
            f"{r['md_energy_gap_ev_atom']:.1e} eV/atom after {r['md_steps']} steps)",
        ),
    ]
    lines = ["| figure | value | unit and comparison |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def auto_devices() -> str:
    """Where jobs left on ``auto`` (the default) run on this node: relaxation, CryinGAN and
    the CHGNet reference calculator. On a GPU node every one should name the GPU."""
    from cryin_flows.devices import describe_device, resolve_device
    from cryin_flows.potentials.calculators import calculator_device, get_calculator

    torch_auto = describe_device(resolve_device("auto"))
    return f"relax/GAN {torch_auto}, CHGNet {calculator_device(get_calculator('chgnet'))}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU")
    parser.add_argument("--device", default=None, help="cpu | cuda (default: cuda if present)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--markdown", type=Path, help="write the table to this file")
    args = parser.parse_args()

    sizes = SMOKE if args.smoke else FULL
    device = args.device or ("cpu" if args.smoke or not torch.cuda.is_available() else "cuda")
    start = time.perf_counter()
    r = measure(
        sizes["relax_n"],
        sizes["relax_steps"],
        sizes["per_call"],
        device,
        serial=True,
        units=sizes["units"],
        nblocks=sizes["nblocks"],
    )
    r.update(gan_figures(sizes, device))
    r.update(chgnet_figures(sizes["n_label"], device))
    r.update(md_figures(sizes["md_n"], sizes["md_steps"], device, sizes["units"], sizes["nblocks"]))
    r["auto_device"] = auto_devices()
    r["device_name"] = (
        torch.cuda.get_device_name(0)
        if device == "cuda"
        else f"CPU ({platform.machine()}, {os.cpu_count()} cores)"
    )
    r["smoke"] = args.smoke
    r["sizes"] = sizes
    r["wall_s"] = time.perf_counter() - start
    text = table(r)
    print(text)
    print(f"\n{r['wall_s']:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps(r, indent=1, default=float))
    if args.markdown:
        args.markdown.write_text(text + "\n")
    assert np.isfinite(r["gan_batch_s"]) and r["batched_structure_steps_per_s"] > 0


if __name__ == "__main__":
    main()
