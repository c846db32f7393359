"""``cryin bench``: Dismai-Bench's systems on files — build a system's dataset, score a
generated set against a training set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cryin_flows.cli.common import ProjectOption, console, err_console, friendly_errors
from cryin_flows.errors import ConfigurationError
from cryin_flows.utils import parse_key_value

app = typer.Typer(help="Dismai-Bench systems: datasets and scores.", no_args_is_help=True)


def apply_settings(model_cls, pairs: list[str], base=None):
    """``model_cls`` (or ``base``, an instance of it) with ``a.b=value`` overrides; unknown
    keys are named."""
    data = (base or model_cls()).model_dump()
    for pair in pairs:
        key, value = parse_key_value(pair, "--set", "monte_carlo.passes=2000")
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise ConfigurationError(f"--set {key}: {part!r} is not a group of settings")
            node = node[part]
        if parts[-1] not in node:
            raise ConfigurationError(
                f"--set {key}: unknown setting; known here: {', '.join(sorted(node))}"
            )
        node[parts[-1]] = value
    return model_cls.model_validate(data)


def _say(message: str) -> None:
    err_console.print(message, highlight=False)


@app.command("systems")
def systems_command() -> None:
    """List the benchmark systems."""
    from cryin_flows.bench.systems import SYSTEMS

    table = Table("system", "structures", "published rows")
    for system in SYSTEMS.values():
        table.add_row(system.name, system.description, system.table)
    console.print(table)


@app.command("dataset")
@friendly_errors
def dataset_command(
    system: Annotated[str, typer.Argument(help="alloy, a-si or interface")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the sets, figures, dataset.json")],
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", help="key=value on the system's settings, e.g. sets.size=100"),
    ] = None,
) -> None:
    """Build a system's training sets (alloy: CE Monte Carlo; a-si: melt-quench and blocks;
    interface: export a study's training set, template and potential from the store)."""
    from cryin_flows.bench.systems import get_system

    chosen = get_system(system)
    build = chosen.build
    if build is None:  # the interface: the study built it; take it out of the store
        from cryin_flows.launchpad.exports import export_interface_dataset as build
    doc = build(out, apply_settings(chosen.dataset_settings, settings or []), _say)
    table = Table("set", "file", title=f"{system} dataset ({doc.seconds:.0f} s)")
    for name, path in doc.files.items():
        table.add_row(name, path)
    console.print(table)
    if doc.summary.get("potential_dir"):
        console.print(f"the study's potential: {doc.summary['potential_dir']}")
    console.print(f"summary and settings: {out / 'dataset.json'}")


@app.command("score")
@friendly_errors
def score_command(
    system: Annotated[str, typer.Argument(help="alloy, a-si or interface")],
    training: Annotated[Path, typer.Option("--training", help="Training set (extxyz)")],
    generated: Annotated[Path, typer.Option("--generated", help="Generated set (extxyz)")],
    out: Annotated[Path, typer.Option("--out", help="Folder for score.json and figures")],
    n_generated: Annotated[
        int | None, typer.Option("--n-generated", help="Structures generated before filtering")
    ] = None,
    translate: Annotated[
        bool, typer.Option("--translate", help="alloy: translate the lattice (DiffCSP's script)")
    ] = False,
    relax: Annotated[
        str | None,
        typer.Option(
            "--relax", help="Relax first: a-si, SW parameters (vink); interface, a potential folder"
        ),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template", help="interface: template JSON or system (default: beside --training)"
        ),
    ] = None,
    relax_steps: Annotated[
        int | None, typer.Option("--relax-steps", help="Most relaxation steps per structure")
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Processes")] = None,
    resamples: Annotated[int, typer.Option("--resamples", help="Bootstrap resamples")] = 1000,
) -> None:
    """Score a generated set against its training set with the published metrics."""
    from cryin_flows.bench.common import ScoreOptions
    from cryin_flows.bench.systems import get_system

    chosen = get_system(system)
    options = ScoreOptions(
        n_generated=n_generated,
        n_resamples=resamples,
        translate=translate,
        relax=relax,
        relax_steps=relax_steps,
        workers=workers,
        template=template,
    )
    doc = chosen.score(training, generated, out, options, _say)
    table = Table("metric", "value [95 % interval]", title=f"{system}: {generated.name}")
    for key, value in chosen.rows(doc.metrics).items():
        table.add_row(key, value)
    console.print(table)
    console.print(f"document and figures: {out}")


@app.command("run")
@friendly_errors
def run_command(
    system: Annotated[str, typer.Argument(help="alloy, a-si or interface")],
    training: Annotated[Path, typer.Option("--training", help="Training set (extxyz)")],
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", help="Published rows to compare with, e.g. 'alloy 1500K wide'"),
    ] = None,
    seeds: Annotated[str, typer.Option("--seeds", help="Training seeds, comma-separated")] = (
        "0,1,2"
    ),
    n: Annotated[int, typer.Option("--n", help="Structures generated per run")] = 1000,
    augment: Annotated[
        bool | None,
        typer.Option("--augment/--no-augment", help="63 cell translations (default: alloy)"),
    ] = None,
    score: Annotated[
        list[str] | None,
        typer.Option(
            "--score",
            help="key=value on the scoring (ScoreOptions), e.g. relax=PATH (interface: the "
            "study's potential), relax_steps=200, template=FILE",
        ),
    ] = None,
    gan: Annotated[
        list[str] | None,
        typer.Option("--gan", help="key=value on CryinGAN's settings, e.g. epochs=200"),
    ] = None,
    project_dir: ProjectOption = None,
) -> None:
    """Train CryinGAN per seed on a training set, generate, score, and print the table beside
    the published rows (BenchmarkFlowMaker, run here on the configured store)."""
    from dataclasses import replace

    from cryin_flows.bench.common import ScoreOptions
    from cryin_flows.bench.systems import get_system
    from cryin_flows.flows.bench import BenchmarkFlowMaker
    from cryin_flows.gan.config import GanConfig
    from cryin_flows.launchpad.local import run_resumable
    from cryin_flows.launchpad.stores import get_job_store, load_output
    from cryin_flows.settings import get_settings

    chosen = get_system(system)
    if not training.is_file():
        raise ConfigurationError(f"training set {training} does not exist")
    try:
        seed_list = tuple(int(x) for x in seeds.split(",") if x.strip())
    except ValueError:
        raise ConfigurationError(f"--seeds {seeds!r}: give integers separated by commas") from None
    maker = BenchmarkFlowMaker(
        system=system,
        dataset=dataset or chosen.table,
        seeds=seed_list,
        augment=chosen.augment if augment is None else augment,
    )
    base = maker.train.config.model_copy(update={"bond_weight": chosen.bond_weight})
    config = apply_settings(GanConfig, gan or [], base)
    options = apply_settings(ScoreOptions, score or [], ScoreOptions(relax=chosen.relax))
    maker = replace(
        maker,
        train=replace(maker.train, config=config),
        generate=replace(maker.generate, n=n),
        score=replace(maker.score, options=options),
    )
    flow = maker.make(str(training.resolve()))
    settings = get_settings(**({"project_dir": project_dir} if project_dir else {}))
    store = get_job_store(settings)
    root = Path(settings.project_dir) / "bench" / f"{system}_{training.stem}"

    def started(name: str, position: int, total: int) -> None:
        _say(f"[{position + 1}/{total}] {name}")

    run_resumable(flow, store, root, started)
    table = load_output(flow.jobs[-1].uuid, store)
    (root / "table.md").write_text(table.markdown + "\n")
    console.print(table.markdown)
    console.print(f"table: {root / 'table.md'}")
