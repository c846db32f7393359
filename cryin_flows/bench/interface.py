"""The interface system: a study's training set and Dismai-Bench's interface scores through
the study's evaluation (every cation site)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from cryin_flows.bench.common import Progress, ScoreDoc, ScoreOptions, interval_text
from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.energy import TRAINING_SET_ENERGY_JOB
from cryin_flows.utils import SerializableModel


class InterfaceDatasetSettings(SerializableModel):
    """A study's GAN training set, exported from the store the study ran on."""

    energy_job: str | None = Field(
        None, description="uuid of the interface-energy job whose training set is exported "
        "(default: the newest job called energy_job_name)",
    )  # fmt: skip
    energy_job_name: str = Field(
        TRAINING_SET_ENERGY_JOB, description="The study's training-set energy job's name"
    )
    project_dir: str | None = Field(None, description="Project whose store (default: settings)")


def _interface_template(name: str | None, training: Path):
    from cryin_flows.interfaces.template import InterfaceTemplate, build_interface_template

    if name is None:
        beside = training.parent / "template.json"
        if not beside.is_file():
            raise ConfigurationError(
                f"the interface system needs its template: give one (a JSON file or a system "
                f"name), or put template.json beside {training}"
            )
        return InterfaceTemplate.from_json_file(beside)
    if Path(name).suffix == ".json":
        return InterfaceTemplate.from_json_file(name)
    return build_interface_template(name)


def score_interface(
    training: Path,
    generated: Path,
    out_dir: Path,
    options: ScoreOptions | None = None,
    progress: Progress | None = None,
) -> ScoreDoc:
    """Dismai-Bench's interface metrics through the study's evaluation: fingerprints of every
    cation site (``sites='all'``), d per element and over all, failed % (of ``n_generated``:
    lost in clean-up or not converged in relaxation, as the study's evaluation counts them;
    unconverged structures stay in the distances, as there), and with ``relax`` the share that
    converged; the evaluation's report beside the score."""
    from cryin_flows.analysis.evaluate import evaluate
    from cryin_flows.analysis.report import write_report
    from cryin_flows.analysis.results import EvaluationSettings
    from cryin_flows.interfaces.interface_set import InterfaceSet

    options = options or ScoreOptions()
    template = _interface_template(options.template, training)
    train = InterfaceSet.read_extxyz(training)
    gen = InterfaceSet.read_extxyz(generated)
    template.validate_set(train, label=f"training set {training}")
    template.validate_set(gen, label=f"generated set {generated}")
    n_requested = options.n_generated or len(gen)
    relaxed = None
    if options.relax is not None:
        from cryin_flows.potentials.m3gnet import load_potential
        from cryin_flows.potentials.relax import RelaxSettings, relax_batch

        out_dir.mkdir(parents=True, exist_ok=True)
        steps = {"max_steps": options.relax_steps} if options.relax_steps else {}
        gen, records = relax_batch(
            gen,
            load_potential(options.relax),
            RelaxSettings(**steps),
            results_path=out_dir / "relaxations.jsonl",
        )
        # kept converged or not, as the study's evaluation keeps them (and counts the
        # unconverged as failed); the share that converged is reported too
        converged = sum(bool(r["converged"]) for r in records)
        relaxed = {"relaxed": len(records), "converged": converged}
        if progress is not None:
            progress(f"interface: {converged} of {len(records)} structures converged")
    present = set(template.species)
    pairs = [p for p in EvaluationSettings().rdf_pairs if set(p) <= present]
    evaluation = EvaluationSettings(
        sites="all",
        rdf_pairs=pairs or [("Li", "Li")],
        n_resamples=options.n_resamples,
        **({"workers": options.workers} if options.workers else {}),
    )

    def tick(name: str, done: int, total: int) -> None:
        if progress is not None and (done % 20 == 0 or done == total):
            progress(f"interface fingerprints, {name}: {done}/{total}")

    result = evaluate(
        {"training": train, "generated": gen},
        "training",
        template,
        evaluation,
        requested={"generated": n_requested},
        progress=tick,
    )
    report = write_report(result, out_dir / "report")
    distances = result.fingerprint_distances["generated"]
    summary = result.datasets["generated"]
    metrics = {
        **{f"d_{el}": d.euclidean.model_dump() for el, d in distances.items()},
        **{f"cosine_{el}": d.cosine_distance.model_dump() for el, d in distances.items()},
        "failed_percent": summary.failed_percent,
        "n_generated": n_requested,
        "n_scored": summary.n_structures,
        "close_pairs_mean": summary.close_pairs_mean,
    }
    if relaxed is not None:
        metrics["relaxation"] = relaxed
        metrics["converged_percent"] = 100.0 * relaxed["converged"] / max(relaxed["relaxed"], 1)
    if summary.energy is not None:
        metrics["fraction_below_0"] = summary.energy.fraction_below_0.model_dump()
    doc = ScoreDoc(
        system="interface",
        training=str(training),
        generated=str(generated),
        metrics=metrics,
        figures={"report": str(report)},
    )
    return doc.write(out_dir)


def interface_rows(m: dict) -> dict[str, str]:
    """The interface score's lines worth printing."""
    rows = {k: interval_text(v) for k, v in m.items() if k.startswith("d_")}
    rows["failed (%)"] = f"{m['failed_percent']:.1f}"
    if "relaxation" in m:
        rows["converged in relaxation"] = (
            f"{m['relaxation']['converged']} of {m['relaxation']['relaxed']}"
        )
    if "fraction_below_0" in m:
        rows["share with γ̃ <= 0"] = interval_text(m["fraction_below_0"], digits=3)
    return rows
