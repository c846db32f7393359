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

    table = Table("system", "structures", "dataset")
    for system in SYSTEMS.values():
        table.add_row(
            system.name, system.description, "cryin bench dataset" if system.build else "the study"
        )
    console.print(table)


@app.command("dataset")
@friendly_errors
def dataset_command(
    system: Annotated[str, typer.Argument(help="alloy or a-si")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the sets, figures, dataset.json")],
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", help="key=value on the system's settings, e.g. sets.size=100"),
    ] = None,
) -> None:
    """Build a system's training sets (alloy: CE Monte Carlo; a-si: melt-quench and blocks)."""
    from cryin_flows.bench.systems import get_system

    chosen = get_system(system)
    if chosen.build is None:
        raise ConfigurationError(f"the {system} dataset is the study's: run `cryin run`")
    doc = chosen.build(out, apply_settings(chosen.dataset_settings, settings or []), _say)
    table = Table("set", "file", title=f"{system} dataset ({doc.seconds:.0f} s)")
    for name, path in doc.files.items():
        table.add_row(name, path)
    console.print(table)
    console.print(f"summary and settings: {out / 'dataset.json'}")


def _interval(d: dict, digits: int = 4) -> str:
    value, low, high = (f"{d[k]:.{digits}g}" for k in ("value", "low", "high"))
    return f"{value} [{low}, {high}]"


@app.command("score")
@friendly_errors
def score_command(
    system: Annotated[str, typer.Argument(help="alloy or a-si")],
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
        str | None, typer.Option("--relax", help="a-si: relax first with this SW potential")
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="a-si: processes")] = None,
    resamples: Annotated[int, typer.Option("--resamples", help="Bootstrap resamples")] = 1000,
) -> None:
    """Score a generated set against its training set with the published metrics."""
    from cryin_flows.bench.systems import score_alloy, score_silicon

    if system == "alloy":
        doc = score_alloy(training, generated, out, n_generated, translate, resamples)
        m = doc.metrics
        rows = {
            "d_cluster": _interval(m["d_cluster"]),
            "structures with vacancies (%)": _interval(m["vacancy_percent"], digits=3),
            "rejected (%)": f"{m['rejected_percent']:.1f}",
            "CE energy, generated / training (eV/atom)": (
                f"{m['energy_mean']:.4f} / {m['energy_mean_training']:.4f}"
            ),
        }
    elif system == "a-si":
        doc = score_silicon(training, generated, out, n_generated, relax, workers, resamples, _say)
        m = doc.metrics
        rows = {
            "d_motif": _interval(m["d_motif"]),
            "cosine distance, motifs": _interval(m["cosine_motif"]),
            "d_rdf": _interval(m["d_rdf"]),
            "d_angle": _interval(m["d_angle"]),
            "failed (%)": f"{m['failed_percent']:.1f}",
        }
    else:
        raise ConfigurationError(
            f"cryin bench score knows alloy and a-si; the interface is scored by `cryin "
            f"evaluate` (got {system!r})"
        )
    table = Table("metric", "value [95 % interval]", title=f"{system}: {generated.name}")
    for key, value in rows.items():
        table.add_row(key, value)
    console.print(table)
    console.print(f"document and figures: {out}")


# which published table a system's rows sit beside unless --dataset says otherwise
DEFAULT_TABLE = {"alloy": "alloy 300K narrow", "a-si": "a-si"}


@app.command("run")
@friendly_errors
def run_command(
    system: Annotated[str, typer.Argument(help="alloy or a-si")],
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
    gan: Annotated[
        list[str] | None,
        typer.Option("--gan", help="key=value on CryinGAN's settings, e.g. epochs=200"),
    ] = None,
    project_dir: ProjectOption = None,
) -> None:
    """Train CryinGAN per seed on a training set, generate, score, and print the table beside
    the published rows (BenchmarkFlowMaker, run here on the configured store)."""
    from dataclasses import replace

    from cryin_flows.flows.bench import BenchmarkFlowMaker
    from cryin_flows.gan.config import GanConfig
    from cryin_flows.launchpad.local import run_resumable
    from cryin_flows.launchpad.stores import get_job_store, load_output
    from cryin_flows.settings import get_settings

    if system not in DEFAULT_TABLE:
        raise ConfigurationError(f"cryin bench run knows alloy and a-si, got {system!r}")
    if not training.is_file():
        raise ConfigurationError(f"training set {training} does not exist")
    try:
        seed_list = tuple(int(x) for x in seeds.split(",") if x.strip())
    except ValueError:
        raise ConfigurationError(f"--seeds {seeds!r}: give integers separated by commas") from None
    maker = BenchmarkFlowMaker(
        system=system,
        dataset=dataset or DEFAULT_TABLE[system],
        seeds=seed_list,
        augment=(system == "alloy") if augment is None else augment,
    )
    config = apply_settings(GanConfig, gan or [], maker.train.config)
    maker = replace(
        maker,
        train=replace(maker.train, config=config),
        generate=replace(maker.generate, n=n),
        score=replace(maker.score, relax="vink" if system == "a-si" else None),
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
