"""``cryin demo``, ``cryin run`` and ``cryin submit``: the whole study."""

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
    table = Table(title=title)
    for column in ("", "this run", "what it means / the paper"):
        table.add_column(column, overflow="fold")
    for row in summary_rows(result, get_job_store(settings)):
        table.add_row(*row)
    console.print(table)
    console.print(f"\nflow saved at {result.study_dir / 'flow.json'} (rerun with --resume)")
    console.print("Read the documents back in Python:\n")
    console.print(result.read_back_snippet(), highlight=False, markup=False, soft_wrap=True)


PresetOption = Annotated[str, typer.Option("--preset", help="Study preset: demo or paper")]


ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML file of study settings (see docs/settings.md)")
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
            help="Shared folder for relaxation progress files, so a rerun job resumes "
            "(default: PROJECT/relaxations)",
        ),
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="fireworks (default) or jobflow-remote")
    ] = "fireworks",
    jf_project: Annotated[
        str | None,
        typer.Option("--jf-project", help="jobflow-remote project (default: jobflow-remote's)"),
    ] = None,
) -> None:
    """Add the study to the FireWorks LaunchPad (or write it, --out), or submit it to
    jobflow-remote (--engine jobflow-remote)."""
    from cryin_flows.flows.presets import load_study
    from cryin_flows.flows.run import with_project_folders
    from cryin_flows.launchpad.fireworks import study_workflow, submit_workflow, workflow_summary
    from cryin_flows.settings import get_settings

    if engine not in ("fireworks", "jobflow-remote"):
        raise ConfigurationError(f"--engine {engine!r}: choose fireworks or jobflow-remote")
    study = load_study(preset, config, overrides)
    if results_dir:
        study.results_dir = str(results_dir.resolve())
    # the project folder of the configuration (cryin.yaml), so no file lands in a launch folder
    study = with_project_folders(study, get_settings().project_dir)
    if engine == "jobflow-remote":
        from cryin_flows.launchpad.remote import submit_remote

        ids, workers = submit_remote(study.make(), jf_project)
        rows = {
            "job db ids": f"{ids[0]}-{ids[-1]}" if ids else "none",
            "jobs": str(sum(workers.values())),
        }
        rows.update({f"worker {k}": str(v) for k, v in sorted(workers.items())})
        print_summary("cryin submit (jobflow-remote)", rows)
        console.print("Run it: jf runner start; follow it: jf job list, jf flow list")
        return
    wf = study_workflow(study.make())
    result = submit_workflow(wf, out=out, launchpad_file=launchpad)
    rows = workflow_summary(wf)
    if out is not None:
        rows["written to"] = f"{result} (add it with: lpad add {result})"
    else:
        rows["added; firework ids"] = f"{min(result.values())}-{max(result.values())}"
    print_summary("cryin submit", rows)
    console.print(
        "Run it: cryin launch (queue jobs until the study ends), or rlaunch -w "
        "my_fworker_any.yaml rapidfire (this machine)"
    )


def stability_rows(stability) -> list[tuple[str, str, str]]:
    """Closing-table rows of the stability stage: the bulks' E_hull and windows, the mixing."""
    rows = []
    for i, w in enumerate(stability.windows):
        high = "∞" if w.e_ox is None else f"{w.e_ox:.2f}"
        rows.append(
            (
                f"{w.formula}: E_hull, window vs Li/Li⁺",
                f"{stability.e_hull.get(w.formula, float('nan')):.3f} eV/atom; "
                f"{w.e_red or 0:.2f}–{high} V; reduced to "
                f"{' + '.join(w.reduction_products) or 'nothing (stable with Li metal)'}, "
                f"oxidised to {' + '.join(w.oxidation_products) or 'nothing'}",
                ""
                if i
                else f"{stability.calculator} energies, pymatgen's hull (seed 003's method); "
                "LiCl's oxidation from experiment: 4.23 V; seed 003's Li3YCl6: 0.64–4.28 V",
            )
        )
    for m in stability.mixings:
        rows.append(
            (
                f"mixing {m.reactants[0]} | {m.reactants[1]}",
                f"{m.energy:.3f} eV/atom at x = {m.ratio:.2f} → {' + '.join(m.products)}",
                "seed 003 keeps coatings with E_rxn > −0.2 eV/atom",
            )
        )
    return rows


def transport_rows(transport) -> list[tuple[str, str, str]]:
    """Closing-table rows of the transport stage: Li D across the region per set."""
    rows = []
    for i, s in enumerate(transport.sets):
        if "region across" not in s.D:
            continue
        across, sem = s.D["region across"] * 1e4, s.D_sem["region across"] * 1e4
        plane = s.D["region in-plane"] * 1e4
        rows.append(
            (
                f"{s.label}: Li D across the region, {s.temperature:.0f} K",
                f"{across:.3f} ± {sem:.3f} Å²/ps ({s.n_structures} structures; in-plane "
                f"{plane:.3f}, all Li {s.D['all'] * 1e4:.3f}); framework MSD "
                f"{s.framework_msd:.1f} Å²",
                ""
                if i
                else "do generated regions let Li cross as the training set's do? Framework "
                "MSD above 2 Å² means the slabs flow (seed 003's cut); at demo size the error "
                "bars are as large as the values (see the report's transport section)",
            )
        )
    return rows


def summary_rows(result, store) -> list[tuple[str, str, str]]:
    """The closing table of a ``StudyResult``: (quantity, this run, what it means / the
    paper's value), so a small run's numbers are read as what they are."""
    from cryin_flows.launchpad.stores import load_output

    frames = load_output(result.uuids["frames"], store)
    potential = load_output(result.uuids["potential"], store)
    training = load_output(result.uuids["training_set"], store)
    evaluation = load_output(result.uuids["evaluation"], store)
    rows = [("store", result.store, "")]
    rows.append(
        (
            "jobs run / skipped (already done)",
            f"{result.counts['ran']} / {result.counts['skipped']} in {result.seconds:.0f} s",
            "",
        )
    )
    counts = "/".join(str(frames.counts[k]) for k in ("train", "val", "test"))
    rows.append(("training frames (train/val/test)", counts, "paper: 15,484 DFT frames"))
    initial = result.uuids.get("initial_potential")
    first = potential if initial is None else load_output(initial, store)
    trained = (
        f"lr {first.settings.learning_rate:g}, batch {first.settings.batch_size}, "
        f"{first.epochs} epochs"
    )
    if potential.fine_tunes:
        rounds = f"{potential.fine_tunes} round" + ("s" if potential.fine_tunes > 1 else "")
        trained += (
            f"; then fine-tuned in {rounds} of active learning (epochs in the last round: "
            f"{potential.epochs})"
        )
    rows.append(("potential", trained, "paper: lr 1e-3, batch 4; no active learning"))
    if potential.fine_tunes:
        before = first.metrics.get("test") or first.metrics.get("train")
        rows.append(
            (
                "potential test MAE before active learning",
                before.errors_text(),
                "on its own frame set's test split (active learning's frames train by default)",
            )
        )
    test = potential.metrics.get("test") or potential.metrics.get("train")
    spread = (
        f"; spread of its test energies {test.energy_std_mev_atom:.1f} meV/atom (ranking "
        "structures needs an energy MAE well below it)"
        if test.energy_std_mev_atom is not None
        else ""
    )
    rows.append(
        (
            "potential test MAE (E, F, S)",
            test.errors_text(),
            f"paper: 2.70 meV/atom, 20.9 meV/Å, 0.0146 GPa{spread}",
        )
    )
    infos = training.structures.infos
    converged = sum(1 for info in infos if info.get("converged") is True)
    rows.append(
        (
            "random interfaces relaxed (converged)",
            f"{len(infos)} ({converged})",
            "paper: 3,200; unconverged relaxations are not minima, their γ̃ is not final",
        )
    )
    rows.append(("e_ref", f"{training.e_ref:.4f} eV/atom", "paper: -4.78 eV/atom (its M3GNet)"))
    rows.append(
        (
            f"GAN training set (γ̃ <= {training.max_gamma:g})",
            f"{training.n_training_set} of {len(infos)}",
            "paper: 1,500 of 3,200; a cut that keeps everything selects nothing",
        )
    )
    if "reference_check" in result.uuids:
        check = load_output(result.uuids["reference_check"], store)
        rho = "n/a" if check.rank_correlation is None else f"{check.rank_correlation:.2f}"
        rows.append(
            (
                f"{len(check.indices)} relaxed random interfaces re-scored by {check.calculator}",
                f"energy {check.energy_offset_mev_atom:+.0f} meV/atom vs the potential's (MAE "
                f"{check.energy_mae_mev_atom:.0f}), largest force "
                f"{check.reference_max_force_mean:.2f} eV/Å on average, rank correlation {rho}",
                "sound minima: a few meV/atom, forces near the relaxation threshold, correlation "
                "near 1; anything else means the potential relaxes into minima the reference "
                "does not have, and the γ̃ ranking built on them is not the reference's",
            )
        )
    if "stability" in result.uuids:
        rows.extend(stability_rows(load_output(result.uuids["stability"], store)))
    if "transport" in result.uuids:
        rows.extend(transport_rows(load_output(result.uuids["transport"], store)))
    paper_low = {
        "random": "paper: ≈ 48 %",
        evaluation.reference: "the GAN training set: what the others are compared with",
    }
    for name, summary in evaluation.datasets.items():
        energy = summary.energy
        low = f"{100 * energy.fraction_below_0.value:.0f} %" if energy else "n/a"
        generated = name not in ("random", evaluation.reference)
        failed = f", failed {summary.failed_percent:.0f} %" if generated else ""
        close = f", {summary.close_pairs_mean:.2f} pairs <= 1.5 Å per structure"
        meaning = paper_low.get(name, "paper (CryinGAN): ≈ 85 %, failed 9 %")
        rows.append((f"{name}: γ̃ <= 0", f"{low} of {summary.n_structures}{failed}{close}", meaning))
    for name, per_element in evaluation.fingerprint_distances.items():
        distance = per_element.get("all")
        if distance is not None:
            rows.append(
                (
                    f"{name}: fingerprint distance (all)",
                    f"Euclidean {distance.euclidean}, cosine distance {distance.cosine_distance}",
                    "to the training set; Dismai-Bench (CryinGAN): 0.0426",
                )
            )
    rows.append(("report", str(evaluation.report), ""))
    return rows
