"""``cryin demo``: the stages built so far, run through jobflow on the configured store.

Stages now: interface template -> random interfaces -> CryinGAN training (a few epochs) ->
generation and clean-up -> evaluation report. Until the potential stage exists, the random
interfaces stand in for the low-energy GAN training set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jobflow import Flow, run_locally
from rich.console import Console

from cryin_flows.analysis.evaluate import EvaluationSettings
from cryin_flows.gan.config import GanConfig
from cryin_flows.launchpad.stores import describe_store, get_job_store, load_output
from cryin_flows.makers.evaluation import EvaluateMaker
from cryin_flows.makers.gan import GanGenerateMaker, GanTrainMaker
from cryin_flows.makers.interfaces import InterfaceTemplateMaker, RandomInterfacesMaker
from cryin_flows.settings import CryinSettings


@dataclass
class DemoResult:
    """Where the demo put its results, and the numbers worth a glance."""

    store: str
    project_dir: Path
    uuids: dict[str, str]
    extxyz: dict[str, Path]
    rows: dict

    def summary_rows(self) -> dict:
        """Rows of the closing table."""
        rows = {"store": self.store}
        rows.update({f"{stage} job": uuid for stage, uuid in self.uuids.items()})
        rows.update(self.rows)
        rows.update({f"{name} (extxyz copy)": str(path) for name, path in self.extxyz.items()})
        return rows

    def read_back_snippet(self) -> str:
        """Python that loads the demo's results from the store."""
        return (
            "from cryin_flows.launchpad.stores import get_job_store, load_output\n"
            "from cryin_flows.settings import get_settings\n\n"
            f'store = get_job_store(get_settings(project_dir="{self.project_dir}"))\n'
            f'template = load_output("{self.uuids["template"]}", store)  # InterfaceTemplate\n'
            f'random = load_output("{self.uuids["random interfaces"]}", store)\n'
            "random.structures.structure(0)  # InterfaceSet -> pymatgen Structure\n"
            f'model = load_output("{self.uuids["gan train"]}", store)  # GanTrainDoc\n'
            f'generated = load_output("{self.uuids["gan generate"]}", store)  # GanGenerateDoc\n'
            f'evaluation = load_output("{self.uuids["evaluate"]}", store)  # EvaluationDoc\n'
        )


def demo_gan_config(seed: int = 0) -> GanConfig:
    """Paper architecture and optimiser, a few epochs: shows the stage, learns little."""
    return GanConfig(epochs=2, batch_size=16, gen_interval=1, seed=seed, checkpoint_every=1)


def run_demo(
    settings: CryinSettings, n: int = 16, seed: int = 0, console: Console | None = None
) -> DemoResult:
    """Run the demo flow on the store the settings name; return where everything went."""
    console = console or Console(stderr=True)
    store = get_job_store(settings)
    template_job = InterfaceTemplateMaker().make()
    interfaces_job = RandomInterfacesMaker(n=n, seed=seed).make(template_job.output)
    train_job = GanTrainMaker(config=demo_gan_config(seed)).make(interfaces_job.output.structures)
    generate_job = GanGenerateMaker(n=n, seed=seed).make(train_job.output)
    report_dir = settings.project_dir.expanduser().resolve() / "demo_report"
    evaluate_job = EvaluateMaker(
        settings=EvaluationSettings(n_resamples=200, seed=seed),
        report_dir=str(report_dir),
        cache_dir=str(settings.project_dir.expanduser().resolve() / "fingerprints"),
    ).make(
        template_job.output,
        interfaces_job.output.structures,
        {"generated": generate_job.output.structures},
        requested={"generated": n},
    )
    jobs = {
        "template": template_job,
        "random interfaces": interfaces_job,
        "gan train": train_job,
        "gan generate": generate_job,
        "evaluate": evaluate_job,
    }
    flow = Flow(list(jobs.values()), name="cryin demo")
    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    with console.status(f"running {len(jobs)} jobs on the {describe_store(settings)}"):
        run_locally(
            flow,
            store=store,
            create_folders=True,
            root_dir=settings.runs_dir,
            log=False,
            ensure_success=True,
        )
    template = load_output(template_job.uuid, store)
    random = load_output(interfaces_job.uuid, store)
    model = load_output(train_job.uuid, store)
    generated = load_output(generate_job.uuid, store)
    evaluation = load_output(evaluate_job.uuid, store)
    out_dir = settings.project_dir
    extxyz = {
        "random interfaces": random.structures.write_extxyz(out_dir / "demo_random.extxyz"),
        "generated": generated.structures.write_extxyz(out_dir / "demo_generated.extxyz"),
    }
    rows = {k: v for k, v in template.summary().items() if k != "system"}
    rows["random interfaces"] = random.n_structures
    rows["GAN epochs / final W estimate"] = (
        f"{model.epochs} / {model.final_losses.get('wasserstein', float('nan')):+.4f}"
    )
    rows["generated kept / rejected"] = f"{generated.n_generated} / {generated.n_rejected}"
    rows["close pairs per raw structure"] = f"{generated.close_pairs_before.mean:.1f}"
    distance = evaluation.fingerprint_distances["generated"].get("all")
    if distance is not None:
        rows["fingerprint distance generated-training"] = str(distance.euclidean)
    rows["report"] = evaluation.report
    return DemoResult(
        store=describe_store(settings),
        project_dir=settings.project_dir.expanduser().resolve(),
        uuids={name: job.uuid for name, job in jobs.items()},
        extxyz=extxyz,
        rows=rows,
    )
