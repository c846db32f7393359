"""``cryin demo``, ``cryin run`` and ``cryin submit``: the whole study."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryin_flows.cli.common import (
    ProjectOption,
    console,
    err_console,
    friendly_errors,
    print_summary,
)


def _run_study(
    preset: str,
    config: Path | None,
    overrides: list[str] | None,
    project_dir: Path | None,
    resume: bool,
    title: str,
) -> None:
    from cryin_flows.flows.presets import load_study
    from cryin_flows.flows.run import run_study
    from cryin_flows.launchpad.stores import get_job_store
    from cryin_flows.settings import get_settings

    study = load_study(preset, config, overrides)
    settings = get_settings(**({"project_dir": project_dir} if project_dir else {}))
    result = run_study(study, settings, resume=resume, console=err_console)
    print_summary(title, summary_rows(result, get_job_store(settings)))
    console.print(f"\nflow saved at {result.study_dir / 'flow.json'} (rerun with --resume)")
    console.print("Read the documents back in Python:\n")
    console.print(result.read_back_snippet(), highlight=False, markup=False, soft_wrap=True)


PresetOption = Annotated[str, typer.Option("--preset", help="Study preset: demo or paper")]


ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML file of study settings (see README)")
]


SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="key=value override of a study setting, e.g. gan_sweep.train.config.epochs=10"
    ),
]


ResumeOption = Annotated[
    bool, typer.Option("--resume", help="Reload the saved flow and run only unfinished jobs")
]


@friendly_errors
def demo(
    config: ConfigOption = None,
    overrides: SetOption = None,
    project_dir: ProjectOption = None,
    resume: ResumeOption = False,
) -> None:
    """The whole study at small scale (CHGNet labels) on the configured store, then a report."""
    _run_study("demo", config, overrides, project_dir, resume, "cryin demo")


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
    from cryin_flows.flows.presets import load_study
    from cryin_flows.launchpad.fireworks import study_workflow, submit_workflow, workflow_summary

    study = load_study(preset, config, overrides)
    if results_dir:
        study.results_dir = str(results_dir.resolve())
    wf = study_workflow(study.make())
    result = submit_workflow(wf, out=out, launchpad_file=launchpad)
    rows = workflow_summary(wf)
    if out is not None:
        rows["written to"] = f"{result} (add it with: lpad add {result})"
    else:
        rows["added; firework ids"] = f"{min(result.values())}-{max(result.values())}"
    print_summary("cryin submit", rows)
    console.print("Run it: qlaunch rapidfire (cluster) or rlaunch rapidfire (this machine)")


def summary_rows(result, store) -> dict:
    """The closing table of a ``StudyResult``: structures, potential errors, low-energy
    shares, distances."""
    from cryin_flows.launchpad.stores import load_output

    frames = load_output(result.uuids["frames"], store)
    potential = load_output(result.uuids["potential"], store)
    training = load_output(result.uuids["training_set"], store)
    evaluation = load_output(result.uuids["evaluation"], store)
    rows: dict[str, str] = {"store": result.store}
    rows["jobs run / skipped (already done)"] = (
        f"{result.counts['ran']} / {result.counts['skipped']} in {result.seconds:.0f} s"
    )
    rows["training frames (train/val/test)"] = "/".join(
        str(frames.counts[k]) for k in ("train", "val", "test")
    )
    test = potential.metrics.get("test") or potential.metrics.get("train")
    rows["potential"] = (
        f"lr {potential.settings.learning_rate:g}, batch {potential.settings.batch_size}, "
        f"{potential.epochs} epochs"
    )
    rows["potential test MAE (E, F, S)"] = (
        f"{test.energy_mae_mev_atom:.1f} meV/atom, {test.force_mae_mev_a:.0f} meV/Å, "
        f"{test.stress_mae_gpa:.3f} GPa"
    )
    rows["random interfaces relaxed"] = str(training.structures.frac_coords.shape[0])
    rows["e_ref"] = f"{training.e_ref:.4f} eV/atom"
    rows["GAN training set (γ̃ <= 0)"] = str(training.n_training_set)
    for name, summary in evaluation.datasets.items():
        energy = summary.energy
        low = f"{100 * energy.fraction_below_0.value:.0f} %" if energy else "n/a"
        generated = name not in ("random", evaluation.reference)
        failed = f", failed {summary.failed_percent:.0f} %" if generated else ""
        rows[f"{name}: γ̃ <= 0"] = f"{low} of {summary.n_structures}{failed}"
    for name, per_element in evaluation.fingerprint_distances.items():
        distance = per_element.get("all")
        if distance is not None:
            rows[f"{name}: fingerprint distance (all)"] = (
                f"Euclidean {distance.euclidean}, cosine distance {distance.cosine_distance}"
            )
    rows["report"] = str(evaluation.report)
    return rows
