"""Dismai-Bench at reduced scale on this machine (issue 24): CryinGAN on an alloy set, the a-Si
stand-in set and the interface set, each table beside the published rows.

For each system: build (or export) the dataset, keep ``--n-train`` structures for training and
``--n`` others as a held-out set, run ``cryin bench run`` (``--seeds`` CryinGAN runs, ``--n``
structures generated each, scored against the training set), and score the held-out set
against the same training set. The held-out row is the baseline of the same run: what a
generator that reproduced the training distribution exactly would score at this set size.

Every step is a ``cryin`` command (printed before it runs), so the run can be repeated by hand.
The interface set is a study's training set: ``--interface-project`` names the project whose
store holds one (default ``cryin_data``, where ``make demo`` puts the demo's).

``--set system.key=value`` changes a size of ``SCALE``; ``--json FILE`` writes the tables,
timings and settings.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

# per system: training and generated/held-out sizes and CryinGAN epochs, sized so that each
# system takes about a quarter of an hour on 2 CPU cores (``--set alloy.epochs=5`` changes one)
SCALE = {
    "alloy": {"n_train": 100, "n": 100, "epochs": 3},  # x 64 translations: 200 batches/epoch
    "a-si": {"n_train": 100, "n": 60, "epochs": 40},
    "interface": {"n_random": 400, "n": 40, "epochs": 100, "relax_steps": 300},
}
# CryinGAN at a quarter of the paper's widths (the CPU budget of a reduced run)
REDUCED_NETWORK = [
    "critic_channels=[128, 128, 64]",
    "head_sizes=[250, 50, 10]",
    "generator_channels=32",
    "generator_body=[64, 128, 64]",
]


def cryin(*args, log: Path) -> None:
    """Run one ``cryin`` command, its output to ``log``; stop with its tail on failure."""
    command = [str(Path(sys.executable).with_name("cryin")), *map(str, args)]
    print("$ cryin " + shlex.join(command[1:]), flush=True)
    with log.open("a") as handle:
        done = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}); the end of {log}:\n" + log.read_text()[-3000:])


def split(source: Path, out: Path, n_train: int, n_held: int) -> tuple[Path, Path]:
    """The first ``n_train`` frames for training, the next ``n_held`` held out."""
    from ase.io import read, write

    frames = read(source, index=":")
    if len(frames) < n_train + n_held:
        sys.exit(f"{source} has {len(frames)} structures; {n_train} + {n_held} asked for")
    train, held = out / "train.extxyz", out / "held_out.extxyz"
    write(train, frames[:n_train], format="extxyz")
    write(held, frames[n_train : n_train + n_held], format="extxyz")
    return train, held


def run_system(system: str, training: Path, held: Path, out: Path, args, extra: list) -> dict:
    """``cryin bench run`` and the held-out score; the table with the held-out row."""
    from cryin_flows.bench.systems import get_system

    log, scale = out / "log.txt", args.scale[system]
    start = time.perf_counter()
    gan = [f"epochs={scale['epochs']}", f"batch_size={args.batch_size}", *REDUCED_NETWORK]
    run = ["bench", "run", system, "--training", training, "--seeds", args.seeds]
    run += ["--n", scale["n"]]
    run += ["--project-dir", out / "project", *extra]
    for pair in gan:
        run += ["--gan", pair]
    cryin(*run, log=log)
    gan_seconds = time.perf_counter() - start
    score = ["bench", "score", system, "--training", training, "--generated", held]
    score += ["--out", out / "held_out_score"]
    if system == "interface":
        score += ["--template", training.parent / "template.json"]
    cryin(*score, log=log)
    table = (out / "project" / "bench" / f"{system}_{training.stem}" / "table.md").read_text()
    metrics = json.loads((out / "held_out_score" / "score.json").read_text())["metrics"]
    names = [c.strip() for c in table.splitlines()[0].strip("|").split("|")][2:]
    from cryin_flows.bench.tables import value_of

    cells = [f"{value_of(metrics[n]):.3g}" if n in metrics else "" for n in names]
    held_row = f"| held-out set ({scale['n']}) | this run (1) | " + " | ".join(cells) + " |"
    lines = table.rstrip().splitlines()
    table = "\n".join([*lines[:3], held_row, *lines[3:]])
    print(f"\n{system} ({get_system(system).description}):\n{table}\n", flush=True)
    return {"table": table, "held_out": metrics, "scale": scale, "gan_seconds": gan_seconds}


def alloy(root: Path, args) -> dict:
    out, scale = root / "alloy", args.scale["alloy"]
    out.mkdir(parents=True, exist_ok=True)
    cryin(
        "bench", "dataset", "alloy", "--out", out / "sets", "--set", "temperatures=[1500]",
        "--set", f"sets.size={scale['n_train'] + scale['n']}", log=out / "log.txt",
    )  # fmt: skip
    train, held = split(
        out / "sets" / "alloy_1500K_narrow.extxyz", out, scale["n_train"], scale["n"]
    )
    return run_system("alloy", train, held, out, args, ["--dataset", "alloy 1500K narrow"])


def silicon(root: Path, args) -> dict:
    out, scale = root / "a-si", args.scale["a-si"]
    out.mkdir(parents=True, exist_ok=True)
    cryin(
        "bench", "dataset", "a-si", "--out", out / "sets",
        "--set", f"melt_quench.repeats={args.si_repeats}",
        "--set", f"melt_quench.quench_rate={args.si_quench_rate}",
        "--set", f"blocks.n_blocks={scale['n_train'] + scale['n']}", log=out / "log.txt",
    )  # fmt: skip
    train, held = split(out / "sets" / "a_si_blocks.extxyz", out, scale["n_train"], scale["n"])
    return run_system("a-si", train, held, out, args, [])


def interface(root: Path, args) -> dict:
    """The demo study's template and potential; a larger set made the study's way (random
    interfaces relaxed with its potential, γ̃ with its e_ref, γ̃ <= 0 kept)."""
    out, scale = root / "interface", args.scale["interface"]
    out.mkdir(parents=True, exist_ok=True)
    log = out / "log.txt"
    cryin(
        "bench", "dataset", "interface", "--out", out / "sets",
        "--set", f"project_dir={args.interface_project.resolve()}", log=log,
    )  # fmt: skip
    summary = json.loads((out / "sets" / "dataset.json").read_text())["summary"]
    template, potential = out / "template.json", summary["potential_dir"]
    template.write_bytes((out / "sets" / "template.json").read_bytes())
    random, relaxed, low = (out / f"{n}.extxyz" for n in ("random", "relaxed", "low_energy"))
    cryin("interfaces", "generate", "--template", template, "--n", scale["n_random"],
          "--seed", 1000, "--out", random, log=log)  # fmt: skip
    cryin("relax", random, "--potential", potential, "--out", relaxed, log=log)
    cryin("energy", relaxed, "--template", template, "--e-ref", summary["e_ref"],
          "--training-set", low, log=log)  # fmt: skip
    from ase.io import read

    n_low = len(read(low, index=":"))
    train, held = split(low, out, n_low - scale["n"], scale["n"])
    # the paper's 0.05 eV/Å, at most relax_steps FIRE steps (converged share reported)
    extra = ["--score", f"relax={potential}", "--score", f"relax_steps={scale['relax_steps']}"]
    return run_system("interface", train, held, out, args, extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/dismai"))
    parser.add_argument("--systems", default="alloy,a-si,interface")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--set", action="append", default=[], help="system.key=value on SCALE, e.g. alloy.n=50"
    )
    parser.add_argument("--si-repeats", type=int, default=6, help="a-Si cell: 8 n^3 atoms")
    parser.add_argument("--si-quench-rate", type=float, default=20.0, help="K/ps")
    parser.add_argument("--interface-project", type=Path, default=Path("cryin_data"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.scale = {k: dict(v) for k, v in SCALE.items()}
    for pair in args.set:
        key, _, value = pair.partition("=")
        system, _, name = key.partition(".")
        if name not in args.scale.get(system, {}):
            parser.error(f"--set {pair}: use system.key=value with a key of {SCALE}")
        args.scale[system][name] = int(value)
    runners = {"alloy": alloy, "a-si": silicon, "interface": interface}
    results = {}
    for system in args.systems.split(","):
        start = time.perf_counter()
        results[system] = runners[system](args.out, args)
        results[system]["seconds"] = time.perf_counter() - start
    for system, result in results.items():
        print(f"{system}: {result['seconds'] / 60:.1f} min\n{result['table']}\n")
    if args.json:
        settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        args.json.write_text(json.dumps({"settings": settings, "results": results}, indent=1))


if __name__ == "__main__":
    main()
