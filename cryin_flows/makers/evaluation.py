"""Maker comparing generated structures with the training set."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Maker, job

from cryin_flows.analysis.evaluate import evaluate
from cryin_flows.analysis.report import write_report
from cryin_flows.analysis.results import EvaluationSettings
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.makers.common import job_folder
from cryin_flows.schemas.dynamics import TransportDoc
from cryin_flows.schemas.evaluation import EvaluationDoc
from cryin_flows.schemas.stability import StabilityDoc


@dataclass
class EvaluateMaker(Maker):
    """Fingerprints, motifs, RDFs and energies of datasets vs a reference; writes a report.

    The report (``report.html``, PNGs, ``metrics.json``) goes to ``report_dir`` (default
    ``report`` in the job's folder); fingerprints are cached in ``cache_dir`` when given.
    """

    name: str = "evaluate"
    settings: EvaluationSettings = field(default_factory=EvaluationSettings)
    reference_name: str = "training"
    report_dir: str | None = None
    cache_dir: str | None = None

    @job
    def make(
        self,
        template: InterfaceTemplate,
        reference: InterfaceSet,
        datasets: dict[str, InterfaceSet],
        requested: dict[str, int] | None = None,
        stability: StabilityDoc | None = None,
        transport: TransportDoc | None = None,
    ) -> EvaluationDoc:
        """Compare each of ``datasets`` with ``reference`` (all must fit ``template``); the
        report gets a stability and a transport section when the study's documents of those
        stages are given."""
        all_sets = {self.reference_name: reference, **datasets}
        for name, structures in all_sets.items():
            template.validate_set(structures, label=f"dataset {name!r}")
        result = evaluate(
            all_sets,
            self.reference_name,
            template,
            self.settings,
            requested=requested,
            cache_dir=self.cache_dir,
        )
        report = write_report(
            result, job_folder(self.report_dir, "report"), stability=stability, transport=transport
        )
        return EvaluationDoc.from_result(result, report=str(report))
