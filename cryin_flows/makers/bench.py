"""Makers of the Dismai-Bench systems: build a system's training sets, score a generated set."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jobflow import Maker, job

from cryin_flows.bench.alloy import AlloyDatasetSettings, build_alloy_dataset
from cryin_flows.bench.common import DatasetDoc, ScoreOptions
from cryin_flows.bench.interface import InterfaceDatasetSettings
from cryin_flows.bench.silicon import SiliconDatasetSettings, build_silicon_dataset
from cryin_flows.bench.systems import get_system
from cryin_flows.bench.tables import published_rows, summarise
from cryin_flows.launchpad.exports import export_interface_dataset
from cryin_flows.makers.common import job_folder
from cryin_flows.schemas.bench import BenchDatasetDoc, BenchScoreDoc, BenchTableDoc
from cryin_flows.schemas.common import FileRef
from cryin_flows.schemas.gan import GanGenerateDoc


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
class InterfaceDatasetMaker(Maker):
    """The interface system's dataset: a study's GAN training set, its template and its
    potential exported from the store into the job's folder (the study builds the set)."""

    name: str = "interface dataset"
    settings: InterfaceDatasetSettings = field(default_factory=InterfaceDatasetSettings)
    work_dir: str | None = None

    @job
    def make(self) -> BenchDatasetDoc:
        """Export the newest (or the named) training set."""
        folder = job_folder(self.work_dir, "interface_dataset")
        return _dataset_doc(export_interface_dataset(folder, self.settings, _progress))


@dataclass
class BenchScoreMaker(Maker):
    """Score a generated set against a training set with the system's published metrics
    (alloy: lattice cleaning, d_cluster, vacancies; a-si: d_motif, d_rdf, d_angle; interface:
    d per cation and over all, failed %)."""

    name: str = "bench score"
    system: str = "alloy"
    options: ScoreOptions = field(default_factory=ScoreOptions)
    work_dir: str | None = None

    @job
    def make(self, training: str, generated: str | GanGenerateDoc) -> BenchScoreDoc:
        """``training``: an extxyz path; ``generated``: one too, or a generation job's
        document (its structures are written to the job's folder; structures it rejected
        count as failed unless ``options.n_generated`` is set)."""
        system = get_system(self.system)
        folder = job_folder(self.work_dir, f"score_{self.system}")
        options = self.options
        if isinstance(generated, GanGenerateDoc):
            folder.mkdir(parents=True, exist_ok=True)
            generated.structures.write_extxyz(folder / "generated.extxyz")
            if options.n_generated is None:
                options = options.model_copy(update={"n_generated": generated.n_requested})
            generated = str(folder / "generated.extxyz")
        training_path, generated_path = Path(training), Path(generated)
        doc = system.score(training_path, generated_path, folder, options, _progress)
        return BenchScoreDoc(
            task_label="bench score",
            system=doc.system,
            training=FileRef.of(training_path),
            generated=FileRef.of(generated_path),
            metrics=doc.metrics,
            figures={k: FileRef.of(p) for k, p in doc.figures.items()},
        )


@dataclass
class TranslationAugmentMaker(Maker):
    """CryinGAN's alloy augmentation: every structure and its 63 copies shifted by whole
    conventional cells (paper §4.2), written to the job's folder."""

    name: str = "translations"
    work_dir: str | None = None

    @job
    def make(self, training: str) -> FileRef:
        """The augmented set of the extxyz file ``training``."""
        from ase.io import write

        from cryin_flows.alloys.dataset import translated_copies
        from cryin_flows.bench.common import read_frames

        folder = job_folder(self.work_dir, "translations")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{Path(training).stem}_translated.extxyz"
        write(path, translated_copies(read_frames(training, "training set")), format="extxyz")
        return FileRef.of(path)


@dataclass
class BenchTableMaker(Maker):
    """One table: this run's scores as mean (min, max) over seeds, beside the paper's rows."""

    name: str = "bench table"
    system: str = "alloy"
    dataset: str = "alloy 300K narrow"
    model: str = "CryinGAN"

    @job
    def make(self, scores: list[BenchScoreDoc], uuids: list[str]) -> BenchTableDoc:
        """``scores``: the score documents of the seeds; ``uuids``: their jobs."""
        from cryin_flows.bench.tables import markdown_table

        rows = [summarise(f"{self.model} (here)", self.system, [s.metrics for s in scores])]
        rows += published_rows(self.dataset)
        return BenchTableDoc(
            task_label="bench table",
            system=self.system,
            dataset=self.dataset,
            rows=rows,
            markdown=markdown_table(rows, self.system),
            scores=uuids,
        )
