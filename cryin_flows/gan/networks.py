"""Generator and critics of CryinGAN (SPEC.md §5), sizes as parameters."""

from __future__ import annotations

import torch
from torch import nn


def init_weights(module: nn.Module) -> None:
    """Xavier-uniform weights and zero biases, as the published code."""
    if isinstance(module, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
        nn.init.xavier_uniform_(module.weight)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """z (B, latent) -> fractional coordinates (B, N, 3) in (0, 1)."""

    def __init__(
        self, n_atoms: int, latent_dim: int = 64, channels: int = 128, bn_eps: float = 0.8
    ):
        super().__init__()
        self.n_atoms, self.latent_dim, self.channels = n_atoms, latent_dim, channels
        self.project = nn.Sequential(nn.Linear(latent_dim, channels * n_atoms), nn.ReLU(True))

        def block(c_in: int, c_out: int, width: int) -> list[nn.Module]:
            return [
                nn.ConvTranspose2d(c_in, c_out, (1, width)),
                nn.BatchNorm2d(c_out, eps=bn_eps),
                nn.ReLU(True),
            ]

        self.body = nn.Sequential(
            *block(channels, 256, 3),
            *block(256, 512, 1),
            *block(512, 256, 1),
            nn.ConvTranspose2d(256, 1, (1, 1)),
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(z.shape[0], self.channels, self.n_atoms, 1)
        return self.body(h)[:, 0]


class PointBranch(nn.Module):
    """Shared per-atom convolutions over an input of width w, then pooling per species block."""

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
        self.convs = nn.Sequential(
            nn.Conv2d(1, c1, (1, width)),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(c1, c2, (1, 1)),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(c2, c3, (1, 1)),
            nn.LeakyReLU(0.2, True),
        )
        self.block_sizes = list(block_sizes)
        self.pooling = pooling
        self.out_features = c3 * len(block_sizes) * (2 if pooling == "mix" else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, w) -> pooled features (B, out_features)."""
        h = self.convs(x[:, None])[..., 0]  # (B, C, N)
        pooled = []
        for block in torch.split(h, self.block_sizes, dim=2):
            if self.pooling in ("max", "mix"):
                pooled.append(block.amax(dim=2))
            if self.pooling in ("avg", "mix"):
                pooled.append(block.mean(dim=2))
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
