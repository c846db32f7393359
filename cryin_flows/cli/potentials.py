"""``cryin label``, ``cryin potential train``, ``cryin relax``, ``cryin energy``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryin_flows.cli.common import (
    PresetOpt,
    TemplateOpt,
    console,
    err_console,
    friendly_errors,
    given,
    load_template,
    progress_bar,
    read_fitting,
)

app = typer.Typer(help="Train and check M3GNet potentials.", no_args_is_help=True)


@friendly_errors
def label_command(
    structures_file: Annotated[Path, typer.Argument(help="Random interfaces (extxyz)")],
    out: Annotated[Path, typer.Option("--out", help="Folder for trajectories and frames")],
    calculator: Annotated[
        str | None,
        typer.Option("--calculator", help="chgnet (default), or an ASE calculator 'module:Class'"),
    ] = None,
    stage1_steps: Annotated[
        int | None, typer.Option("--stage1-steps", help="Region-only steps")
    ] = None,
    fmax: Annotated[
        float | None, typer.Option("--fmax", help="Stage-2 force threshold, eV/Å")
    ] = None,
    max_steps: Annotated[int | None, typer.Option("--max-steps", help="Stage-2 step limit")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Split seed")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Processes relaxing side by side", min=1)
    ] = None,
    n_per_bulk: Annotated[
        int | None,
        typer.Option("--n-per-bulk", help="Bulk-cell labels per bulk (substrate and film)"),
    ] = None,
    contacts: Annotated[
        int | None, typer.Option("--contacts", help="Close-contact labels per relaxation")
    ] = None,
    template_file: TemplateOpt = None,
    preset: PresetOpt = "lsc-lco",
) -> None:
    """Two-stage reference relaxations, bulk-cell and close-contact labels (as the label job
    makes them); trajectories and train/val/test frames into OUT.

    Options left out take LabelMaker's, LabelSettings' and FramesMaker's defaults (the paper's).
    """
    from monty.serialization import dumpfn

    from cryin_flows.makers.potentials import FramesMaker, LabelMaker, label_dataset
    from cryin_flows.potentials.frames import write_frame_splits
    from cryin_flows.potentials.labelling import LabelSettings

    template = load_template(template_file, preset)
    structures = read_fitting(structures_file, template)
    settings = LabelSettings(
        **given(stage1_steps=stage1_steps, stage2_fmax=fmax, stage2_max_steps=max_steps)
    )
    maker = LabelMaker(
        settings=settings,
        **given(calculator=calculator, workers=workers, n_per_bulk=n_per_bulk, n_contacts=contacts),
    )
    frames = FramesMaker(**given(seed=seed))
    with progress_bar() as progress:
        task = progress.add_task("reference relaxations", total=len(structures))
        trajectories = label_dataset(
            maker, structures, template, lambda k: progress.advance(task, k)
        )
    out.mkdir(parents=True, exist_ok=True)
    dumpfn(trajectories, out / "trajectories.json.gz")
    split, counts, _ = write_frame_splits(
        trajectories, out, frames.first_step, frames.every, frames.fractions, frames.seed
    )
    n = len(structures)
    converged = sum(t.converged for t in trajectories[:n])
    console.print(
        f"{n} relaxations ({converged} converged) and {len(trajectories) - n} single-point "
        f"labels (bulk cells, contacts); {sum(counts.values())} frames split "
        f"{', '.join(f'{k} {len(v)}' for k, v in split.items())} relaxations, in {out}"
    )
    empty = [name for name, members in split.items() if not members]
    if empty:
        err_console.print(
            f"[yellow]Note:[/] no frames for {', '.join(empty)}: relaxations are split whole, "
            f"and {n} cannot fill train, val and test; `cryin potential train` "
            "needs all three, so label at least 3 structures"
        )


@app.command("train")
@friendly_errors
def potential_train(
    frames_dir: Annotated[Path, typer.Argument(help="Folder with train/val/test.extxyz")],
    out: Annotated[Path, typer.Option("--out", help="Output folder")],
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate")] = None,
    batch: Annotated[int | None, typer.Option("--batch", help="Batch size")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="Epoch limit")] = None,
    patience: Annotated[
        int | None, typer.Option("--patience", help="Early-stopping patience")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed")] = None,
    units: Annotated[int | None, typer.Option("--units", help="M3GNet hidden units")] = None,
    nblocks: Annotated[int | None, typer.Option("--nblocks", help="M3GNet blocks")] = None,
    init_from: Annotated[
        Path | None,
        typer.Option(
            "--init-from",
            help="Fine-tune this potential (a folder as --potential takes) instead of starting "
            "from scratch; its units, blocks and cutoffs are kept",
        ),
    ] = None,
) -> None:
    """Train an M3GNet potential from scratch (or fine-tune one); MAEs per split and a parity
    plot.

    Options left out take M3GNetSettings' defaults (the paper's). The model is saved in
    OUT/potential; `cryin relax --potential` takes OUT or OUT/potential.
    """
    from cryin_flows.potentials.m3gnet import M3GNetSettings, train_m3gnet

    settings = M3GNetSettings(
        **given(
            learning_rate=lr,
            batch_size=batch,
            max_epochs=epochs,
            patience=patience,
            seed=seed,
            units=units,
            nblocks=nblocks,
        )
    )
    with err_console.status("training M3GNet"):
        summary = train_m3gnet(frames_dir, out, settings, init_from)
    if summary.init_from:
        console.print(f"fine-tuned from {summary.init_from}")
    for split, m in summary.metrics.items():
        console.print(f"{split:5s}: {m.errors_text()} ({m.n_frames} frames)")
    console.print(f"potential: [bold]{summary.potential_dir}[/], parity plot {summary.parity_plot}")


@friendly_errors
def relax_command(
    structures_file: Annotated[Path, typer.Argument(help="Structures to relax (extxyz)")],
    potential: Annotated[
        Path,
        typer.Option("--potential", help="Saved potential folder (or `potential train`'s OUT)"),
    ],
    out: Annotated[Path, typer.Option("--out", help="Relaxed structures (extxyz)")],
    fmax: Annotated[float | None, typer.Option("--fmax", help="Force threshold, eV/Å")] = None,
    max_steps: Annotated[int | None, typer.Option("--max-steps", help="Step limit")] = None,
    max_atoms: Annotated[
        int | None,
        typer.Option("--max-atoms", help="Atoms per model call (whole structures share it)"),
    ] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu or cuda")] = None,
) -> None:
    """Batched fixed-cell FIRE relaxation; resumable (OUT.jsonl), per-structure CSV beside OUT.

    Options left out take RelaxSettings' defaults (the paper's: 0.05 eV/Å, 1,000 steps).
    """
    import csv

    from cryin_flows.interfaces.interface_set import InterfaceSet
    from cryin_flows.potentials.m3gnet import load_potential
    from cryin_flows.potentials.relax import RelaxSettings, relax_batch

    structures = InterfaceSet.read_extxyz(structures_file)
    settings = RelaxSettings(
        **given(fmax=fmax, max_steps=max_steps, max_atoms=max_atoms, device=device)
    )
    pot = load_potential(potential)
    with progress_bar() as progress:
        task = progress.add_task("relaxing", total=len(structures))
        relaxed, records = relax_batch(
            structures,
            pot,
            settings,
            results_path=out.with_suffix(".jsonl"),
            progress=lambda k: progress.advance(task, k),
        )
    relaxed.write_extxyz(out)
    csv_path = out.with_suffix(".csv")
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    converged = sum(r["converged"] for r in records)
    console.print(f"{converged} of {len(records)} converged; {out}, per structure {csv_path}")


@friendly_errors
def energy_command(
    structures_file: Annotated[Path, typer.Argument(help="Relaxed structures with energies")],
    e_ref: Annotated[
        float | None, typer.Option("--e-ref", help="eV/atom (default: lowest at -0.4 J/m²)")
    ] = None,
    template_file: TemplateOpt = None,
    preset: PresetOpt = "lsc-lco",
    training_set: Annotated[
        Path | None, typer.Option("--training-set", help="Write the γ̃ <= max frames here")
    ] = None,
    max_gamma: Annotated[float, typer.Option("--max", help="Low-energy cut, J/m²")] = 0.0,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many")] = None,
) -> None:
    """Normalised interface energies; optionally the low-energy GAN training set."""
    from cryin_flows.interfaces.energy import (
        GAMMA_CUTS,
        annotate_interface_energies,
        low_energy_subset,
    )

    template = load_template(template_file, preset)
    structures = read_fitting(structures_file, template)
    gamma, used = annotate_interface_energies(structures, template.area, e_ref)
    console.print(
        f"{len(gamma)} structures, e_ref = {used:.5f} eV/atom, A = {template.area:.2f} Å²: "
        f"γ̃ from {gamma.min():.3f} to {gamma.max():.3f} J/m², "
        + ", ".join(f"{(gamma <= cut).mean():.1%} <= {cut:g}" for cut in GAMMA_CUTS.values())
    )
    if training_set is not None:
        subset = low_energy_subset(structures, gamma, max_gamma, limit)
        subset.write_extxyz(training_set)
        console.print(f"{len(subset)} structures with γ̃ <= {max_gamma} written to {training_set}")
