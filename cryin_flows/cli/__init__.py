"""The ``cryin`` command line: one module per stage group, each command a thin call of what
the makers call."""

from __future__ import annotations

import warnings
from typing import Annotated

import typer

from cryin_flows import __version__
from cryin_flows.cli import (
    bench,
    config,
    dynamics,
    evaluation,
    gan,
    interfaces,
    potentials,
    stability,
    study,
    vasp,
)
from cryin_flows.cli.common import console

# jobflow's local manager uses monty's deprecated ``cd``; the warning is noise for users
warnings.filterwarnings("ignore", category=FutureWarning, module="jobflow")
warnings.filterwarnings("ignore", category=FutureWarning, module="fireworks")

app = typer.Typer(
    help="cryin-flows: the CryinGAN interface study as jobflow workflows.", no_args_is_help=True
)
app.add_typer(interfaces.app, name="interfaces")
app.add_typer(gan.app, name="gan")
app.add_typer(potentials.app, name="potential")
app.add_typer(vasp.app, name="vasp")
app.add_typer(config.app, name="config")
app.add_typer(stability.app, name="screen")
app.add_typer(bench.app, name="bench")
for name, command in {
    "label": potentials.label_command,
    "relax": potentials.relax_command,
    "energy": potentials.energy_command,
    "evaluate": evaluation.evaluate_command,
    "report": evaluation.report_command,
    "demo": study.demo,
    "run": study.run_command,
    "submit": study.submit_command,
    "md": dynamics.md_command,
    "transport": dynamics.transport_command,
    "barrier": dynamics.barrier_command,
    "query": config.query_command,
    "launch": config.launch_command,
}.items():
    app.command(name)(command)


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit")] = False,
) -> None:
    """cryin-flows command line."""
    if version:
        console.print(__version__)
        raise typer.Exit()
