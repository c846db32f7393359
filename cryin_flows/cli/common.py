"""Console, error handling and options shared by the ``cryin`` commands."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cryin_flows.errors import ConfigurationError, CryinError

console = Console(soft_wrap=True)


err_console = Console(stderr=True, soft_wrap=True)


def friendly_errors(func):
    """Print CryinError and validation errors as one red message and exit 1, no traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CryinError as exc:
            err_console.print(f"[bold red]Error:[/] {exc}")
            raise typer.Exit(1) from None
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors()
            )
            err_console.print(f"[bold red]Error:[/] invalid {exc.title}: {problems}")
            raise typer.Exit(1) from None

    return wrapper


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
    )


def load_system(
    preset: str, system_file: Path | None, lateral_lattice: tuple[float, float, float] | None
):
    from cryin_flows.interfaces.system import InterfaceSystem, get_preset

    if system_file is not None:
        if not system_file.is_file():
            raise ConfigurationError(f"system file {system_file} does not exist")
        try:
            data = yaml.safe_load(system_file.read_text())
        except yaml.YAMLError as exc:
            raise ConfigurationError(
                f"system file {system_file} is not valid YAML: {exc}"
            ) from None
        system = InterfaceSystem.model_validate(data)
    else:
        system = get_preset(preset)
    if lateral_lattice is not None:
        system = system.model_copy(update={"lateral_lattice": tuple(lateral_lattice)})
    return system


def load_template(template_file: Path | None, preset: str, system_file: Path | None = None):
    """The template from a JSON file, else built from a system file or preset."""
    from cryin_flows.interfaces.template import InterfaceTemplate, build_interface_template

    if template_file is not None:
        return InterfaceTemplate.from_json_file(template_file)
    return build_interface_template(load_system(preset, system_file, None))


def read_fitting(path: Path, template):
    """Structures of an extxyz file, every frame checked against the template."""
    from cryin_flows.interfaces.interface_set import InterfaceSet

    structures = InterfaceSet.read_extxyz(path)
    template.validate_set(structures, label=str(path))
    return structures


def print_summary(title: str, rows: dict) -> None:
    table = Table(title=title, show_header=False)
    table.add_column(style="bold cyan")
    table.add_column()
    for key, value in rows.items():
        table.add_row(str(key), str(value))
    console.print(table)


PresetOpt = Annotated[str, typer.Option("--preset", help="Bundled interface system")]


TemplateOpt = Annotated[
    Path | None, typer.Option("--template", help="Template JSON (else built from the preset)")
]


SystemOpt = Annotated[
    Path | None, typer.Option("--system", help="YAML file with InterfaceSystem parameters")
]


LateralOpt = Annotated[
    tuple[float, float, float] | None,
    typer.Option("--lateral-lattice", help="In-plane cell a b gamma (Å, Å, deg) to strain onto"),
]
ProjectOption = Annotated[
    Path | None, typer.Option("--project-dir", help="Project folder (default: settings)")
]


def given(**values) -> dict:
    """The options the user gave (not None): the settings model supplies every default."""
    return {key: value for key, value in values.items() if value is not None}
