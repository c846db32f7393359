"""``cryin interfaces``: templates and random interfaces."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryin_flows.cli.common import (
    LateralOpt,
    PresetOpt,
    SystemOpt,
    TemplateOpt,
    console,
    friendly_errors,
    load_system,
    load_template,
    print_summary,
    progress_bar,
    read_fitting,
)
from cryin_flows.errors import ConfigurationError

app = typer.Typer(help="Build interface templates and random interfaces.", no_args_is_help=True)


@app.command("template")
@friendly_errors
def interfaces_template(
    preset: PresetOpt = "lsc-lco",
    system: SystemOpt = None,
    lateral_lattice: LateralOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the template as JSON")] = None,
) -> None:
    """Build an interface template and print its cell, composition and strain."""
    from cryin_flows.interfaces.template import build_interface_template

    template = build_interface_template(load_system(preset, system, lateral_lattice))
    print_summary("Interface template", template.summary())
    if out is not None:
        template.to_json_file(out)
        console.print(f"template written to [bold]{out}[/]")


def _parse_pairs(values: list[str] | None) -> dict[str, float]:
    out = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ConfigurationError(f"--min-distance {item!r}: use PAIR=DIST, e.g. Cl-Cl=3.0")
    return out


@app.command("generate")
@friendly_errors
def interfaces_generate(
    out: Annotated[Path, typer.Option("--out", help="Output extended-XYZ file")],
    n: Annotated[int, typer.Option("--n", min=1, help="Number of structures")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random stream")] = 0,
    exchanges: Annotated[
        bool, typer.Option("--exchanges", help="Mutual exchanges: <=3 Sc-Co, <=3 Li-Co, <=6 Cl-O")
    ] = False,
    template_file: TemplateOpt = None,
    preset: PresetOpt = "lsc-lco",
    system: SystemOpt = None,
    min_distance: Annotated[
        list[str] | None, typer.Option("--min-distance", help="Override a pair, e.g. Cl-Cl=3.0")
    ] = None,
    thickness: Annotated[
        tuple[float, float] | None, typer.Option("--thickness", help="Gap range LOW HIGH in Å")
    ] = None,
) -> None:
    """Generate random interfaces into one extxyz file (one frame per structure)."""
    from cryin_flows.interfaces.random_fill import (
        PAPER_EXCHANGES,
        RandomFillSettings,
        RandomInterfaceGenerator,
    )

    template = load_template(template_file, preset, system)
    settings = RandomFillSettings(
        min_distances=_parse_pairs(min_distance),
        thickness_range=thickness,
        exchanges=PAPER_EXCHANGES if exchanges else None,
    )
    generator = RandomInterfaceGenerator(template, settings)
    with progress_bar() as progress:
        task = progress.add_task("random interfaces", total=n)
        structures = generator.generate(n, seed=seed, progress=lambda k: progress.advance(task, k))
    structures.write_extxyz(out)
    thick = [i["region_thickness"] for i in structures.infos]
    closest = min(i["min_region_distance"] for i in structures.infos)
    console.print(
        f"{len(structures)} structures of {template.n_atoms} atoms written to [bold]{out}[/] "
        f"(gap {min(thick):.2f}-{max(thick):.2f} Å, closest region pair {closest:.2f} Å)"
    )


@app.command("check")
@friendly_errors
def interfaces_check(
    path: Annotated[Path, typer.Argument(help="Extended-XYZ file to check")],
    template_file: TemplateOpt = None,
    preset: PresetOpt = "lsc-lco",
) -> None:
    """Check that every frame of an extxyz file fits a template (count, order, lattice)."""

    template = load_template(template_file, preset)
    structures = read_fitting(path, template)
    console.print(
        f"{len(structures)} frames of {path} fit template {template.template_hash[:16]} "
        f"({template.system.name})"
    )
