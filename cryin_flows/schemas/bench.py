"""Output documents of the Dismai-Bench system jobs."""

from __future__ import annotations

from pydantic import Field

from cryin_flows.bench.tables import BenchmarkRow
from cryin_flows.schemas.common import FileRef, OutputDoc


class BenchDatasetDoc(OutputDoc):
    """A benchmark system's training sets, as files the job wrote."""

    system: str = Field(description="Benchmark system (alloy, a-si)")
    files: dict[str, FileRef] = Field(description="Set name -> extxyz file")
    figures: dict[str, FileRef] = Field(default_factory=dict, description="Figure -> PNG")
    summary: dict = Field(default_factory=dict, description="SRO, energies, pools, density")
    settings: dict = Field(description="The dataset settings used")
    seconds: float = Field(description="Wall time, s")


class BenchScoreDoc(OutputDoc):
    """A generated set scored against its training set with the published metrics."""

    system: str = Field(description="Benchmark system (alloy, a-si)")
    training: FileRef = Field(description="Training set (extxyz)")
    generated: FileRef = Field(description="Generated set (extxyz)")
    metrics: dict = Field(description="AlloyMetrics or SiliconMetrics, as a dictionary")
    figures: dict[str, FileRef] = Field(default_factory=dict, description="Figure -> PNG")


class BenchTableDoc(OutputDoc):
    """One dataset's benchmark table: this run's generators over seeds, the published rows."""

    system: str = Field(description="Benchmark system (alloy, a-si)")
    dataset: str = Field(description="Which published table the rows sit beside")
    rows: list[BenchmarkRow] = Field(description="This run's rows, then the published ones")
    markdown: str = Field(description="The table as markdown")
    scores: list[str] = Field(description="uuids of the score jobs behind this run's rows")
