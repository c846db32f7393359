"""Sampling a trained generator and moving apart atoms that came out too close."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cryin_flows.devices import resolve_device
from cryin_flows.errors import ConfigurationError
from cryin_flows.gan.config import GanConfig
from cryin_flows.gan.networks import Generator
from cryin_flows.gan.training import GENERATOR
from cryin_flows.interfaces.interface_set import InterfaceSet, wrap_fractional
from cryin_flows.interfaces.neighbours import close_pairs, count_close_pairs
from cryin_flows.utils import file_sha256


@dataclass
class LoadedGenerator:
    """A generator in eval mode with what is needed to turn its output into structures."""

    network: Generator
    config: GanConfig
    lattice: np.ndarray
    species: list[str]
    template_hash: str
    model_hash: str
    epoch: int


def load_generator(run_dir: str | Path, device: str = "auto") -> LoadedGenerator:
    """Load ``run_dir/generator.pt`` (or a generator file given directly)."""
    path = Path(run_dir)
    path = path / GENERATOR if path.is_dir() else path
    if not path.exists():
        raise ConfigurationError(f"no trained generator at {path}; train first")
    blob = torch.load(path, map_location="cpu", weights_only=False)
    config = GanConfig.model_validate(blob["config"])
    network = Generator.from_config(blob["n_atoms"], config)
    network.load_state_dict(blob["state_dict"])
    network.to(resolve_device(device)).eval()
    return LoadedGenerator(
        network=network,
        config=config,
        lattice=np.asarray(blob["lattice"], dtype=float),
        species=list(blob["species"]),
        template_hash=blob.get("template_hash", ""),
        model_hash=file_sha256(path),
        epoch=int(blob.get("epoch", 0)),
    )


def sample_coordinates(
    generator: LoadedGenerator,
    n: int,
    seed: int = 0,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """(n, N, 3) fractional coordinates from noise drawn with ``seed``."""
    rng = torch.Generator().manual_seed(seed)
    device = next(generator.network.parameters()).device
    out = []
    with torch.no_grad():
        for start in range(0, n, batch_size):
            m = min(batch_size, n - start)
            z = torch.randn(m, generator.config.latent_dim, generator=rng).to(device)
            out.append(generator.network(z).double().cpu().numpy())
            if progress is not None:
                progress(m)
    return np.concatenate(out) if out else np.zeros((0, len(generator.species), 3))


def move_apart(
    frac: np.ndarray,
    lattice: np.ndarray,
    threshold: float = 1.5,
    max_iterations: int = 100,
    overshoot: float = 0.01,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Push apart every pair closer than ``threshold`` along its minimum-image vector.

    Each close pair moves symmetrically to ``threshold * (1 + overshoot)``; the displacements
    of all pairs are summed per atom and applied together, repeated up to ``max_iterations``
    (the published script ignored periodicity; here the vector is the periodic one).
    Returns (coordinates, ok flags, iterations used) per structure.
    """
    frac = np.array(frac, dtype=float, copy=True)
    inv = np.linalg.inv(lattice)
    rng = np.random.default_rng(seed)
    ok = np.zeros(len(frac), dtype=bool)
    iterations = np.zeros(len(frac), dtype=int)
    target = threshold * (1 + overshoot)
    for s in range(len(frac)):
        for _ in range(max_iterations + 1):
            i, j, vec = close_pairs(frac[s], lattice, threshold)
            if len(i) == 0:
                ok[s] = True
                break
            if iterations[s] == max_iterations:
                break
            dist = np.linalg.norm(vec, axis=1)
            unit = np.empty_like(vec)
            far = dist > 1e-8
            unit[far] = vec[far] / dist[far, None]
            if (~far).any():  # coincident atoms: any direction will do
                random = rng.normal(size=((~far).sum(), 3))
                unit[~far] = random / np.linalg.norm(random, axis=1, keepdims=True)
            push = ((target - dist) / 2)[:, None] * unit
            shift = np.zeros_like(frac[s])
            np.add.at(shift, i, -push)
            np.add.at(shift, j, push)
            frac[s] = wrap_fractional(frac[s] + shift @ inv)
            iterations[s] += 1
    return frac, ok, iterations


@dataclass
class GenerationResult:
    """Generated structures that passed clean-up, and what happened on the way."""

    structures: InterfaceSet
    n_requested: int
    n_rejected: int
    close_pairs_before: list[int]
    threshold: float
    config: GanConfig
    model_hash: str

    @property
    def rejected_fraction(self) -> float:
        """Share of generated structures lost in clean-up."""
        return self.n_rejected / self.n_requested if self.n_requested else 0.0


def generate_structures(
    run_dir: str | Path,
    n: int,
    seed: int = 0,
    clean: bool = True,
    threshold: float = 1.5,
    max_iterations: int = 100,
    device: str = "auto",
    progress: Callable[[int], None] | None = None,
) -> GenerationResult:
    """Sample ``n`` structures, count close pairs, clean them up, keep those that pass."""
    if n < 1:
        raise ConfigurationError(f"number of structures must be >= 1, got {n}")
    gen = load_generator(run_dir, device)
    frac = sample_coordinates(gen, n, seed, progress=progress)
    close_before = count_close_pairs(frac, gen.lattice, threshold)
    infos = [
        {
            "index": i,
            "seed": seed,
            "model_hash": gen.model_hash,
            "model_epoch": gen.epoch,
            "close_pairs_before": int(close_before[i]),
            "template_hash": gen.template_hash,
        }
        for i in range(n)
    ]
    keep = np.ones(n, dtype=bool)
    if clean:
        frac, keep, iterations = move_apart(frac, gen.lattice, threshold, max_iterations, seed=seed)
        for info, it in zip(infos, iterations, strict=True):
            info["cleanup_iterations"] = int(it)
    kept = np.flatnonzero(keep)
    structures = InterfaceSet(
        gen.lattice,
        gen.species,
        frac[kept],
        [infos[i] for i in kept],
        template_hash=gen.template_hash,
    )
    return GenerationResult(
        structures=structures,
        n_requested=n,
        n_rejected=int(n - len(kept)),
        close_pairs_before=[int(c) for c in close_before],
        threshold=threshold,
        config=gen.config,
        model_hash=gen.model_hash,
    )
