"""``cryin md``, ``cryin transport`` and ``cryin barrier``: Li transport on files (no database);
the makers do the same as jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cryin_flows.cli.common import console, friendly_errors, given
from cryin_flows.errors import ConfigurationError

CalculatorOpt = Annotated[
    str, typer.Option("--calculator", help="chgnet, or module:Class of an ASE calculator")
]
PotentialOpt = Annotated[
    Path | None, typer.Option("--potential", help="A trained potential folder (the study's)")
]


def _calculator(calculator: str, potential: Path | None) -> tuple[str, dict]:
    from cryin_flows.potentials.calculators import STUDY_POTENTIAL

    return (STUDY_POTENTIAL, {"path": str(potential)}) if potential else (calculator, {})


def _structures(paths: list[Path]):
    from pymatgen.core import Structure

    out = []
    for path in paths:
        if not path.is_file():
            raise ConfigurationError(f"{path} does not exist")
        try:
            out.append(Structure.from_file(path))
        except Exception as exc:  # any reader error: name the file
            raise ConfigurationError(f"{path}: not a structure pymatgen reads ({exc})") from None
    return out


def _floats(text: str, what: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigurationError(f"{what} {text!r}: give numbers separated by commas") from None


@friendly_errors
def md_command(
    structures: Annotated[list[Path], typer.Argument(help="Structure files (CIF, POSCAR, ...)")],
    out: Annotated[Path, typer.Option("--out", help="Folder: checkpoint, frames, trajectories")],
    temperatures: Annotated[str, typer.Option("--temperatures", help="K, comma-separated")] = (
        "500,1000"
    ),
    calculator: CalculatorOpt = "chgnet",
    potential: PotentialOpt = None,
    production_ps: Annotated[float | None, typer.Option("--production-ps")] = None,
    thermalise_ps: Annotated[float | None, typer.Option("--thermalise-ps")] = None,
    timestep_fs: Annotated[float | None, typer.Option("--timestep-fs")] = None,
    frame_fs: Annotated[float | None, typer.Option("--frame-fs", help="Save a frame every")] = None,
    thermostat: Annotated[
        str | None, typer.Option("--thermostat", help="nose-hoover or langevin")
    ] = None,
    min_atoms: Annotated[int | None, typer.Option("--min-atoms", help="Supercell size")] = None,
    sphere: Annotated[float | None, typer.Option("--sphere", help="Supercell holds it, Å")] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    device: Annotated[str | None, typer.Option("--device", help="auto, cpu or cuda")] = None,
) -> None:
    """NVT MD of paper 003 (relax, Berendsen, Nosé-Hoover) of every structure at every
    temperature, side by side; rerun to resume after a kill. Writes OUT/trajectories/*.json."""
    from cryin_flows.dynamics.md import MDSettings, run_md

    settings = MDSettings(
        temperatures=_floats(temperatures, "--temperatures"),
        **given(
            production_ps=production_ps, thermalise_ps=thermalise_ps, timestep_fs=timestep_fs,
            frame_fs=frame_fs, thermostat=thermostat, min_atoms=min_atoms,
            sphere_diameter=sphere, seed=seed, device=device,
        ),
    )  # fmt: skip
    name, kwargs = _calculator(calculator, potential)
    chosen = _structures(structures)
    names = [p.stem for p in structures]
    trajectories, where = run_md(chosen, name, settings, out, kwargs, names)
    folder = out / "trajectories"
    folder.mkdir(parents=True, exist_ok=True)
    table = Table(title=f"MD on {where}: {len(trajectories[0].start)} atoms per run")
    for column in ("structure", "T (K)", "mean T (K)", "ps", "file"):
        table.add_column(column)
    for t in trajectories:
        path = folder / f"{t.name}_{t.temperature:.0f}K.json"
        path.write_text(json.dumps(t.as_dict()))
        table.add_row(
            t.name, f"{t.temperature:.0f}", f"{t.temperatures.mean():.0f}",
            f"{t.duration_ps:.1f}", str(path),
        )  # fmt: skip
    console.print(table)


def _trajectory(path: Path):
    from cryin_flows.dynamics.trajectory import Trajectory

    if not path.is_file():
        raise ConfigurationError(f"{path} does not exist (write it with `cryin md`)")
    try:
        return Trajectory.from_dict(json.loads(path.read_text()))
    except (ValueError, KeyError) as exc:
        raise ConfigurationError(f"{path}: not a trajectory of `cryin md` ({exc})") from None


@friendly_errors
def transport_command(
    trajectories: Annotated[
        list[Path], typer.Argument(help="Trajectory files of `cryin md` (OUT/trajectories)")
    ],
    window_ps: Annotated[float | None, typer.Option("--window-ps")] = None,
    fit_ps: Annotated[
        str | None, typer.Option("--fit-ps", help="MSD fit lags, e.g. 3,15 (within a window)")
    ] = None,
    species: Annotated[str, typer.Option("--species")] = "Li",
    figures: Annotated[Path | None, typer.Option("--figures", help="Folder for PNGs")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the results (JSON)")] = None,
) -> None:
    """D (15 ps windows, 3-15 ps slopes), σ, E_a, σ(300 K) and paper 003's MD checks."""
    from types import SimpleNamespace

    from cryin_flows.dynamics.analysis import analyse_run, analyse_structure
    from cryin_flows.dynamics.diffusion import TransportFit
    from cryin_flows.dynamics.plots import transport_figures

    low_high = _floats(fit_ps, "--fit-ps") if fit_ps else []
    if fit_ps and len(low_high) != 2:
        raise ConfigurationError(f"--fit-ps {fit_ps!r}: give two numbers, e.g. 3,15")
    fit = TransportFit(
        **given(
            window_ps=window_ps,
            fit_start_ps=low_high[0] if low_high else None,
            fit_end_ps=low_high[1] if low_high else None,
        )
    )
    loaded = [_trajectory(p) for p in trajectories]
    runs = [analyse_run(t, species, fit) for t in loaded]
    results = []
    for name in dict.fromkeys(r.name for r in runs):
        start = next(t.start for t in loaded if t.name == name)
        results.append(
            analyse_structure([r for r in runs if r.name == name], start, fit.activation_energy)
        )
    table = Table(title=f"{species} transport ({fit.window_ps:g} ps windows)")
    for column in ("structure", "T (K)", "D (cm²/s)", "σ (mS/cm)", "framework MSD (Å²)"):
        table.add_column(column)
    for s in results:
        for r in s.runs:
            d = r.diffusivity
            table.add_row(
                s.name, f"{r.temperature:.0f}", f"{d.D:.3e} ± {d.D_sem:.1e}",
                f"{r.sigma:.3g} ± {r.sigma_sem:.2g}", f"{r.framework_msd:.2f}",
            )  # fmt: skip
    console.print(table)
    for s in results:
        a = s.arrhenius
        ea = "" if a.activation_energy is None else f"E_a {a.activation_energy:.3f} eV; "
        console.print(
            f"{s.name}: {ea}σ(300 K) {a.sigma_room:.3g} ± {a.sigma_room_sem:.2g} mS/cm "
            f"(Arrhenius), {a.sigma_room_fixed_ea:.3g} ± {a.sigma_room_fixed_ea_sem:.2g} "
            f"(E_a {a.fixed_activation_energy} eV from {a.temperatures[0]:.0f} K); checks "
            + (", ".join(f"{k} {'pass' if v else 'FAIL'}" for k, v in s.checks.items()) or "–")
        )
    if figures is not None:
        doc = SimpleNamespace(label="", trajectories=loaded)
        for kind, path in transport_figures([doc], results, [], figures, species).items():
            console.print(f"{kind}: {path}")
    if out is not None:
        out.write_text(json.dumps([s.model_dump() for s in results], indent=1))
        console.print(f"written {out}")


@friendly_errors
def barrier_command(
    structure: Annotated[Path, typer.Argument(help="Structure file with Li")],
    calculator: CalculatorOpt = "chgnet",
    potential: PotentialOpt = None,
    spacing: Annotated[float | None, typer.Option("--spacing", help="Grid step, Å")] = None,
    variant: Annotated[
        str | None, typer.Option("--variant", help="empty (Li removed) or interstitial")
    ] = None,
    figures: Annotated[Path, typer.Option("--figures", help="Folder for the PNG")] = Path("."),
) -> None:
    """The frozen-framework percolation barrier of one Li, per lattice direction."""
    import numpy as np

    from cryin_flows.dynamics.percolation import PESSettings, li_landscape, percolation_barriers
    from cryin_flows.dynamics.plots import landscape_figure
    from cryin_flows.potentials.calculators import get_calculator

    (loaded,) = _structures([structure])
    name, kwargs = _calculator(calculator, potential)
    settings = PESSettings(**given(spacing=spacing, variant=variant))
    energies, _ = li_landscape(loaded, get_calculator(name, **kwargs), settings)
    barriers = percolation_barriers(energies)
    shown = ", ".join("none" if not np.isfinite(b) else f"{b:.3f}" for b in barriers)
    console.print(
        f"{loaded.composition.reduced_formula}: grid {energies.shape}, "
        f"{int(np.isfinite(energies).sum())} points evaluated; barriers along a, b, c: {shown} eV"
    )
    path = landscape_figure(energies, barriers, figures, loaded.composition.reduced_formula)
    console.print(f"figure: {path}")
