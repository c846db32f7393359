"""WGAN-GP training of CryinGAN with checkpoints that resume bit-for-bit (on CPU).

A run lives in one folder: ``config.json``, ``checkpoint.pt`` (everything needed to continue),
``generator.pt`` (weights and metadata for sampling), ``losses.csv`` and ``losses.png``.
"""

from __future__ import annotations

import contextlib
import csv
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from cryin_flows.devices import resolve_device
from cryin_flows.errors import ConfigurationError
from cryin_flows.gan.config import GanConfig
from cryin_flows.gan.dataset import GanDataset
from cryin_flows.gan.distances import neighbour_distances
from cryin_flows.gan.networks import CombCritic, Critic, Generator, init_weights

CHECKPOINT = "checkpoint.pt"
GENERATOR = "generator.pt"
LOSSES = "losses.csv"
LOSS_PLOT = "losses.png"
LOG_FIELDS = [
    "epoch",
    "critic_loss",
    "coord_critic_loss",
    "bond_critic_loss",
    "generator_loss",
    "wasserstein",
    "d_real",
    "d_fake",
    "d_bond_real",
    "d_bond_fake",
    "learning_rate",
    "seconds",
]


def atomic_torch_save(obj: object, path: Path) -> None:
    """Write to a temporary file and rename, so a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    torch.save(obj, tmp)
    os.replace(tmp, path)


@contextlib.contextmanager
def precision_context(precision: str, device_type: str):
    """Arithmetic of the network passes inside (``GanConfig.precision``): bfloat16 autocast, or
    TensorFloat-32 matrix products on CUDA (the global setting is restored on leaving)."""
    if precision == "bfloat16":
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
            yield
    elif precision == "tf32" and device_type == "cuda":
        before = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("high")
        try:
            yield
        finally:
            torch.set_float32_matmul_precision(before)
    else:
        yield


@dataclass
class EpochLog:
    """Averages over one epoch's batches (weighted by batch size)."""

    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, value: float, n: int) -> None:
        self.sums[name] = self.sums.get(name, 0.0) + value * n
        self.counts[name] = self.counts.get(name, 0) + n

    def mean(self, name: str) -> float:
        return self.sums[name] / self.counts[name] if self.counts.get(name) else float("nan")


class GanTrainer:
    """Trains a CryinGAN variant on a GanDataset, writing into ``run_dir``."""

    def __init__(self, dataset: GanDataset, config: GanConfig, run_dir: str | Path):
        self.dataset = dataset
        self.config = config
        self.run_dir = Path(run_dir)
        self.device = resolve_device(config.device)
        if len(dataset) == 0:
            raise ConfigurationError("the training set is empty")
        if config.k_neighbours >= dataset.n_atoms:
            raise ConfigurationError(
                f"k_neighbours = {config.k_neighbours} needs more than {dataset.n_atoms} atoms"
            )
        torch.manual_seed(config.seed)
        self.rng = torch.Generator().manual_seed(config.seed)
        c = config
        self.generator = Generator.from_config(dataset.n_atoms, c)
        coord_pool, bond_pool = c.pooling()
        if c.variant == "comb":
            self.coord_critic: nn.Module = CombCritic(
                c.k_neighbours, dataset.block_sizes, c.critic_channels, c.head_sizes
            )
        else:
            self.coord_critic = Critic(
                3, dataset.block_sizes, coord_pool, c.critic_channels, c.head_sizes
            )
        self.bond_critic = (
            Critic(c.k_neighbours, dataset.block_sizes, bond_pool, c.critic_channels, c.head_sizes)
            if c.uses_bond_critic
            else None
        )
        for net in self.networks().values():
            net.apply(init_weights)
            net.to(self.device)
        self.optimizers = {
            name: torch.optim.Adam(net.parameters(), lr=c.learning_rate, betas=c.betas)
            for name, net in self.networks().items()
        }
        self.schedulers = {
            name: torch.optim.lr_scheduler.StepLR(opt, step_size=c.lr_step_epochs, gamma=c.lr_gamma)
            for name, opt in self.optimizers.items()
        }
        # the k-NN routine; benchmarks swap in the published brute-force one
        self.distance_fn = neighbour_distances
        self.lattice = dataset.lattice.to(self.device)
        self.real = dataset.frac.to(self.device)
        self.real_bonds = self._distances(self.real) if self.bond_critic is not None else None
        self.epoch = 0
        self.dataset_hash = dataset.content_hash()

    # ------------------------------------------------------------------ helpers
    def networks(self) -> dict[str, nn.Module]:
        nets = {"generator": self.generator, "coord_critic": self.coord_critic}
        if self.bond_critic is not None:
            nets["bond_critic"] = self.bond_critic
        return nets

    def _distances(self, frac: torch.Tensor, chunk: int = 256) -> torch.Tensor:
        with torch.no_grad():
            parts = [
                self.distance_fn(frac[i : i + chunk], self.lattice, self.config.k_neighbours)
                for i in range(0, len(frac), chunk)
            ]
        return torch.cat(parts)

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.latent_dim, generator=self.rng).to(self.device)

    def _autocast(self):
        return precision_context(self.config.precision, self.device.type)

    def _critic_value(self, critic: nn.Module, x: torch.Tensor) -> torch.Tensor:
        with self._autocast():
            return critic(x).float()

    def _penalty(self, critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Gradient penalty at per-sample random interpolations of real and fake inputs."""
        alpha = torch.rand(real.shape[0], 1, 1, generator=self.rng).to(self.device)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        with self._autocast():
            out = critic.outputs(mixed).float()
        value = out.mean(dim=1) if self.config.penalty_of == "mean" else out.sum(dim=1)
        (grad,) = torch.autograd.grad(value.sum(), mixed, create_graph=True)
        norm = grad.reshape(grad.shape[0], -1).norm(2, dim=1)
        return self.config.gradient_penalty * ((norm - 1) ** 2).mean()

    @staticmethod
    def _trainable(net: nn.Module | None, flag: bool) -> None:
        if net is not None:
            for p in net.parameters():
                p.requires_grad_(flag)

    # ------------------------------------------------------------------ training
    def _critic_step(self, real: torch.Tensor, real_bonds: torch.Tensor | None, log: EpochLog):
        c, n = self.config, real.shape[0]
        self._trainable(self.coord_critic, True)
        self._trainable(self.bond_critic, True)
        with torch.no_grad(), self._autocast():
            fake = self.generator(self._noise(n)).float()
        d_real = self._critic_value(self.coord_critic, real).mean()
        d_fake = self._critic_value(self.coord_critic, fake).mean()
        coord_loss = d_fake - d_real + self._penalty(self.coord_critic, real, fake)
        loss = coord_loss
        wasserstein = d_real - d_fake
        if self.bond_critic is not None:
            fake_bonds = self.distance_fn(fake, self.lattice, c.k_neighbours)
            b_real = self._critic_value(self.bond_critic, real_bonds).mean()
            b_fake = self._critic_value(self.bond_critic, fake_bonds).mean()
            bond_loss = b_fake - b_real + self._penalty(self.bond_critic, real_bonds, fake_bonds)
            loss = loss + c.bond_weight * bond_loss
            wasserstein = wasserstein + c.bond_weight * (b_real - b_fake)
            log.add("bond_critic_loss", bond_loss.item(), n)
            log.add("d_bond_real", b_real.item(), n)
            log.add("d_bond_fake", b_fake.item(), n)
        for name in ("coord_critic", "bond_critic"):
            if name in self.optimizers:
                self.optimizers[name].zero_grad(set_to_none=True)
        loss.backward()
        for name in ("coord_critic", "bond_critic"):
            if name in self.optimizers:
                self.optimizers[name].step()
        log.add("critic_loss", loss.item(), n)
        log.add("coord_critic_loss", coord_loss.item(), n)
        log.add("wasserstein", wasserstein.item(), n)
        log.add("d_real", d_real.item(), n)
        log.add("d_fake", d_fake.item(), n)

    def _generator_step(self, n: int, log: EpochLog) -> None:
        c = self.config
        self._trainable(self.coord_critic, False)
        self._trainable(self.bond_critic, False)
        self.optimizers["generator"].zero_grad(set_to_none=True)
        with self._autocast():
            fake = self.generator(self._noise(n)).float()
        loss = -self._critic_value(self.coord_critic, fake).mean()
        if self.bond_critic is not None:
            bonds = self.distance_fn(fake, self.lattice, c.k_neighbours)
            loss = loss - c.bond_weight * self._critic_value(self.bond_critic, bonds).mean()
        loss.backward()
        self.optimizers["generator"].step()
        log.add("generator_loss", loss.item(), n)

    def train_epoch(self) -> dict[str, float]:
        """One pass over the shuffled data; returns the epoch's log row."""
        start = time.perf_counter()
        for net in self.networks().values():
            net.train()
        log = EpochLog()
        order = torch.randperm(len(self.dataset), generator=self.rng).to(self.device)
        for i, idx in enumerate(torch.split(order, self.config.batch_size)):
            real_bonds = self.real_bonds[idx] if self.real_bonds is not None else None
            self._critic_step(self.real[idx], real_bonds, log)
            if i % self.config.gen_interval == 0:
                self._generator_step(len(idx), log)
        for scheduler in self.schedulers.values():
            scheduler.step()
        self.epoch += 1
        row = {name: log.mean(name) for name in LOG_FIELDS[1:-2]}
        row["epoch"] = self.epoch
        row["learning_rate"] = self.optimizers["generator"].param_groups[0]["lr"]
        row["seconds"] = time.perf_counter() - start
        return row

    def train(
        self,
        epochs: int | None = None,
        progress: Callable[[dict[str, float]], None] | None = None,
    ) -> list[dict[str, float]]:
        """Train until ``epochs`` (default: config.epochs) epochs are done in total."""
        target = epochs if epochs is not None else self.config.epochs
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.json").write_text(self.config.model_dump_json(indent=1))
        rows = []
        while self.epoch < target:
            row = self.train_epoch()
            rows.append(row)
            self._append_log(row)
            if self.epoch % self.config.checkpoint_every == 0 or self.epoch == target:
                self.save_checkpoint()
            if progress is not None:
                progress(row)
        self.save_generator()
        plot_losses(self.run_dir / LOSSES, self.run_dir / LOSS_PLOT)
        return rows

    # ------------------------------------------------------------------ persistence
    def _append_log(self, row: dict[str, float]) -> None:
        path = self.run_dir / LOSSES
        new = not path.exists()
        with open(path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=LOG_FIELDS)
            if new:
                writer.writeheader()
            writer.writerow(row)

    def state(self) -> dict:
        """Everything needed to continue training exactly."""
        state = {
            "epoch": self.epoch,
            "config": self.config.model_dump(),
            "dataset_hash": self.dataset_hash,
            "networks": {k: v.state_dict() for k, v in self.networks().items()},
            "optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
            "schedulers": {k: v.state_dict() for k, v in self.schedulers.items()},
            "rng": self.rng.get_state(),
            "torch_rng": torch.get_rng_state(),
        }
        if torch.cuda.is_available():
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        return state

    def save_checkpoint(self) -> Path:
        """Atomically write ``checkpoint.pt``."""
        path = self.run_dir / CHECKPOINT
        atomic_torch_save(self.state(), path)
        return path

    def save_generator(self) -> Path:
        """Write ``generator.pt``: weights plus what sampling needs (lattice, species, config)."""
        path = self.run_dir / GENERATOR
        atomic_torch_save(
            {
                "state_dict": self.generator.state_dict(),
                "config": self.config.model_dump(),
                "epoch": self.epoch,
                "n_atoms": self.dataset.n_atoms,
                "lattice": self.dataset.lattice.double().numpy().tolist(),
                "species": self.dataset.species,
                "template_hash": self.dataset.template_hash,
                "dataset_hash": self.dataset_hash,
            },
            path,
        )
        return path

    @classmethod
    def resume(
        cls, dataset: GanDataset, run_dir: str | Path, epochs: int | None = None
    ) -> GanTrainer:
        """A trainer restored from ``run_dir/checkpoint.pt``; ``epochs`` may raise the target."""
        run_dir = Path(run_dir)
        path = run_dir / CHECKPOINT
        if not path.exists():
            raise ConfigurationError(f"no checkpoint to resume from: {path} does not exist")
        state = torch.load(path, map_location="cpu", weights_only=False)
        config = GanConfig.model_validate(state["config"])
        if epochs is not None:
            config = config.model_copy(update={"epochs": epochs})
        trainer = cls(dataset, config, run_dir)
        if state["dataset_hash"] != trainer.dataset_hash:
            raise ConfigurationError(
                f"{path}: the checkpoint was trained on other data (dataset hash "
                f"{state['dataset_hash'][:12]} != {trainer.dataset_hash[:12]})"
            )
        for name, net in trainer.networks().items():
            net.load_state_dict(state["networks"][name])
        for name, opt in trainer.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        for name, sched in trainer.schedulers.items():
            sched.load_state_dict(state["schedulers"][name])
        trainer.rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        trainer.epoch = int(state["epoch"])
        trainer._truncate_log()
        return trainer

    def _truncate_log(self) -> None:
        """Drop log rows written after the checkpoint (a crash between log and checkpoint)."""
        path = self.run_dir / LOSSES
        if not path.exists():
            return
        with open(path, newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if int(r["epoch"]) <= self.epoch]
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=LOG_FIELDS)
            writer.writeheader()
            writer.writerows(rows)


def read_losses(csv_path: Path) -> dict[str, list[float]]:
    """The per-epoch log (``losses.csv``) as columns; empty when there is none yet."""
    if not Path(csv_path).exists():
        return {}
    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {name: [float(row[name]) for row in rows] for name in (rows[0] if rows else {})}


def plot_losses(csv_path: Path, png_path: Path) -> Path | None:
    """Loss curves (critic, generator, Wasserstein estimate) per epoch as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    losses = read_losses(csv_path)
    if not losses.get("epoch"):
        return None
    epochs = losses["epoch"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    for name, label in (("critic_loss", "critic"), ("generator_loss", "generator")):
        axes[0].plot(epochs, losses[name], label=label)
    axes[0].set(xlabel="epoch", ylabel="loss", title="losses")
    axes[0].legend()
    axes[1].plot(epochs, losses["wasserstein"], color="tab:green")
    axes[1].set(xlabel="epoch", ylabel="W estimate", title="Wasserstein estimate (no penalty)")
    fig.savefig(png_path, dpi=110)
    plt.close(fig)
    return png_path
