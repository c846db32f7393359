"""``cryin evaluate`` and ``cryin report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryin_flows.cli.common import (
    PresetOpt,
    ProjectOption,
    TemplateOpt,
    console,
    friendly_errors,
    given,
    load_template,
    progress_bar,
    read_fitting,
)
from cryin_flows.errors import ConfigurationError


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
        str | None,
        typer.Option(
            "--sites",
            help="region (each structure's interface region, default) | all (every cation)",
        ),
    ] = None,
    template_file: TemplateOpt = None,
    preset: PresetOpt = "lsc-lco",
    e_ref: Annotated[
        float | None, typer.Option("--e-ref", help="eV/atom for γ̃ (default: lowest at -0.4)")
    ] = None,
    requested: Annotated[
        int | None, typer.Option("--generated-requested", help="Structures sampled before losses")
    ] = None,
    resamples: Annotated[
        int | None, typer.Option("--resamples", help="Bootstrap resamples (default 1,000)")
    ] = None,
    resample: Annotated[
        str | None,
        typer.Option(
            "--resample",
            help="Fingerprint-distance intervals resample the 'generated' set against the fixed "
            "reference (published scripts, default) or 'both'",
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Processes (default: all cores)")
    ] = None,
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
    """Compare generated (and other) structures with the training set; write a report.

    Options left out take EvaluationSettings' defaults (the published definitions).
    """
    from cryin_flows.analysis.evaluate import evaluate
    from cryin_flows.analysis.report import write_report
    from cryin_flows.analysis.results import EvaluationSettings

    template = load_template(template_file, preset)
    paths = {"training": reference, "generated": generated}
    if random_set is not None:
        paths["random"] = random_set
    if high_energy is not None:
        paths["high energy"] = high_energy
    datasets = {name: read_fitting(path, template) for name, path in paths.items()}
    settings = EvaluationSettings(
        **given(
            sites=sites, e_ref=e_ref, n_resamples=resamples, bootstrap=resample, workers=workers
        )
    )
    with progress_bar() as progress:
        tasks = {
            name: progress.add_task(f"fingerprints: {name}", total=len(s))
            for name, s in datasets.items()
        }
        doc = evaluate(
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
