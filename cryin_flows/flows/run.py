"""The study flow run in this process on the configured store (``cryin demo`` / ``cryin run``).

The flow is saved to ``<project_dir>/studies/<preset>/flow.json`` before anything runs; with
``resume`` the saved flow is loaded and only jobs without an output in the store run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cryin_flows.flows.study import CryinGanStudyMaker
from cryin_flows.launchpad.local import load_flow, run_resumable, save_flow
from cryin_flows.launchpad.stores import describe_store, get_job_store
from cryin_flows.settings import CryinSettings


@dataclass
class StudyResult:
    """Where a local study run put its results, and the numbers worth a glance."""

    store: str
    study_dir: Path
    uuids: dict[str, str]
    counts: dict[str, int]
    seconds: float

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


def with_project_folders(study: CryinGanStudyMaker, project: Path) -> CryinGanStudyMaker:
    """The study with its files under ``project`` (absolute, so a job writes there from any
    launch folder): the report in ``studies/<preset>/report``, fingerprints in
    ``fingerprints``, relaxation progress in ``relaxations`` (reruns resume from it); folders
    the study already names stay."""
    project = Path(project).expanduser().resolve()
    return replace(
        study,
        report_dir=study.report_dir or str(project / "studies" / study.preset / "report"),
        cache_dir=study.cache_dir or str(project / "fingerprints"),
        results_dir=study.results_dir or str(project / "relaxations"),
    )


def run_study(
    study: CryinGanStudyMaker,
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
        flow = with_project_folders(study, project).make()
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
            if not console.is_terminal:  # a log file gets one line per job instead of a bar
                elapsed = time.perf_counter() - start
                console.print(f"[{elapsed:7.1f} s] job {position + 1}/{total}: {name}")

        counts = run_resumable(flow, store, settings.runs_dir, on_start=on_start)
        progress.update(task, description="done", completed=counts["total"])
    uuids = {name: ref.uuid for name, ref in flow.output.items() if name != "gan_runs"}
    return StudyResult(
        store=describe_store(settings),
        study_dir=study_dir,
        uuids=uuids,
        counts=counts,
        seconds=time.perf_counter() - start,
    )
