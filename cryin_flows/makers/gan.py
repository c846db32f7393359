"""Makers for training CryinGAN and sampling structures from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from jobflow import Maker, job

from cryin_flows.devices import DeviceName, describe_device, resolve_device
from cryin_flows.errors import ConfigurationError
from cryin_flows.gan.config import GanConfig
from cryin_flows.gan.dataset import GanDataset
from cryin_flows.gan.generate import generate_structures
from cryin_flows.gan.training import (
    CHECKPOINT,
    GENERATOR,
    LOSS_PLOT,
    LOSSES,
    GanTrainer,
    read_losses,
)
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.makers.common import job_folder
from cryin_flows.schemas.common import FileRef
from cryin_flows.schemas.gan import GanGenerateDoc, GanTrainDoc


def _dataset(data: InterfaceSet | str | Path) -> GanDataset:
    if isinstance(data, InterfaceSet):
        if len(data) == 0:
            raise ConfigurationError(
                "the GAN training set is empty: no converged relaxation reached γ̃ <= the "
                "cut; relax longer (relax.max_steps), relax more structures or raise max_gamma"
            )
        return GanDataset.from_interface_set(data, source="training set from the store")
    return GanDataset.from_extxyz(data)


@dataclass
class GanTrainMaker(Maker):
    """Train one CryinGAN model; resumes from ``run_dir`` when it holds a checkpoint.

    ``run_dir`` defaults to ``gan_run_<job uuid>`` inside the job's working directory.
    """

    node_kind: ClassVar[str] = "gpu"
    name: str = "gan train"
    config: GanConfig = field(default_factory=GanConfig)
    run_dir: str | None = None

    @job(data="losses")
    def make(self, dataset: InterfaceSet | str) -> GanTrainDoc:
        """Train on ``dataset`` (an InterfaceSet from the store, or an extxyz path)."""
        data = _dataset(dataset)
        run_dir = job_folder(self.run_dir, "gan_run")
        if (run_dir / CHECKPOINT).exists():
            trainer = GanTrainer.resume(data, run_dir, epochs=self.config.epochs)
        else:
            trainer = GanTrainer(data, self.config, run_dir)
        start = trainer.epoch
        rows = trainer.train()
        final = rows[-1] if rows else {}
        plot = run_dir / LOSS_PLOT
        return GanTrainDoc(
            run_dir=str(run_dir),
            generator=FileRef.of(run_dir / GENERATOR),
            checkpoint=FileRef.of(run_dir / CHECKPOINT),
            loss_curve=FileRef.of(plot) if plot.exists() else None,
            config=trainer.config,
            epochs=trainer.epoch,
            resumed_from_epoch=start,
            n_train=len(data),
            n_atoms=data.n_atoms,
            dataset_hash=trainer.dataset_hash,
            template_hash=data.template_hash,
            final_losses={k: float(v) for k, v in final.items()},
            losses=read_losses(run_dir / LOSSES),
            device=describe_device(trainer.device),
        )


@dataclass
class GanGenerateMaker(Maker):
    """Sample structures from a trained model and move apart atoms closer than ``threshold``."""

    node_kind: ClassVar[str] = "gpu"
    name: str = "gan generate"
    n: int = 1000
    seed: int = 0
    clean: bool = True
    threshold: float = 1.5
    max_iterations: int = 100
    device: DeviceName = "auto"

    @job(data="structures")
    def make(self, model: GanTrainDoc | str) -> GanGenerateDoc:
        """``model`` is a GanTrainDoc (its generator file is checked by hash) or a run folder."""
        if isinstance(model, GanTrainDoc):
            generator = FileRef.of(model.generator.path)
            if generator.sha256 != model.generator.sha256:
                raise ConfigurationError(
                    f"{model.generator.path} changed since training (hash mismatch)"
                )
            source = model.generator.path
        else:
            source = model
        device = resolve_device(self.device)
        result = generate_structures(
            source, self.n, self.seed, self.clean, self.threshold, self.max_iterations, str(device)
        )
        doc = GanGenerateDoc.from_result(result, self.seed, self.clean)
        doc.device = describe_device(device)
        return doc
