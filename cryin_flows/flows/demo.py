"""``cryin demo``: the stages built so far, run through jobflow on the configured store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jobflow import Flow, run_locally
from rich.console import Console

from cryin_flows.launchpad.stores import describe_store, get_job_store, load_output
from cryin_flows.makers.interfaces import InterfaceTemplateMaker, RandomInterfacesMaker
from cryin_flows.settings import CryinSettings


@dataclass
class DemoResult:
    """Where the demo put its results."""

    store: str
    project_dir: Path
    template_uuid: str
    interfaces_uuid: str
    extxyz: Path
    n_structures: int
    template_summary: dict

    def summary_rows(self) -> dict:
        """Rows of the closing table."""
        rows = {"store": self.store, "template job": self.template_uuid}
        rows["random interfaces job"] = self.interfaces_uuid
        rows["structures"] = self.n_structures
        rows.update({k: v for k, v in self.template_summary.items() if k != "system"})
        rows["extxyz copy"] = str(self.extxyz)
        return rows

    def read_back_snippet(self) -> str:
        """Python that loads the demo's structures from the store."""
        return (
            "from cryin_flows.launchpad.stores import get_job_store, load_output\n"
            "from cryin_flows.settings import get_settings\n\n"
            f'store = get_job_store(get_settings(project_dir="{self.project_dir}"))\n'
            f'doc = load_output("{self.interfaces_uuid}", store)  # RandomInterfacesDoc\n'
            "structures = doc.structures  # InterfaceSet: .structure(i), .atoms(i)\n"
            f'template = load_output("{self.template_uuid}", store)  # InterfaceTemplate\n'
        )


def run_demo(
    settings: CryinSettings, n: int = 16, seed: int = 0, console: Console | None = None
) -> DemoResult:
    """Build the LSC|LCO template and ``n`` random interfaces with jobflow, stored in the store."""
    console = console or Console(stderr=True)
    store = get_job_store(settings)
    template_job = InterfaceTemplateMaker().make()
    interfaces_job = RandomInterfacesMaker(n=n, seed=seed).make(template_job.output)
    flow = Flow([template_job, interfaces_job], name="cryin demo")
    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    with console.status(f"running {len(flow.jobs)} jobs on the {describe_store(settings)}"):
        run_locally(
            flow,
            store=store,
            create_folders=True,
            root_dir=settings.runs_dir,
            log=False,
            ensure_success=True,
        )
    doc = load_output(interfaces_job.uuid, store)
    template = load_output(template_job.uuid, store)
    structures = doc.structures
    extxyz = structures.write_extxyz(settings.project_dir / "demo_random_interfaces.extxyz")
    return DemoResult(
        store=describe_store(settings),
        project_dir=settings.project_dir.expanduser().resolve(),
        template_uuid=template_job.uuid,
        interfaces_uuid=interfaces_job.uuid,
        extxyz=extxyz,
        n_structures=len(structures),
        template_summary=template.summary(),
    )
