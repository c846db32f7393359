"""Generator and critics of CryinGAN (SPEC.md §5), sizes as parameters."""

from __future__ import annotations

import math

import torch
from torch import nn

from cryin_flows.gan.config import GanConfig


def init_weights(module: nn.Module) -> None:
    """Xavier-uniform weights and zero biases, as the published code.

    Layers written here as ``nn.Linear`` but published as (transposed) convolutions carry the
    convolution's fan sum in ``xavier_fans`` so the initial weights have the same spread.
    """
    if isinstance(module, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
        fans = getattr(module, "xavier_fans", None)
        if fans is None:
            nn.init.xavier_uniform_(module.weight)
        else:
            bound = math.sqrt(6.0 / fans)
            nn.init.uniform_(module.weight, -bound, bound)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """z (B, latent) -> fractional coordinates (B, N, 3) in (0, 1).

    The published network is Linear -> ConvTranspose2d(C, 256, (1, 3)) -> 1x1 transposed
    convolutions with BatchNorm2d. The same maps are written channel-last with ``nn.Linear``
    (a 1x1 convolution is a per-position linear map; BatchNorm1d over all positions equals
    BatchNorm2d), which runs about twice as fast on CPUs.
    """

    def __init__(
        self,
        n_atoms: int,
        latent_dim: int = 64,
        channels: int = 128,
        bn_eps: float = 0.8,
        body: tuple[int, int, int] = (256, 512, 256),
    ):
        super().__init__()
        self.n_atoms, self.latent_dim, self.channels = n_atoms, latent_dim, channels
        c1, c2, c3 = body
        self.c1 = c1
        self.project = nn.Linear(latent_dim, channels * n_atoms)
        self.expand = nn.Linear(channels, 3 * c1, bias=False)
        self.expand.xavier_fans = 3 * (channels + c1)  # ConvTranspose2d(C, c1, (1, 3))
        self.expand_bias = nn.Parameter(torch.zeros(c1))
        self.body = nn.Sequential(
            nn.BatchNorm1d(c1, eps=bn_eps),
            nn.ReLU(True),
            nn.Linear(c1, c2),
            nn.BatchNorm1d(c2, eps=bn_eps),
            nn.ReLU(True),
            nn.Linear(c2, c3),
            nn.BatchNorm1d(c3, eps=bn_eps),
            nn.ReLU(True),
            nn.Linear(c3, 1),
            nn.Sigmoid(),
        )

    @classmethod
    def from_config(cls, n_atoms: int, config: GanConfig) -> Generator:
        """The generator a GanConfig describes."""
        return cls(
            n_atoms,
            config.latent_dim,
            config.generator_channels,
            config.batchnorm_eps,
            config.generator_body,
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        batch = z.shape[0]
        h = torch.relu(self.project(z)).view(batch, self.channels, self.n_atoms).transpose(1, 2)
        h = self.expand(h).view(batch, self.n_atoms, 3, self.c1) + self.expand_bias
        return self.body(h.reshape(-1, self.c1)).view(batch, self.n_atoms, 3)


class PointBranch(nn.Module):
    """Shared per-atom layers over an input of width w, then pooling per species block.

    Published as Conv2d(1, 512, (1, w)) and 1x1 convolutions: per-atom linear maps, written
    here with ``nn.Linear`` on (B, N, w).
    """

    def __init__(
        self,
        width: int,
        block_sizes: list[int],
        pooling: str = "avg",
        channels: tuple[int, int, int] = (512, 512, 256),
    ):
        super().__init__()
        if pooling not in ("avg", "max", "mix"):
            raise ValueError(f"pooling must be avg, max or mix, got {pooling!r}")
        c1, c2, c3 = channels
        first = nn.Linear(width, c1)
        first.xavier_fans = width * (1 + c1)  # Conv2d(1, c1, (1, w))
        self.layers = nn.Sequential(
            first,
            nn.LeakyReLU(0.2, True),
            nn.Linear(c1, c2),
            nn.LeakyReLU(0.2, True),
            nn.Linear(c2, c3),
            nn.LeakyReLU(0.2, True),
        )
        self.block_sizes = list(block_sizes)
        self.pooling = pooling
        self.out_features = c3 * len(block_sizes) * (2 if pooling == "mix" else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, w) -> pooled features (B, out_features)."""
        h = self.layers(x)  # (B, N, C)
        pooled = []
        for block in torch.split(h, self.block_sizes, dim=1):
            if self.pooling in ("max", "mix"):
                pooled.append(block.amax(dim=1))
            if self.pooling in ("avg", "mix"):
                pooled.append(block.mean(dim=1))
        return torch.cat(pooled, dim=1)


def _head(in_features: int, sizes: tuple[int, int, int]) -> nn.Sequential:
    h1, h2, out = sizes
    return nn.Sequential(
        nn.Linear(in_features, h1),
        nn.LeakyReLU(0.2, True),
        nn.Linear(h1, h2),
        nn.LeakyReLU(0.2, True),
        nn.Linear(h2, out),
    )


class Critic(nn.Module):
    """One input (coordinates, w = 3, or bond distances, w = k) -> critic value (B,)."""

    def __init__(
        self,
        width: int,
        block_sizes: list[int],
        pooling: str = "avg",
        channels: tuple[int, int, int] = (512, 512, 256),
        head_sizes: tuple[int, int, int] = (1000, 200, 10),
    ):
        super().__init__()
        self.branch = PointBranch(width, block_sizes, pooling, channels)
        self.head = _head(self.branch.out_features, head_sizes)

    def outputs(self, x: torch.Tensor) -> torch.Tensor:
        """The raw outputs (B, 10); the critic value is their mean."""
        return self.head(self.branch(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outputs(x).mean(dim=1)


class CombCritic(nn.Module):
    """CryinGAN-comb: coordinates and bond distances in one critic, joined after pooling.

    The distances are computed inside from the fractional coordinates (periodic, unit cell),
    so the critic is a function of the coordinates alone.
    """

    def __init__(
        self,
        k: int,
        block_sizes: list[int],
        channels: tuple[int, int, int] = (512, 512, 256),
        head_sizes: tuple[int, int, int] = (1000, 200, 10),
    ):
        super().__init__()
        from cryin_flows.gan.distances import neighbour_distances

        self._distances = neighbour_distances
        self.k = k
        self.coords = PointBranch(3, block_sizes, "avg", channels)
        self.bonds = PointBranch(k, block_sizes, "avg", channels)
        self.head = _head(self.coords.out_features + self.bonds.out_features, head_sizes)
        self.register_buffer("unit_cell", torch.eye(3))

    def outputs(self, frac: torch.Tensor) -> torch.Tensor:
        """The raw outputs (B, 10) of coordinates (B, N, 3)."""
        dist = self._distances(frac, self.unit_cell.to(frac.dtype), self.k)
        return self.head(torch.cat([self.coords(frac), self.bonds(dist)], dim=1))

    def forward(self, frac: torch.Tensor) -> torch.Tensor:
        return self.outputs(frac).mean(dim=1)
