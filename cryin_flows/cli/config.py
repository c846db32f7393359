"""``cryin config`` (cluster set-up) and ``cryin query``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cryin_flows.cli.common import (
    ProjectOption,
    console,
    err_console,
    friendly_errors,
    print_summary,
)
from cryin_flows.errors import ConfigurationError
from cryin_flows.launchpad.config import ClusterAnswers

app = typer.Typer(help="FireWorks and jobflow configuration for clusters.", no_args_is_help=True)


@app.command("init")
@friendly_errors
def config_init(
    config_dir: Annotated[
        Path, typer.Option("--dir", help="Folder for the configuration files")
    ] = Path("cryin_config"),
    project_dir: Annotated[
        Path | None,
        typer.Option("--project-dir", help="Runs and embedded store (./cryin_data)"),
    ] = None,
    store: Annotated[
        str | None, typer.Option("--store", help="embedded (files, one process) or mongodb")
    ] = None,
    mongodb_uri: Annotated[
        str | None, typer.Option("--mongodb-uri", help="mongodb:// URI (with --store mongodb)")
    ] = None,
    database: Annotated[
        str | None,
        typer.Option("--database", help="Results database (default: the URI's, else cryin_flows)"),
    ] = None,
    fireworks_database: Annotated[
        str | None,
        typer.Option(
            "--fireworks-database", help="FireWorks (LaunchPad) database (default: the results')"
        ),
    ] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="slurm or pbs")] = None,
    cpu_queue: Annotated[str | None, typer.Option("--cpu-queue", help="CPU partition")] = None,
    gpu_queue: Annotated[str | None, typer.Option("--gpu-queue", help="GPU partition")] = None,
    account: Annotated[str | None, typer.Option("--account", help="Allocation")] = None,
    walltime: Annotated[str, typer.Option("--walltime", help="Queue time limit")] = "24:00:00",
    cpus: Annotated[
        int, typer.Option("--cpus", min=1, help="CPUs per queue job (one task)")
    ] = ClusterAnswers.model_fields["cpus"].default,
    gpus: Annotated[
        int | None,
        typer.Option(
            "--gpus", min=0, help="GPUs per GPU queue job (default: 1 if sinfo lists any)"
        ),
    ] = None,
    lost_after: Annotated[
        int,
        typer.Option(
            "--lost-after", min=10, help="Seconds of silence after which a running rocket is lost"
        ),
    ] = ClusterAnswers.model_fields["lost_after_s"].default,
) -> None:
    """Write my_launchpad.yaml, workers, queue adapters, jobflow.yaml and env.sh.

    Options left out are asked for when the terminal is interactive.
    """
    import sys

    from rich.prompt import Prompt

    from cryin_flows.launchpad.config import write_cluster_config

    interactive = sys.stdin.isatty()
    if store is None:
        store = (
            Prompt.ask("Store", choices=["embedded", "mongodb"], default="embedded")
            if interactive
            else "embedded"
        )
    if store == "mongodb" and mongodb_uri is None and interactive:
        mongodb_uri = Prompt.ask("MongoDB URI (mongodb://user:pass@host:27017/db)", password=True)
    if scheduler is None:
        scheduler = (
            Prompt.ask("Scheduler", choices=["slurm", "pbs"], default="slurm")
            if interactive
            else "slurm"
        )
    answers = ClusterAnswers(
        config_dir=config_dir,
        project_dir=project_dir or Path("cryin_data"),
        store=store,
        mongodb_uri=mongodb_uri,
        database=database,
        fireworks_database=fireworks_database,
        scheduler=scheduler,
        cpu_queue=cpu_queue,
        gpu_queue=gpu_queue,
        account=account,
        walltime=walltime,
        cpus=cpus,
        gpus=gpus,
        lost_after_s=lost_after,
    )
    written = write_cluster_config(answers)
    rows = {k: str(v) for k, v in written.items()}
    rows["results database"] = answers.results_database()
    rows["FireWorks database"] = answers.launchpad_database()
    print_summary("cryin config init", rows)
    env = written["env.sh"]
    console.print(
        f"Next: source {env}; lpad reset (once per new LaunchPad); cryin config check; "
        "cryin submit --preset paper; cryin launch"
    )


@app.command("check")
@friendly_errors
def config_check(
    config_dir: Annotated[
        Path | None, typer.Option("--dir", help="Folder written by config init (default: env)")
    ] = None,
) -> None:
    """Connect to the JobStore and the LaunchPad the configuration names, and report."""
    from cryin_flows.launchpad.config import check_cluster_config

    rows = check_cluster_config(config_dir)
    table = Table(title="cryin config check")
    for column in ("", "ok", "detail"):
        table.add_column(column)
    for what, ok, detail in rows:
        table.add_row(what, "[green]yes[/]" if ok else "[red]no[/]", detail)
    console.print(table)
    if not all(ok for _, ok, _ in rows):
        raise typer.Exit(1)


@friendly_errors
def query_command(
    kind: Annotated[
        str,
        typer.Argument(
            help="interfaces, labels, frames, potentials, relaxations, energies, "
            "reference-checks, gan-runs, generated, evaluations, phase-energies, stability, "
            "candidates, screens, md, transport or barriers"
        ),
    ],
    filters: Annotated[
        list[str] | None,
        typer.Option("--filter", help="key=value on the output, e.g. bond_weight=0.05"),
    ] = None,
    max_energy: Annotated[
        float | None,
        typer.Option("--max-energy", help="Structures with γ̃ <= this, J/m² (energies only)"),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="At most this many rows")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="With --max-energy: write the structures (extxyz)")
    ] = None,
    project_dir: ProjectOption = None,
) -> None:
    """List stored results of one kind, newest first (or low-energy structures)."""
    import json

    from cryin_flows.launchpad.queries import low_energy_structures, query_outputs
    from cryin_flows.launchpad.stores import get_job_store
    from cryin_flows.settings import get_settings

    store = get_job_store(get_settings(**({"project_dir": project_dir} if project_dir else {})))
    if max_energy is not None:
        if kind != "energies":
            raise ConfigurationError("--max-energy applies to: cryin query energies")
        rows, structures = low_energy_structures(store, max_energy, filters, limit)
        if out is not None and structures is not None:
            structures.write_extxyz(out)
            err_console.print(f"{len(structures)} structures written to {out}")
    else:
        if out is not None:
            raise ConfigurationError("--out needs --max-energy")
        rows = query_outputs(store, kind, filters, limit)
    if as_json:
        console.print_json(json.dumps(rows, default=str))
        return
    if not rows:
        err_console.print(f"no {kind} found")
        return
    table = Table(title=f"{kind} ({len(rows)})")
    for column in rows[0]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()))
    console.print(table)


def _config_dir(config_dir: Path | None) -> Path:
    """--dir, else the folder of FW_CONFIG_FILE (set by the env.sh of `cryin config init`)."""
    import os

    if config_dir is not None:
        return config_dir.expanduser().resolve()
    fw_config = os.environ.get("FW_CONFIG_FILE")
    if not fw_config:
        raise ConfigurationError(
            "no configuration folder: pass --dir, or `source DIR/env.sh` of `cryin config init`"
        )
    return Path(fw_config).expanduser().resolve().parent


@friendly_errors
def launch_command(
    categories: Annotated[
        list[str] | None,
        typer.Option("--category", "-c", help="Workers to feed: cpu and gpu (default), or any"),
    ] = None,
    launch_dir: Annotated[
        Path, typer.Option("--launch-dir", help="Where launch folders are made")
    ] = Path("."),
    config_dir: Annotated[
        Path | None, typer.Option("--dir", help="Folder of `cryin config init` (default: env)")
    ] = None,
    sleep: Annotated[float, typer.Option("--sleep", min=0.1, help="Seconds between rounds")] = 10,
    max_queued: Annotated[
        int | None,
        typer.Option(
            "--max-queued",
            "-m",
            min=1,
            help="Most queue jobs waiting per category (counts only this LaunchPad's reserved "
            "Fireworks, not the user's other jobs); default: one per READY Firework",
        ),
    ] = None,
    wf_ids: Annotated[
        list[int] | None,
        typer.Option("--wf-id", help="Watch only the workflow holding this Firework id"),
    ] = None,
    rerun_lost: Annotated[
        bool,
        typer.Option(
            "--rerun-lost/--no-rerun-lost", help="Set lost rockets back to READY (as configured)"
        ),
    ] = True,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Give up after this many seconds")
    ] = None,
) -> None:
    """Submit one queue job per READY Firework of each category until the workflows are
    COMPLETED; stops with a one-line error when a job FIZZLED or the scheduler refuses one."""
    import time

    from cryin_flows.launchpad.fireworks import launchpad_target, open_launchpad
    from cryin_flows.launchpad.queue import LaunchLoop, load_lanes

    d = _config_dir(config_dir)
    lanes = load_lanes(d, tuple(categories or ("cpu", "gpu")))
    launchpad = open_launchpad(d / "my_launchpad.yaml")
    if "mongomock" in type(launchpad.connection).__module__:
        raise ConfigurationError(
            "queue jobs need a LaunchPad on a MongoDB server (the file-backed one is for one "
            "process): `cryin config init --store mongodb --mongodb-uri ...`"
        )
    launch_dir = launch_dir.expanduser().resolve()
    launch_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()

    def log(message: str) -> None:
        console.print(f"[{time.monotonic() - start:7.1f} s] {message}", highlight=False)

    log(
        f"feeding {', '.join(lane.category for lane in lanes)} from "
        f"{launchpad_target(launchpad)}; launch folders in {launch_dir}"
    )
    loop = LaunchLoop(
        launchpad,
        lanes,
        launch_dir,
        sleep_s=sleep,
        max_queued=max_queued,
        rerun_lost=rerun_lost,
        wf_ids=wf_ids,
        log=log,
    )
    try:
        loop.run(timeout)
    except KeyboardInterrupt:
        err_console.print(
            "stopped: queued jobs keep running; run `cryin launch` again to go on feeding"
        )
        raise typer.Exit(130) from None
