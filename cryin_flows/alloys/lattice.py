"""The FCC lattice of the alloy benchmark and its neighbour shells.

Sites are indexed by integer coordinates in half lattice constants, ``(x, y, z)`` with
``x + y + z`` even, in ``[0, 2 * repeats)``; site ``k`` of ``fcc_sites`` is the k-th such
point in lexicographic order. The seven shells are the published script's dimers
(``benchmark/alloy/cluster_counts/utils/main.py``): squared lengths 0.5, 1, ..., 3.5 a², each
site having 12, 6, 24, 12, 24, 8 and 48 neighbours in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from cryin_flows.errors import ConfigurationError

N_SHELLS = 7
SHELL_SIZES = (12, 6, 24, 12, 24, 8, 48)  # neighbours of a site in shells 1..7


@cache
def shell_vectors() -> tuple[np.ndarray, ...]:
    """Integer half-lattice vectors of shells 1..7, each sorted lexicographically."""
    r = np.arange(-3, 4)
    grid = np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3)
    grid = grid[grid.sum(axis=1) % 2 == 0]
    length2 = (grid**2).sum(axis=1)  # in (a/2)²: shell s has 2 s
    shells = tuple(grid[length2 == 2 * s] for s in range(1, N_SHELLS + 1))
    sizes = tuple(len(v) for v in shells)
    if sizes != SHELL_SIZES:  # pragma: no cover - a property of the FCC lattice
        raise AssertionError(f"FCC shells {sizes}")
    return shells


@dataclass(frozen=True)
class FCCLattice:
    """A cubic FCC supercell of ``repeats``³ conventional cells with lattice constant ``a``."""

    repeats: int = 4
    a: float = 3.6

    def __post_init__(self) -> None:
        # shell 7 reaches 1.87 a: the cell must hold it without a site seeing its own image
        if self.repeats < 4:
            raise ConfigurationError(
                f"alloy lattice: repeats must be >= 4 for 7 neighbour shells, got {self.repeats}"
            )

    @property
    def n_sites(self) -> int:
        """Sites in the supercell (4 per conventional cell)."""
        return 4 * self.repeats**3

    @property
    def length(self) -> float:
        """Edge of the cubic supercell, Å."""
        return self.repeats * self.a

    @property
    def grid(self) -> np.ndarray:
        """(n_sites, 3) integer half-lattice coordinates of the sites."""
        return _grid(self.repeats)

    @property
    def positions(self) -> np.ndarray:
        """(n_sites, 3) Cartesian positions, Å."""
        return self.grid * (self.a / 2)

    @property
    def neighbours(self) -> np.ndarray:
        """(n_sites, 134) site indices of each site's neighbours, shell 1 first (see
        ``shell_of_column``)."""
        return _neighbours(self.repeats)

    @property
    def shell_of_column(self) -> np.ndarray:
        """(134,) shell (0-based) of each column of ``neighbours``."""
        return np.repeat(np.arange(N_SHELLS), SHELL_SIZES)

    def site_index(self, positions: np.ndarray, tol: float = 1e-3) -> np.ndarray:
        """Site of each Cartesian position (Å, wrapped into the cell); ``ConfigurationError``
        when a position is further than ``tol`` from every site."""
        half = np.asarray(positions, dtype=float) / (self.a / 2)
        nearest = np.rint(half)
        off = np.abs(half - nearest).max(axis=1) * (self.a / 2) if len(half) else np.zeros(0)
        n = 2 * self.repeats
        nearest = nearest.astype(int) % n
        bad = np.flatnonzero((off > tol) | (nearest.sum(axis=1) % 2 == 1))
        if len(bad):
            raise ConfigurationError(
                f"atom {int(bad[0])} is not on a site of the {self.repeats}x{self.repeats}x"
                f"{self.repeats} FCC lattice (a = {self.a} Å): post-process the structure first"
            )
        lookup = _lookup(self.repeats)
        return lookup[nearest[:, 0], nearest[:, 1], nearest[:, 2]]


@cache
def _grid(repeats: int) -> np.ndarray:
    r = np.arange(2 * repeats)
    grid = np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3)
    grid = grid[grid.sum(axis=1) % 2 == 0]
    grid.flags.writeable = False
    return grid


@cache
def _lookup(repeats: int) -> np.ndarray:
    n = 2 * repeats
    lookup = np.full((n, n, n), -1, dtype=np.int64)
    grid = _grid(repeats)
    lookup[grid[:, 0], grid[:, 1], grid[:, 2]] = np.arange(len(grid))
    lookup.flags.writeable = False
    return lookup


@cache
def _neighbours(repeats: int) -> np.ndarray:
    grid, lookup, n = _grid(repeats), _lookup(repeats), 2 * repeats
    vectors = np.concatenate(shell_vectors())
    target = (grid[:, None, :] + vectors[None, :, :]) % n
    table = lookup[target[..., 0], target[..., 1], target[..., 2]].astype(np.int32)
    table.flags.writeable = False
    return table
