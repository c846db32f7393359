"""``cryin screen``: phase energies, stability of phases and pairs, candidates and the funnel,
on files (no database); the makers do the same as jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cryin_flows.cli.common import console, friendly_errors, given
from cryin_flows.errors import ConfigurationError

app = typer.Typer(
    help="Stability and compatibility: phase energies, hulls, windows, mixing, the funnel.",
    no_args_is_help=True,
)

ENERGIES_FILE = "phase_energies.json"
EnergiesArg = Annotated[
    Path, typer.Argument(help=f"{ENERGIES_FILE} written by `cryin screen phases` (or its folder)")
]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, help="Relaxation processes")]


def _energies(path: Path):
    from cryin_flows.stability.pipeline import PhaseEnergies

    path = path / ENERGIES_FILE if path.is_dir() else path
    if not path.is_file():
        raise ConfigurationError(f"{path} does not exist (write it with `cryin screen phases`)")
    try:
        return PhaseEnergies.model_validate_json(path.read_text())
    except ValueError as exc:
        raise ConfigurationError(f"{path}: not a phase-energies file: {exc}") from None


def _write_structures(items, path: Path) -> None:
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    frames = []
    for name, structure in items:
        atoms = AseAtomsAdaptor.get_atoms(structure)
        atoms.info["name"] = name
        frames.append(atoms)
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path, frames, format="extxyz")


@app.command("phases")
@friendly_errors
def phases_command(
    chemistry: Annotated[
        str, typer.Argument(help="Named chemistry (LSC|LCO, li2o-licl, Li-Y-Cl) or elements")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for phase_energies.json")],
    calculator: Annotated[
        str, typer.Option("--calculator", help="chgnet, or module:Class of an ASE calculator")
    ] = "chgnet",
    energy_scheme: Annotated[
        str | None,
        typer.Option("--energy-scheme", help="mp2020-included, mp2020 or none (see docs)"),
    ] = None,
    phases_dir: Annotated[
        Path | None, typer.Option("--phases", help="Folder of extra phases (YAML/CIF)")
    ] = None,
    fmax: Annotated[float | None, typer.Option("--fmax", help="eV/Å")] = None,
    max_steps: Annotated[int | None, typer.Option("--max-steps")] = None,
    workers: WorkersOpt = 1,
) -> None:
    """Relax a chemistry's library phases (resumable: OUT/phases_relaxed.jsonl)."""
    from cryin_flows.stability.energies import scheme_of
    from cryin_flows.stability.library import load_library
    from cryin_flows.stability.pipeline import compute_phase_energies
    from cryin_flows.stability.relaxation import PhaseRelaxSettings

    energies = compute_phase_energies(
        load_library(phases_dir),
        chemistry,
        calculator,
        scheme_of(calculator, energy_scheme),
        PhaseRelaxSettings(**given(fmax=fmax, max_steps=max_steps)),
        out,
        workers=workers,
    )
    (out / ENERGIES_FILE).write_text(energies.model_dump_json(indent=1))
    table = Table(title=f"{energies.chemistry}: {energies.calculator} ({energies.energy_scheme})")
    for column in ("phase", "eV/atom", "E_hull", "decomposes to", "steps", "converged"):
        table.add_column(column)
    for p in energies.phases:
        table.add_row(
            p.name, f"{p.energy_per_atom:.4f}", f"{p.e_hull:.3f}", " + ".join(p.decomposition),
            str(p.steps), str(p.converged),
        )  # fmt: skip
    console.print(table)
    console.print(f"written {out / ENERGIES_FILE}")


@app.command("assess")
@friendly_errors
def assess_command(
    energies_file: EnergiesArg,
    phases: Annotated[
        list[str] | None, typer.Option("--phase", help="Window of this phase (repeat)")
    ] = None,
    pairs: Annotated[
        list[str] | None, typer.Option("--pair", help="Mixing of A:B, e.g. Li3ScCl6:LiCoO2")
    ] = None,
    structures: Annotated[
        list[Path] | None, typer.Option("--structures", help="E_hull of these files (relaxed)")
    ] = None,
    figures: Annotated[Path | None, typer.Option("--figures", help="Folder for PNGs")] = None,
) -> None:
    """Electrochemical windows, mixing energies and E_hull of given structures."""
    from cryin_flows.stability.pipeline import assess_phases, structure_stability
    from cryin_flows.stability.plots import hull_figure, mixing_figure, window_figure

    energies = _energies(energies_file)
    split = []
    for pair in pairs or []:
        a, sep, b = pair.partition(":")
        if not sep or not a or not b:
            raise ConfigurationError(f"--pair {pair!r}: write it as A:B")
        split.append((a, b))
    result = assess_phases(energies, list(phases or []), split)
    for w in result.windows:
        console.print(
            f"{w.formula}: window {w.e_red or 0:.2f} – "
            f"{'∞' if w.e_ox is None else f'{w.e_ox:.2f}'} V vs Li/Li⁺; reduced to "
            f"{' + '.join(w.reduction_products) or '-'}, oxidised to "
            f"{' + '.join(w.oxidation_products) or '-'}"
        )
    for m in result.mixings:
        console.print(
            f"{m.reactants[0]} | {m.reactants[1]}: E_rxn {m.energy:.3f} eV/atom at x = "
            f"{m.ratio:.2f}: {m.reaction}"
        )
    folder = figures or Path(".")
    for item in structure_stability(energies, tuple(map(str, structures or [])), folder):
        console.print(
            f"{item.name} ({item.formula}): E_hull {item.e_hull:.3f} eV/atom -> "
            f"{' + '.join(item.decomposition)}"
        )
    if figures is not None:
        figures.mkdir(parents=True, exist_ok=True)
        made = [hull_figure(energies.entries(), figures / "hull.png")]
        if result.windows:
            made.append(window_figure(result.windows, figures / "windows.png"))
        if result.mixings:
            made.append(mixing_figure(result.mixings, figures / "mixing.png"))
        console.print("figures: " + ", ".join(str(p) for p in made if p is not None))


@app.command("candidates")
@friendly_errors
def candidates_command(
    out: Annotated[Path, typer.Option("--out", help="Candidates (extxyz)")],
    elements: Annotated[
        str | None, typer.Option("--elements", help="pyxtal: every one present, e.g. Li-Y-Cl")
    ] = None,
    n: Annotated[int, typer.Option("--n", min=1, help="pyxtal: how many")] = 200,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    max_atoms: Annotated[int, typer.Option("--max-atoms", help="pyxtal: per cell")] = 16,
    from_file: Annotated[
        list[Path] | None,
        typer.Option("--from", help="Read instead: CIF, extxyz or WyFormer JSON (repeat)"),
    ] = None,
) -> None:
    """Generate random symmetric crystals (pyxtal) or import CIF/extxyz/WyFormer records."""
    from cryin_flows.stability.candidates import random_candidates, read_structures

    if from_file:
        items = [item for path in from_file for item in read_structures(path)]
    elif elements:
        items = random_candidates(elements.replace(",", "-").split("-"), n, seed, max_atoms)
    else:
        raise ConfigurationError("give --elements (pyxtal) or --from FILE")
    _write_structures(items, out)
    console.print(f"{len(items)} candidates written to {out}")


@app.command("run")
@friendly_errors
def run_command(
    candidates: Annotated[Path, typer.Argument(help="Candidates: extxyz, CIF, WyFormer JSON")],
    energies_file: Annotated[Path, typer.Option("--energies", help=ENERGIES_FILE)],
    out: Annotated[Path, typer.Option("--out", help="Folder for the results")],
    electrolyte: Annotated[str | None, typer.Option("--electrolyte")] = None,
    cathode: Annotated[str | None, typer.Option("--cathode")] = None,
    e_hull_max: Annotated[float | None, typer.Option("--e-hull-max", help="eV/atom")] = None,
    workers: WorkersOpt = 1,
) -> None:
    """The funnel (seed 003's cuts); resumable (OUT/candidates_relaxed.jsonl)."""
    from cryin_flows.stability.candidates import read_structures
    from cryin_flows.stability.funnel import ScreenCriteria
    from cryin_flows.stability.pipeline import run_screen
    from cryin_flows.stability.plots import funnel_figure

    criteria = ScreenCriteria(
        **given(electrolyte=electrolyte, cathode=cathode, e_hull_max=e_hull_max)
    )
    energies = _energies(energies_file)
    items = read_structures(candidates)
    result, relaxed = run_screen(items, energies, criteria, out, workers=workers)
    (out / "screen.json").write_text(json.dumps(result.model_dump(), indent=1, default=str))
    _write_structures([(n, relaxed[n]) for n in result.survivors], out / "survivors.extxyz")
    figure = funnel_figure(result.counts, out / "funnel.png")
    table = Table(title="screening funnel")
    table.add_column("stage")
    table.add_column("candidates", justify="right")
    for stage, count in result.counts.items():
        table.add_row(stage, str(count))
    console.print(table)
    console.print(
        f"survivors: {', '.join(result.survivors) or 'none'}; {out}/screen.json, {figure}"
    )
