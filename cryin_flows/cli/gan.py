"""``cryin gan``: train CryinGAN and sample structures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryin_flows.cli.common import (
    console,
    friendly_errors,
    given,
    progress_bar,
)
from cryin_flows.errors import ConfigurationError

app = typer.Typer(help="Train CryinGAN and generate structures.", no_args_is_help=True)


@app.command("train")
@friendly_errors
def gan_train(
    data: Annotated[Path, typer.Argument(help="Training structures, multi-frame extxyz")],
    out: Annotated[Path, typer.Option("--out", help="Run folder (checkpoints, losses)")],
    bond_weight: Annotated[
        float | None,
        typer.Option("--lambda", help="λ, weight of the bond-distance critic (0 = off)"),
    ] = None,
    variant: Annotated[
        str | None, typer.Option("--variant", help="cryingan | comb | max | mix")
    ] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Total epochs")] = None,
    gen_int: Annotated[
        int | None, typer.Option("--gen-int", min=1, help="Critic batches per generator step")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Batch size")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed")] = None,
    device: Annotated[str | None, typer.Option("--device", help="auto | cpu | cuda")] = None,
    checkpoint_every: Annotated[
        int | None, typer.Option("--checkpoint-every", min=1, help="Epochs between checkpoints")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from OUT/checkpoint.pt up to --epochs")
    ] = False,
) -> None:
    """Train CryinGAN (WGAN-GP) on structures sharing one cell and atom order.

    Options left out take GanConfig's defaults: the paper's (SPEC §5; 100,000 epochs).
    """
    from cryin_flows.gan.config import GanConfig
    from cryin_flows.gan.dataset import GanDataset
    from cryin_flows.gan.training import LOSS_PLOT, GanTrainer

    dataset = GanDataset.from_extxyz(data)
    if resume:
        trainer = GanTrainer.resume(dataset, out, epochs=epochs)
    else:
        if (out / "checkpoint.pt").exists():
            raise ConfigurationError(f"{out} already holds a run; use --resume or another --out")
        config = GanConfig(
            **given(
                variant=variant,
                bond_weight=bond_weight,
                epochs=epochs,
                gen_interval=gen_int,
                batch_size=batch_size,
                seed=seed,
                device=device,
                checkpoint_every=checkpoint_every,
            )
        )
        trainer = GanTrainer(dataset, config, out)
    epochs = trainer.config.epochs
    console.print(
        f"{len(dataset)} structures of {dataset.n_atoms} atoms "
        f"({'-'.join(dataset.species_order)}), {trainer.config.variant}, "
        f"λ = {trainer.config.bond_weight:g}, device {trainer.device}, from epoch {trainer.epoch}"
    )
    with progress_bar() as progress:
        task = progress.add_task("training", total=epochs, completed=trainer.epoch)

        def report(row):
            progress.update(task, advance=1, description=f"training  W {row['wasserstein']:+.4f}")

        trainer.train(epochs, progress=report)
    console.print(f"run written to [bold]{out}[/] (loss curve: {out / LOSS_PLOT})")


@app.command("generate")
@friendly_errors
def gan_generate(
    run_dir: Annotated[Path, typer.Argument(help="Run folder of `cryin gan train`")],
    out: Annotated[Path, typer.Option("--out", help="Output extxyz")],
    n: Annotated[int | None, typer.Option("--n", min=1, help="Structures to sample")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the noise")] = None,
    clean: Annotated[
        bool | None, typer.Option("--clean/--no-clean", help="Move apart atoms too close")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Close-pair threshold, Å")
    ] = None,
) -> None:
    """Sample structures from a trained generator, clean them up and write extxyz.

    Options left out take GanGenerateMaker's defaults (the paper's: 1,000 structures, 1.5 Å).
    """
    from cryin_flows.gan.generate import generate_structures
    from cryin_flows.makers.gan import GanGenerateMaker

    maker = GanGenerateMaker(**given(n=n, seed=seed, clean=clean, threshold=threshold))
    with progress_bar() as progress:
        task = progress.add_task("sampling", total=maker.n)
        result = generate_structures(
            run_dir,
            maker.n,
            maker.seed,
            maker.clean,
            maker.threshold,
            maker.max_iterations,
            progress=lambda k: progress.advance(task, k),
        )
    result.structures.write_extxyz(out)
    with_close = sum(1 for c in result.close_pairs_before if c > 0)
    console.print(
        f"{len(result.structures)} of {maker.n} structures written to [bold]{out}[/]; "
        f"before clean-up {with_close} had pairs <= {maker.threshold} Å "
        f"({sum(result.close_pairs_before)} pairs); {result.n_rejected} rejected"
    )
