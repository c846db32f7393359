"""Makers of the Dismai-Bench systems: build a system's training sets, score a generated set."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jobflow import Maker, job

from cryin_flows.bench.systems import (
    AlloyDatasetSettings,
    DatasetDoc,
    SiliconDatasetSettings,
    build_alloy_dataset,
    build_silicon_dataset,
    get_system,
    score_alloy,
    score_silicon,
)
from cryin_flows.errors import ConfigurationError
from cryin_flows.makers.common import job_folder
from cryin_flows.schemas.bench import BenchDatasetDoc, BenchScoreDoc
from cryin_flows.schemas.common import FileRef


def _dataset_doc(doc: DatasetDoc) -> BenchDatasetDoc:
    return BenchDatasetDoc(
        task_label="bench dataset",
        system=doc.system,
        files={k: FileRef.of(p) for k, p in doc.files.items()},
        figures={k: FileRef.of(p) for k, p in doc.figures.items()},
        summary=doc.summary,
        settings=doc.settings,
        seconds=doc.seconds,
    )


def _progress(message: str) -> None:
    print(message, flush=True)  # a line per step: readable in a queue job's log file


@dataclass
class AlloyDatasetMaker(Maker):
    """The alloy sets of Dismai-Bench: CE Monte Carlo per temperature, the wide and narrow
    selections, SRO and energy figures, in the job's folder (``work_dir`` or a new one)."""

    name: str = "alloy dataset"
    settings: AlloyDatasetSettings = field(default_factory=AlloyDatasetSettings)
    work_dir: str | None = None

    @job
    def make(self) -> BenchDatasetDoc:
        """Run the chains and write the sets."""
        folder = job_folder(self.work_dir, "alloy_dataset")
        return _dataset_doc(build_alloy_dataset(folder, self.settings, _progress))


@dataclass
class SiliconDatasetMaker(Maker):
    """The a-Si stand-in set: a LAMMPS melt-quench, blocks cut as the paper did, relaxed.
    A rerun in the same ``work_dir`` keeps an earlier quench."""

    name: str = "a-si dataset"
    settings: SiliconDatasetSettings = field(default_factory=SiliconDatasetSettings)
    work_dir: str | None = None

    @job
    def make(self) -> BenchDatasetDoc:
        """Quench, cut and relax."""
        folder = job_folder(self.work_dir, "a_si_dataset")
        return _dataset_doc(build_silicon_dataset(folder, self.settings, _progress))


@dataclass
class BenchScoreMaker(Maker):
    """Score a generated set against a training set with the system's published metrics
    (alloy: lattice cleaning, d_cluster, vacancies; a-si: d_motif, d_rdf, d_angle)."""

    name: str = "bench score"
    system: str = "alloy"
    n_generated: int | None = None
    translate: bool = False
    relax: str | None = None
    n_resamples: int = 1000
    workers: int | None = None
    work_dir: str | None = None

    @job
    def make(self, training: str, generated: str) -> BenchScoreDoc:
        """``training`` and ``generated``: extxyz paths (a dataset document's files)."""
        get_system(self.system)
        folder = job_folder(self.work_dir, f"score_{self.system}")
        training_path, generated_path = Path(training), Path(generated)
        if self.system == "alloy":
            doc = score_alloy(
                training_path, generated_path, folder, self.n_generated, self.translate,
                self.n_resamples,
            )  # fmt: skip
        elif self.system == "a-si":
            doc = score_silicon(
                training_path, generated_path, folder, self.n_generated, self.relax,
                self.workers, self.n_resamples, _progress,
            )  # fmt: skip
        else:
            raise ConfigurationError(f"{self.name}: the {self.system} system is scored by evaluate")
        return BenchScoreDoc(
            task_label="bench score",
            system=doc.system,
            training=FileRef.of(training_path),
            generated=FileRef.of(generated_path),
            metrics=doc.metrics,
            figures={k: FileRef.of(p) for k, p in doc.figures.items()},
        )
