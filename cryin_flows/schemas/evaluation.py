"""Output document of an evaluation: the results with the report and provenance."""

from __future__ import annotations

from pydantic import Field

from cryin_flows.analysis.results import EvaluationResult
from cryin_flows.schemas.common import OutputDoc


class EvaluationDoc(OutputDoc, EvaluationResult):
    """Generated vs reference structures (SPEC.md §6): every metric with its interval."""

    task_label: str = Field("evaluation", description="What kind of job made this")
    report: str | None = Field(None, description="Path of report.html, when one was written")

    @classmethod
    def from_result(cls, result: EvaluationResult, report: str | None = None) -> EvaluationDoc:
        """The document of an evaluation's results."""
        return cls(**dict(result), report=report)
