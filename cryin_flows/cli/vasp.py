"""``cryin vasp inputs``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryin_flows.cli.common import (
    TemplateOpt,
    console,
    friendly_errors,
    load_template,
)
from cryin_flows.errors import ConfigurationError

app = typer.Typer(help="VASP DFT+U inputs of the study.", no_args_is_help=True)


@app.command("inputs")
@friendly_errors
def vasp_inputs(
    structure_file: Annotated[Path, typer.Argument(help="POSCAR, CIF, or extxyz (see --frame)")],
    out: Annotated[Path, typer.Option("--out", help="Folder for INCAR, KPOINTS, POSCAR, POTCAR")],
    preset: Annotated[str, typer.Option("--preset", help="bulk | stage1 | stage2 | rerelax")] = (
        "stage2"
    ),
    frame: Annotated[int, typer.Option("--frame", help="Frame of an extxyz file")] = 0,
    template_file: TemplateOpt = None,
    potcar_spec: Annotated[
        bool | None,
        typer.Option("--potcar-spec/--potcar", help="Force POTCAR.spec or real POTCARs"),
    ] = None,
) -> None:
    """Write the VASP inputs of a preset (POTCAR.spec when no POTCARs are configured)."""
    from pymatgen.core import Structure

    from cryin_flows.interfaces.interface_set import InterfaceSet
    from cryin_flows.vasp.sets import check_preset, require_potcars, write_inputs

    check_preset(preset)
    if not structure_file.exists():
        raise ConfigurationError(f"{structure_file} does not exist")
    if structure_file.suffix == ".extxyz":
        structure = InterfaceSet.read_extxyz(structure_file).structure(frame)
    else:
        try:
            structure = Structure.from_file(structure_file)
        except Exception as exc:
            raise ConfigurationError(f"cannot read {structure_file}: {exc}") from None
    template = None
    if preset != "bulk":
        template = load_template(template_file, "lsc-lco")
        template.validate_structure(structure, label=str(structure_file))
    if potcar_spec is False:
        require_potcars()
    write_inputs(structure, preset, out, template=template, potcar_spec=potcar_spec)
    files = sorted(p.name for p in out.iterdir())
    console.print(f"{preset} inputs in [bold]{out}[/]: {', '.join(files)}")
