"""The ``cryin`` command line."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cryin_flows import __version__
from cryin_flows.errors import ConfigurationError, CryinError

app = typer.Typer(
    help="cryin-flows: the CryinGAN interface study as jobflow workflows.", no_args_is_help=True
)
interfaces_app = typer.Typer(
    help="Build interface templates and random interfaces.", no_args_is_help=True
)
app.add_typer(interfaces_app, name="interfaces")
gan_app = typer.Typer(help="Train CryinGAN and generate structures.", no_args_is_help=True)
app.add_typer(gan_app, name="gan")
potential_app = typer.Typer(help="Train and check M3GNet potentials.", no_args_is_help=True)
app.add_typer(potential_app, name="potential")
vasp_app = typer.Typer(help="VASP DFT+U inputs of the study.", no_args_is_help=True)
app.add_typer(vasp_app, name="vasp")
config_app = typer.Typer(
    help="FireWorks and jobflow configuration for clusters.", no_args_is_help=True
)
app.add_typer(config_app, name="config")

# jobflow's local manager uses monty's deprecated ``cd``; the warning is noise for users
warnings.filterwarnings("ignore", category=FutureWarning, module="jobflow")

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


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
    )


def _load_system(
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


def _template(template_file: Path | None, preset: str, system_file: Path | None = None):
    """The template from a JSON file, else built from a system file or preset."""
    from cryin_flows.interfaces.template import InterfaceTemplate, build_interface_template

    if template_file is not None:
        return InterfaceTemplate.from_json_file(template_file)
    return build_interface_template(_load_system(preset, system_file, None))


def _read_fitting(path: Path, template):
    """Structures of an extxyz file, every frame checked against the template."""
    from cryin_flows.interfaces.interface_set import InterfaceSet

    structures = InterfaceSet.read_extxyz(path)
    template.validate_set(structures, label=str(path))
    return structures


def _print_summary(title: str, rows: dict) -> None:
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


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit")] = False,
) -> None:
    """cryin-flows command line."""
    if version:
        console.print(__version__)
        raise typer.Exit()


@interfaces_app.command("template")
@friendly_errors
def interfaces_template(
    preset: PresetOpt = "lsc-lco",
    system: SystemOpt = None,
    lateral_lattice: LateralOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the template as JSON")] = None,
) -> None:
    """Build an interface template and print its cell, composition and strain."""
    from cryin_flows.interfaces.template import build_interface_template

    template = build_interface_template(_load_system(preset, system, lateral_lattice))
    _print_summary("Interface template", template.summary())
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


@interfaces_app.command("generate")
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

    template = _template(template_file, preset, system)
    settings = RandomFillSettings(
        min_distances=_parse_pairs(min_distance),
        thickness_range=thickness,
        exchanges=PAPER_EXCHANGES if exchanges else None,
    )
    generator = RandomInterfaceGenerator(template, settings)
    with _progress() as progress:
        task = progress.add_task("random interfaces", total=n)
        structures = generator.generate(n, seed=seed, progress=lambda k: progress.advance(task, k))
    structures.write_extxyz(out)
    thick = [i["region_thickness"] for i in structures.infos]
    closest = min(i["min_region_distance"] for i in structures.infos)
    console.print(
        f"{len(structures)} structures of {template.n_atoms} atoms written to [bold]{out}[/] "
        f"(gap {min(thick):.2f}-{max(thick):.2f} Å, closest region pair {closest:.2f} Å)"
    )


@interfaces_app.command("check")
@friendly_errors
def interfaces_check(
    path: Annotated[Path, typer.Argument(help="Extended-XYZ file to check")],
    template_file: TemplateOpt = None,
    preset: PresetOpt = "lsc-lco",
) -> None:
    """Check that every frame of an extxyz file fits a template (count, order, lattice)."""

    template = _template(template_file, preset)
    structures = _read_fitting(path, template)
    console.print(
        f"{len(structures)} frames of {path} fit template {template.template_hash[:16]} "
        f"({template.system.name})"
    )


@gan_app.command("train")
@friendly_errors
def gan_train(
    data: Annotated[Path, typer.Argument(help="Training structures, multi-frame extxyz")],
    out: Annotated[Path, typer.Option("--out", help="Run folder (checkpoints, losses)")],
    bond_weight: Annotated[
        float, typer.Option("--lambda", help="Weight of the bond-distance critic (0 = off)")
    ] = 0.05,
    variant: Annotated[
        str, typer.Option("--variant", help="cryingan | comb | max | mix")
    ] = "cryingan",
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Total epochs")] = 100,
    gen_int: Annotated[int, typer.Option("--gen-int", min=1, help="Batches per G step")] = 5,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Batch size")] = 32,
    seed: Annotated[int, typer.Option("--seed", help="Seed")] = 0,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda")] = "auto",
    checkpoint_every: Annotated[
        int, typer.Option("--checkpoint-every", min=1, help="Epochs between checkpoints")
    ] = 10,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from OUT/checkpoint.pt up to --epochs")
    ] = False,
) -> None:
    """Train CryinGAN (WGAN-GP) on a dataset of structures sharing one cell and atom order."""
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
            variant=variant,
            bond_weight=bond_weight,
            epochs=epochs,
            gen_interval=gen_int,
            batch_size=batch_size,
            seed=seed,
            device=device,
            checkpoint_every=checkpoint_every,
        )
        trainer = GanTrainer(dataset, config, out)
    console.print(
        f"{len(dataset)} structures of {dataset.n_atoms} atoms "
        f"({'-'.join(dataset.species_order)}), {trainer.config.variant}, "
        f"λ = {trainer.config.bond_weight:g}, device {trainer.device}, from epoch {trainer.epoch}"
    )
    with _progress() as progress:
        task = progress.add_task("training", total=epochs, completed=trainer.epoch)

        def report(row):
            progress.update(task, advance=1, description=f"training  W {row['wasserstein']:+.4f}")

        trainer.train(epochs, progress=report)
    console.print(f"run written to [bold]{out}[/] (loss curve: {out / LOSS_PLOT})")


@gan_app.command("generate")
@friendly_errors
def gan_generate(
    run_dir: Annotated[Path, typer.Argument(help="Run folder of `cryin gan train`")],
    out: Annotated[Path, typer.Option("--out", help="Output extxyz")],
    n: Annotated[int, typer.Option("--n", min=1, help="Structures to sample")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the noise")] = 0,
    clean: Annotated[
        bool, typer.Option("--clean/--no-clean", help="Move apart atoms closer than 1.5 Å")
    ] = True,
    threshold: Annotated[float, typer.Option("--threshold", help="Close-pair threshold, Å")] = 1.5,
) -> None:
    """Sample structures from a trained generator, clean them up and write extxyz."""
    from cryin_flows.gan.generate import generate_structures

    with _progress() as progress:
        task = progress.add_task("sampling", total=n)
        result = generate_structures(
            run_dir, n, seed, clean, threshold, progress=lambda k: progress.advance(task, k)
        )
    result.structures.write_extxyz(out)
    with_close = sum(1 for c in result.close_pairs_before if c > 0)
    console.print(
        f"{len(result.structures)} of {n} structures written to [bold]{out}[/]; before clean-up "
        f"{with_close} had pairs <= {threshold} Å ({sum(result.close_pairs_before)} pairs); "
        f"{result.n_rejected} rejected"
    )


@app.command("evaluate")
@friendly_errors
def evaluate_command(
    reference: Annotated[Path, typer.Option("--reference", help="Training structures (extxyz)")],
    generated: Annotated[Path, typer.Option("--generated", help="Generated structures")],
    out: Annotated[Path, typer.Option("--out", help="Report folder")],
    high_energy: Annotated[
        Path | None, typer.Option("--high-energy", help="High-energy structures to compare too")
    ] = None,
    random_set: Annotated[
        Path | None, typer.Option("--random", help="Randomly generated structures to compare too")
    ] = None,
    sites: Annotated[
        str,
        typer.Option(
            "--sites", help="region (each structure's interface region) | all (every cation)"
        ),
    ] = "region",
    template_file: TemplateOpt = None,
    preset: PresetOpt = "lsc-lco",
    e_ref: Annotated[
        float | None, typer.Option("--e-ref", help="eV/atom for γ̃ (default: lowest at -0.4)")
    ] = None,
    requested: Annotated[
        int | None, typer.Option("--generated-requested", help="Structures sampled before losses")
    ] = None,
    resamples: Annotated[int, typer.Option("--resamples", help="Bootstrap resamples")] = 1000,
    resample: Annotated[
        str,
        typer.Option(
            "--resample",
            help="Fingerprint-distance intervals resample the 'generated' set against the fixed "
            "reference (published scripts) or 'both'",
        ),
    ] = "generated",
    workers: Annotated[int, typer.Option("--workers", help="Processes (default: all cores)")] = 0,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="Fingerprint cache (default OUT/.fingerprints)")
    ] = None,
    gan_run: Annotated[
        Path | None, typer.Option("--gan-run", help="Add this GAN run's loss curve to the report")
    ] = None,
    potential_run: Annotated[
        Path | None,
        typer.Option("--potential-run", help="Add this potential's parity plot to the report"),
    ] = None,
) -> None:
    """Compare generated (and other) structures with the training set; write a report."""
    from cryin_flows.analysis.evaluate import EvaluationSettings, evaluate
    from cryin_flows.analysis.report import write_report

    template = _template(template_file, preset)
    paths = {"training": reference, "generated": generated}
    if random_set is not None:
        paths["random"] = random_set
    if high_energy is not None:
        paths["high energy"] = high_energy
    datasets = {name: _read_fitting(path, template) for name, path in paths.items()}
    settings = EvaluationSettings(
        sites=sites,
        e_ref=e_ref,
        n_resamples=resamples,
        bootstrap=resample,
        **({"workers": workers} if workers else {}),
    )
    with _progress() as progress:
        tasks = {
            name: progress.add_task(f"fingerprints: {name}", total=len(s))
            for name, s in datasets.items()
        }
        doc, _ = evaluate(
            datasets,
            "training",
            template,
            settings,
            requested={"generated": requested} if requested else None,
            cache_dir=cache or out / ".fingerprints",
            progress=lambda name, done, total: progress.update(tasks[name], completed=done),
        )
    extra = {}
    if gan_run is not None and (gan_run / "losses.png").exists():
        extra["GAN losses"] = gan_run / "losses.png"
    if potential_run is not None and (potential_run / "parity.png").exists():
        extra["M3GNet parity"] = potential_run / "parity.png"
    report = write_report(doc, out, extra)
    for name, summary in doc.datasets.items():
        counts = ", ".join(f"{el} {n}" for el, n in summary.sites_per_element.items())
        console.print(f"{name}: {summary.n_structures} structures, sites {counts}")
    for name, per_element in doc.fingerprint_distances.items():
        line = ", ".join(
            f"{el} {d.euclidean.value:.4f} / {d.cosine_distance.value:.2e}"
            for el, d in per_element.items()
        )
        console.print(f"{name}: fingerprint Euclidean / cosine distance to training: {line}")
    console.print(f"report: [bold]{report}[/] (metrics.json and PNGs beside it)")


@app.command("label")
@friendly_errors
def label_command(
    structures_file: Annotated[Path, typer.Argument(help="Random interfaces (extxyz)")],
    out: Annotated[Path, typer.Option("--out", help="Folder for trajectories and frames")],
    reference: Annotated[
        str, typer.Option("--reference", help="chgnet, or an ASE calculator 'module:Class'")
    ] = "chgnet",
    stage1_steps: Annotated[int, typer.Option("--stage1-steps", help="Region-only steps")] = 50,
    fmax: Annotated[float, typer.Option("--fmax", help="Stage-2 force threshold, eV/Å")] = 0.1,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Stage-2 step limit")] = 500,
    seed: Annotated[int, typer.Option("--seed", help="Split seed")] = 0,
    template_file: TemplateOpt = None,
    preset: PresetOpt = "lsc-lco",
) -> None:
    """Two-stage reference relaxations; trajectories and train/val/test frames into OUT."""
    from monty.serialization import dumpfn

    from cryin_flows.potentials.calculators import get_calculator
    from cryin_flows.potentials.frames import write_frame_splits
    from cryin_flows.potentials.labelling import LabelSettings, label_interfaces

    template = _template(template_file, preset)
    structures = _read_fitting(structures_file, template)
    calculator = get_calculator(reference)
    settings = LabelSettings(
        stage1_steps=stage1_steps, stage2_fmax=fmax, stage2_max_steps=max_steps
    )
    with _progress() as progress:
        task = progress.add_task("reference relaxations", total=len(structures))
        trajectories = label_interfaces(
            structures,
            template,
            calculator,
            settings,
            reference,
            progress=lambda k: progress.advance(task, k),
        )
    out.mkdir(parents=True, exist_ok=True)
    dumpfn(trajectories, out / "trajectories.json.gz")
    split, counts, _ = write_frame_splits(trajectories, out, seed=seed)
    converged = sum(t.converged for t in trajectories)
    console.print(
        f"{len(trajectories)} relaxations ({converged} converged), "
        f"{sum(counts.values())} frames split "
        f"{', '.join(f'{k} {len(v)}' for k, v in split.items())} relaxations, in {out}"
    )


@potential_app.command("train")
@friendly_errors
def potential_train(
    frames_dir: Annotated[Path, typer.Argument(help="Folder with train/val/test.extxyz")],
    out: Annotated[Path, typer.Option("--out", help="Output folder")],
    lr: Annotated[float, typer.Option("--lr", help="Learning rate")] = 1e-3,
    batch: Annotated[int, typer.Option("--batch", help="Batch size")] = 4,
    epochs: Annotated[int, typer.Option("--epochs", help="Epoch limit")] = 1000,
    patience: Annotated[int, typer.Option("--patience", help="Early-stopping patience")] = 50,
    seed: Annotated[int, typer.Option("--seed", help="Seed")] = 0,
    units: Annotated[int, typer.Option("--units", help="M3GNet hidden units")] = 64,
    nblocks: Annotated[int, typer.Option("--nblocks", help="M3GNet blocks")] = 3,
) -> None:
    """Train an M3GNet potential from scratch; MAEs per split and a parity plot."""
    from cryin_flows.potentials.m3gnet import M3GNetSettings, train_m3gnet

    settings = M3GNetSettings(
        learning_rate=lr,
        batch_size=batch,
        max_epochs=epochs,
        patience=patience,
        seed=seed,
        units=units,
        nblocks=nblocks,
    )
    with err_console.status("training M3GNet"):
        summary = train_m3gnet(frames_dir, out, settings)
    for split, m in summary["metrics"].items():
        console.print(
            f"{split:5s}: {m['energy_mae_mev_atom']:.2f} meV/atom, "
            f"{m['force_mae_mev_a']:.1f} meV/Å, {m['stress_mae_gpa']:.4f} GPa "
            f"({m['n_frames']} frames)"
        )
    console.print(
        f"potential: [bold]{summary['potential_dir']}[/], parity plot {summary['parity_plot']}"
    )


@app.command("relax")
@friendly_errors
def relax_command(
    structures_file: Annotated[Path, typer.Argument(help="Structures to relax (extxyz)")],
    potential: Annotated[Path, typer.Option("--potential", help="Saved potential folder")],
    out: Annotated[Path, typer.Option("--out", help="Relaxed structures (extxyz)")],
    fmax: Annotated[float, typer.Option("--fmax", help="Force threshold, eV/Å")] = 0.05,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Step limit")] = 1000,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Structures per call")] = 16,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda")] = "cpu",
) -> None:
    """Batched fixed-cell FIRE relaxation; resumable (OUT.jsonl), per-structure CSV beside OUT."""
    import csv

    from cryin_flows.interfaces.interface_set import InterfaceSet
    from cryin_flows.potentials.m3gnet import load_potential
    from cryin_flows.potentials.relax import RelaxSettings, relax_batch

    structures = InterfaceSet.read_extxyz(structures_file)
    settings = RelaxSettings(fmax=fmax, max_steps=max_steps, batch_size=batch_size, device=device)
    pot = load_potential(potential)
    with _progress() as progress:
        task = progress.add_task("relaxing", total=len(structures))
        relaxed, records = relax_batch(
            structures,
            pot,
            settings,
            results_path=out.with_suffix(".jsonl"),
            progress=lambda k: progress.advance(task, k),
        )
    relaxed.write_extxyz(out)
    csv_path = out.with_suffix(".csv")
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    converged = sum(r["converged"] for r in records)
    console.print(f"{converged} of {len(records)} converged; {out}, per structure {csv_path}")


@vasp_app.command("inputs")
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
        template = _template(template_file, "lsc-lco")
        template.validate_structure(structure, label=str(structure_file))
    if potcar_spec is False:
        require_potcars()
    write_inputs(structure, preset, out, template=template, potcar_spec=potcar_spec)
    files = sorted(p.name for p in out.iterdir())
    console.print(f"{preset} inputs in [bold]{out}[/]: {', '.join(files)}")


@app.command("energy")
@friendly_errors
def energy_command(
    structures_file: Annotated[Path, typer.Argument(help="Relaxed structures with energies")],
    e_ref: Annotated[
        float | None, typer.Option("--e-ref", help="eV/atom (default: lowest at -0.4 J/m²)")
    ] = None,
    template_file: TemplateOpt = None,
    preset: PresetOpt = "lsc-lco",
    training_set: Annotated[
        Path | None, typer.Option("--training-set", help="Write the γ̃ <= max frames here")
    ] = None,
    max_gamma: Annotated[float, typer.Option("--max", help="Low-energy cut, J/m²")] = 0.0,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many")] = None,
) -> None:
    """Normalised interface energies; optionally the low-energy GAN training set."""
    from cryin_flows.potentials.interface_energy import (
        annotate_interface_energies,
        low_energy_subset,
    )

    template = _template(template_file, preset)
    structures = _read_fitting(structures_file, template)
    gamma, used = annotate_interface_energies(structures, template.area, e_ref)
    console.print(
        f"{len(gamma)} structures, e_ref = {used:.5f} eV/atom, A = {template.area:.2f} Å²: "
        f"γ̃ from {gamma.min():.3f} to {gamma.max():.3f} J/m², "
        f"{(gamma <= 0).mean():.1%} <= 0, {(gamma <= -0.2).mean():.1%} <= -0.2"
    )
    if training_set is not None:
        subset = low_energy_subset(structures, gamma, max_gamma, limit)
        subset.write_extxyz(training_set)
        console.print(f"{len(subset)} structures with γ̃ <= {max_gamma} written to {training_set}")


def _run_study(
    preset: str,
    config: Path | None,
    overrides: list[str] | None,
    project_dir: Path | None,
    resume: bool,
    title: str,
) -> None:
    from cryin_flows.flows.demo import run_study
    from cryin_flows.flows.study import load_study_settings
    from cryin_flows.settings import get_settings

    study = load_study_settings(preset, config, overrides)
    settings = get_settings(**({"project_dir": project_dir} if project_dir else {}))
    result = run_study(study, settings, resume=resume, console=err_console)
    _print_summary(title, result.rows)
    console.print(f"\nflow saved at {result.study_dir / 'flow.json'} (rerun with --resume)")
    console.print("Read the documents back in Python:\n")
    console.print(result.read_back_snippet(), highlight=False, markup=False, soft_wrap=True)


PresetOption = Annotated[str, typer.Option("--preset", help="Study preset: demo or paper")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML file of study settings (see README)")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="key=value override of a study setting, e.g. gan.epochs=10"),
]
ProjectOption = Annotated[
    Path | None, typer.Option("--project-dir", help="Project folder (default: settings)")
]
ResumeOption = Annotated[
    bool, typer.Option("--resume", help="Reload the saved flow and run only unfinished jobs")
]


@app.command("demo")
@friendly_errors
def demo(
    config: ConfigOption = None,
    overrides: SetOption = None,
    project_dir: ProjectOption = None,
    resume: ResumeOption = False,
) -> None:
    """The whole study at small scale (CHGNet labels) on the configured store, then a report."""
    _run_study("demo", config, overrides, project_dir, resume, "cryin demo")


@app.command("run")
@friendly_errors
def run_command(
    preset: PresetOption = "paper",
    config: ConfigOption = None,
    overrides: SetOption = None,
    project_dir: ProjectOption = None,
    resume: ResumeOption = False,
) -> None:
    """Run a study preset in this process (no queue) on the configured store."""
    _run_study(preset, config, overrides, project_dir, resume, f"cryin run ({preset})")


@app.command("submit")
@friendly_errors
def submit_command(
    preset: PresetOption = "paper",
    config: ConfigOption = None,
    overrides: SetOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the workflow (for `lpad add`) instead")
    ] = None,
    launchpad: Annotated[
        Path | None, typer.Option("--launchpad", help="my_launchpad.yaml (default: FireWorks')")
    ] = None,
    results_dir: Annotated[
        Path | None,
        typer.Option(
            "--results-dir",
            help="Shared folder for relaxation progress files, so a rerun job resumes",
        ),
    ] = None,
) -> None:
    """Convert the study to a FireWorks workflow and add it to the LaunchPad (or --out)."""
    from cryin_flows.flows.study import CryinGanStudyMaker, load_study_settings
    from cryin_flows.launchpad.fireworks import study_workflow, submit_workflow, workflow_summary

    study = load_study_settings(preset, config, overrides)
    maker = CryinGanStudyMaker(
        settings=study, results_dir=str(results_dir.resolve()) if results_dir else None
    )
    wf = study_workflow(maker.make())
    result = submit_workflow(wf, out=out, launchpad_file=launchpad)
    rows = workflow_summary(wf)
    if out is not None:
        rows["written to"] = f"{result} (add it with: lpad add {result})"
    else:
        rows["added; firework ids"] = f"{min(result.values())}-{max(result.values())}"
    _print_summary("cryin submit", rows)
    console.print("Run it: qlaunch rapidfire (cluster) or rlaunch rapidfire (this machine)")


@config_app.command("init")
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
    database: Annotated[str, typer.Option("--database", help="Results database")] = "cryin_flows",
    fireworks_database: Annotated[
        str, typer.Option("--fireworks-database", help="FireWorks (LaunchPad) database")
    ] = "cryin_fireworks",
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="slurm or pbs")] = None,
    cpu_queue: Annotated[str | None, typer.Option("--cpu-queue", help="CPU partition")] = None,
    gpu_queue: Annotated[str | None, typer.Option("--gpu-queue", help="GPU partition")] = None,
    account: Annotated[str | None, typer.Option("--account", help="Allocation")] = None,
    walltime: Annotated[str, typer.Option("--walltime", help="Queue time limit")] = "24:00:00",
    cpus: Annotated[int, typer.Option("--cpus", min=1, help="Cores per queue job")] = 16,
) -> None:
    """Write my_launchpad.yaml, workers, queue adapters, jobflow.yaml and env.sh.

    Options left out are asked for when the terminal is interactive.
    """
    import sys

    from rich.prompt import Prompt

    from cryin_flows.launchpad.config import ClusterAnswers, write_cluster_config

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
    )
    written = write_cluster_config(answers)
    _print_summary("cryin config init", {k: str(v) for k, v in written.items()})
    env = written["env.sh"]
    console.print(
        f"Next: source {env}; lpad reset (once per new LaunchPad); cryin config check; "
        "cryin submit --preset paper"
    )


@config_app.command("check")
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


@app.command("query")
@friendly_errors
def query_command(
    kind: Annotated[
        str,
        typer.Argument(
            help="interfaces, labels, frames, potentials, "
            "relaxations, energies, gan-runs, generated or evaluations"
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


@app.command("report")
@friendly_errors
def report_command(
    uuid: Annotated[
        str | None, typer.Argument(help="Evaluation job UUID (default: the newest)")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Report folder")] = Path("report"),
    project_dir: ProjectOption = None,
) -> None:
    """Rebuild the HTML report of a stored evaluation."""
    from cryin_flows.analysis.report import write_report
    from cryin_flows.launchpad.queries import query_outputs
    from cryin_flows.launchpad.stores import get_job_store, load_output
    from cryin_flows.schemas.evaluation import EvaluationDoc
    from cryin_flows.settings import get_settings

    store = get_job_store(get_settings(**({"project_dir": project_dir} if project_dir else {})))
    if uuid is None:
        newest = query_outputs(store, "evaluations", limit=1)
        if not newest:
            raise ConfigurationError("no evaluation in the store; run one or give a UUID")
        uuid = newest[0]["uuid"]
    store.connect()
    if store.query_one({"uuid": uuid}, properties=["uuid"]) is None:
        raise ConfigurationError(f"no job output with uuid {uuid} in the store")
    doc = load_output(uuid, store)
    if not isinstance(doc, EvaluationDoc):
        raise ConfigurationError(f"{uuid} is a {type(doc).__name__}, not an evaluation")
    path = write_report(doc, out)
    console.print(f"report of evaluation {uuid}: {path}")


if __name__ == "__main__":  # pragma: no cover
    app()
