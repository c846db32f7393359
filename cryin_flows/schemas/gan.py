"""Output documents of GAN training and generation."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from cryin_flows.analysis.statistics import Stats
from cryin_flows.gan.config import GanConfig
from cryin_flows.gan.generate import GenerationResult
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.schemas.common import FileRef, OutputDoc


class GanTrainDoc(OutputDoc):
    """A trained CryinGAN: files by reference and hash, hyperparameters, final losses."""

    task_label: str = Field("gan train", description="What kind of job made this")
    run_dir: str = Field(description="Folder with checkpoint, generator, losses.csv/png")
    generator: FileRef = Field(description="generator.pt: weights + lattice, species, config")
    checkpoint: FileRef = Field(description="checkpoint.pt: everything needed to resume")
    loss_curve: FileRef | None = Field(None, description="losses.png")
    config: GanConfig = Field(description="All hyperparameters, seed included")
    epochs: int = Field(description="Epochs trained in total")
    resumed_from_epoch: int = Field(0, description="Epoch the job resumed from (0 = fresh)")
    n_train: int = Field(description="Training structures")
    n_atoms: int = Field(description="Atoms per structure")
    dataset_hash: str = Field(description="Content hash of the training coordinates")
    template_hash: str = Field("", description="Template the training structures fit")
    final_losses: dict[str, float] = Field(description="Last epoch's log row")
    losses: dict[str, list[float]] = Field(
        default_factory=dict,
        description="Every epoch's log (losses.csv) as columns (data store): critic and "
        "generator losses, Wasserstein estimate, epoch, learning rate, seconds",
    )


class GanGenerateDoc(OutputDoc):
    """Generated structures (in the data store) and what clean-up did to them."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    task_label: str = Field("gan generate", description="What kind of job made this")
    model_hash: str = Field(description="sha256 of the generator file used")
    variant: str = Field(description="GAN variant of the model")
    bond_weight: float = Field(description="λ of the model")
    training_seed: int = Field(description="Seed the model was trained with")
    seed: int = Field(description="Seed of the sampling noise")
    n_requested: int = Field(description="Structures sampled")
    n_generated: int = Field(description="Structures kept after clean-up")
    n_rejected: int = Field(description="Structures still with close pairs after clean-up")
    rejected_fraction: float = Field(description="n_rejected / n_requested")
    cleaned: bool = Field(description="Whether close atoms were moved apart")
    threshold: float = Field(description="Close-pair threshold, Å")
    close_pairs_before: Stats = Field(description="Pairs <= threshold per structure, raw output")
    fraction_with_close_pairs: float = Field(description="Share of raw structures with any")
    template_hash: str = Field("", description="Template of the training data")
    structures: InterfaceSet = Field(description="Kept structures (stored in the data store)")

    @classmethod
    def from_result(cls, result: GenerationResult, seed: int, cleaned: bool) -> GanGenerateDoc:
        """The document of ``generate_structures``' result."""
        config, before = result.config, result.close_pairs_before
        return cls(
            model_hash=result.model_hash,
            variant=config.variant,
            bond_weight=config.bond_weight,
            training_seed=config.seed,
            seed=seed,
            n_requested=result.n_requested,
            n_generated=len(result.structures),
            n_rejected=result.n_rejected,
            rejected_fraction=result.rejected_fraction,
            cleaned=cleaned,
            threshold=result.threshold,
            close_pairs_before=Stats.of(before),
            fraction_with_close_pairs=sum(1 for c in before if c > 0) / len(before),
            template_hash=result.structures.template_hash,
            structures=result.structures,
        )
