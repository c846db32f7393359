"""Hyperparameters of a CryinGAN run, with the paper's values as defaults (SPEC.md §5)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cryin_flows.utils import SerializableModel

Variant = Literal["cryingan", "comb", "max", "mix"]


class GanConfig(SerializableModel):
    """Everything that defines a training run; stored in checkpoints and documents."""

    variant: Variant = Field(
        "cryingan",
        description="cryingan: coordinate + bond-distance critics, average pooling; max / mix: "
        "max or max+average pooling on the coordinate critic if bond_weight is 0, else on the "
        "bond critic; comb: one critic joining both inputs after pooling",
    )
    bond_weight: float = Field(
        0.05,
        ge=0,
        description="λ, weight of the bond-distance critic; 0 = coordinate critic only; "
        "not used by the comb variant",
    )
    k_neighbours: int = Field(6, ge=1, description="Nearest-neighbour distances per atom")
    latent_dim: int = Field(64, ge=1, description="Size of the generator's noise vector")
    generator_channels: int = Field(128, ge=1, description="Channels after the first layer")
    generator_body: tuple[int, int, int] = Field(
        (256, 512, 256), description="Channels of the generator's layers after the first"
    )
    critic_channels: tuple[int, int, int] = Field(
        (512, 512, 256), description="Channels of the per-atom convolutions of a critic"
    )
    head_sizes: tuple[int, int, int] = Field(
        (1000, 200, 10), description="Fully connected sizes after pooling; the last is averaged"
    )
    batchnorm_eps: float = Field(0.8, gt=0, description="BatchNorm eps of the published code")
    batch_size: int = Field(32, ge=1, description="Structures per batch")
    learning_rate: float = Field(5e-5, gt=0, description="Adam learning rate, all networks")
    betas: tuple[float, float] = Field((0.5, 0.999), description="Adam betas")
    lr_step_epochs: int = Field(100_000, ge=1, description="StepLR step size (epochs)")
    lr_gamma: float = Field(0.95, gt=0, description="StepLR factor")
    gen_interval: int = Field(5, ge=1, description="Generator steps once every this many batches")
    gradient_penalty: float = Field(10.0, ge=0, description="Weight of the gradient penalty")
    penalty_of: Literal["mean", "sum"] = Field(
        "mean",
        description="Penalise the gradient of the mean of the 10 critic outputs (the critic "
        "value, SPEC §5) or of their sum (the published code: 10x the gradient)",
    )
    epochs: int = Field(
        100_000, ge=1, description="Epochs to train (total, including resumed; SPEC §5)"
    )
    seed: int = Field(0, description="Seed of weights, noise, shuffling and interpolation")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto = CUDA if present")
    precision: Literal["float32", "tf32", "bfloat16"] = Field(
        "float32",
        description="Network arithmetic: float32; tf32 (float32 tensors, TensorFloat-32 "
        "matrix products on CUDA, float32 on CPU); bfloat16 (autocast, CUDA or CPU). Losses, "
        "distances and the gradient penalty's norm stay float32; exact resume is in float32",
    )
    checkpoint_every: int = Field(10, ge=1, description="Epochs between checkpoints")

    @property
    def uses_bond_critic(self) -> bool:
        """Whether a separate bond-distance critic is trained."""
        return self.variant != "comb" and self.bond_weight > 0

    def pooling(self) -> tuple[str, str]:
        """Pooling of (coordinate critic, bond critic), as the paper assigns it."""
        special = {"max": "max", "mix": "mix"}.get(self.variant, "avg")
        if self.bond_weight == 0:
            return special, "avg"
        return "avg", special
