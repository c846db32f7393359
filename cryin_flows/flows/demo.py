"""``cryin demo`` / ``cryin run``: the study flow run in this process on the configured store.

The flow is saved to ``<project_dir>/studies/<preset>/flow.json`` before anything runs; with
``resume`` the saved flow is loaded and only jobs without an output in the store run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cryin_flows.flows.study import CryinGanStudyMaker, StudySettings
from cryin_flows.launchpad.local import load_flow, run_resumable, save_flow
from cryin_flows.launchpad.stores import describe_store, get_job_store, load_output
from cryin_flows.settings import CryinSettings


@dataclass
class StudyResult:
    """Where a local study run put its results, and the numbers worth a glance."""

    store: str
    study_dir: Path
    uuids: dict[str, str]
    counts: dict[str, int]
    seconds: float
    rows: dict

    def read_back_snippet(self) -> str:
        """Python that loads the study's documents from the store."""
        project = self.study_dir.parent.parent
        lines = [
            "from cryin_flows.launchpad.stores import get_job_store, load_output",
            "from cryin_flows.settings import get_settings",
            f'store = get_job_store(get_settings(project_dir="{project}"))',
        ]
        for name, uuid in self.uuids.items():
            lines.append(f'{name.replace(" ", "_")} = load_output("{uuid}", store)')
        return "\n".join(lines)


def run_study(
    study: StudySettings,
    settings: CryinSettings,
    resume: bool = False,
    console: Console | None = None,
) -> StudyResult:
    """Build (or, with ``resume``, reload) the study flow and run its missing jobs."""
    console = console or Console(stderr=True)
    store = get_job_store(settings)
    project = settings.project_dir.expanduser().resolve()
    study_dir = project / "studies" / study.preset
    flow_path = study_dir / "flow.json"
    if resume:
        flow = load_flow(flow_path)
    else:
        flow = CryinGanStudyMaker(
            settings=study,
            report_dir=str(study_dir / "report"),
            cache_dir=str(project / "fingerprints"),
            results_dir=str(project / "relaxations"),
        ).make()
        save_flow(flow, flow_path)
    start = time.perf_counter()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} jobs"),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("starting", total=None)

        def on_start(name: str, position: int, total: int) -> None:
            progress.update(task, description=name, completed=position, total=total)

        counts = run_resumable(flow, store, settings.runs_dir, on_start=on_start)
        progress.update(task, description="done", completed=counts["total"])
    uuids = {name: ref.uuid for name, ref in flow.output.items() if name != "gan_runs"}
    result = StudyResult(
        store=describe_store(settings),
        study_dir=study_dir,
        uuids=uuids,
        counts=counts,
        seconds=time.perf_counter() - start,
        rows={},
    )
    result.rows = summary_rows(result, store)
    return result


def summary_rows(result: StudyResult, store) -> dict:
    """The closing table: structures, potential errors, low-energy shares, distances."""
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
