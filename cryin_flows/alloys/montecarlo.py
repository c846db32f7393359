"""Canonical Metropolis Monte Carlo of the cluster expansion with swap (Kawasaki) moves.

A swap of sites i and j changes only the pairs of i and j with their neighbours, so its
energy change is two sums over 134 neighbours (``_swap_delta``), not a recount of the cell.
Chains run side by side in one numba-compiled loop, each on its own random stream drawn with
numpy (``SeedSequence(seed).spawn``), so results do not depend on the number of threads.
One pass is ``n_sites`` attempted swaps of two sites drawn at random (a pair of one species
is an attempt that changes nothing).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numba
import numpy as np
from ase import units
from pydantic import BaseModel, Field

from cryin_flows.alloys.expansion import SPECIES, ClusterExpansion, cluster_counts
from cryin_flows.alloys.lattice import FCCLattice
from cryin_flows.errors import ConfigurationError
from cryin_flows.utils import SerializableModel

ANNEAL_STEPS = 10  # temperatures of the annealing


class MonteCarloSettings(SerializableModel):
    """One temperature of the published protocol (paper §4.1.1)."""

    temperature: float = Field(300.0, gt=0, description="Temperature, K (paper: 300 and 1500)")
    n_chains: int = Field(10, ge=1, description="Independent chains (paper: 10)")
    passes: int = Field(50_000, ge=1, description="Passes per chain (paper: 50,000)")
    snapshot_every: int = Field(10, ge=1, description="Passes between snapshots (paper: 10)")
    seed: int = Field(0, description="Seed of the chains' starting orders and moves")
    anneal_from: float | None = Field(
        1500.0,
        description="Each chain first cools geometrically from this temperature (K) to "
        "`temperature` over `anneal_passes`, unsampled; None or a temperature at or below "
        "`temperature`: no annealing. Without it 3 of 10 chains at 300 K stay in a metastable "
        "order (1NN Cr-Cr SRO -0.25, 3 meV/atom above the order of the published set, +1.0)",
    )
    anneal_passes: int = Field(5_000, ge=0, description="Passes of the annealing")
    chunk_passes: int = Field(
        500, ge=1, description="Passes whose random numbers are drawn at once (memory only)"
    )


class MonteCarloResult(BaseModel):
    """Snapshots of every chain, with their energies; arrays are numpy (not serialised)."""

    model_config = {"arbitrary_types_allowed": True}

    settings: MonteCarloSettings
    occupations: np.ndarray = Field(
        description="(chains, snapshots, sites) species index (SPECIES order) per site"
    )
    energies: np.ndarray = Field(description="(chains, snapshots) energy per atom, eV")
    passes: np.ndarray = Field(description="(snapshots,) pass after which each was taken")
    acceptance: float = Field(description="Accepted share of swaps between different species")
    seconds: float = Field(description="Wall time of the chains")


@numba.njit(cache=True, inline="always")
def _swap_delta(occ, neighbours, shell, v, i, j):  # pragma: no cover - compiled
    a, b = occ[i], occ[j]
    delta = 0.0
    for c in range(neighbours.shape[1]):
        k = neighbours[i, c]
        if k != j:
            delta += v[shell[c], b, occ[k]] - v[shell[c], a, occ[k]]
        k = neighbours[j, c]
        if k != i:
            delta += v[shell[c], a, occ[k]] - v[shell[c], b, occ[k]]
    return delta


@numba.njit(cache=True, parallel=True)
def _run_chains(
    occ, energy, neighbours, shell, v, beta, picks_i, picks_j, uniforms, every, snaps, snap_e
):  # pragma: no cover - compiled
    """Attempts of every chain (rows); a snapshot after each ``every`` attempts."""
    n_chains, n_attempts = picks_i.shape
    tried = np.zeros(n_chains, dtype=np.int64)
    accepted = np.zeros(n_chains, dtype=np.int64)
    for c in numba.prange(n_chains):
        row = occ[c]
        for t in range(n_attempts):
            i, j = picks_i[c, t], picks_j[c, t]
            if row[i] != row[j]:
                tried[c] += 1
                delta = _swap_delta(row, neighbours, shell, v, i, j)
                if delta <= 0.0 or uniforms[c, t] < np.exp(-beta * delta):
                    row[i], row[j] = row[j], row[i]
                    energy[c] += delta
                    accepted[c] += 1
            if (t + 1) % every == 0:
                snaps[c, (t + 1) // every - 1] = row
                snap_e[c, (t + 1) // every - 1] = energy[c]
    return tried.sum(), accepted.sum()


def swap_delta_reference(occ, lattice, expansion, i, j) -> float:
    """The energy change (eV) of swapping sites i and j by recounting the whole cell: the
    plain method the incremental one is checked and benchmarked against."""
    after = occ.copy()
    after[i], after[j] = occ[j], occ[i]
    e = expansion.energy(cluster_counts(np.stack([occ, after]), lattice))
    return float((e[1] - e[0]) * lattice.n_sites)


def random_orders(lattice: FCCLattice, composition: dict[str, int], rngs) -> np.ndarray:
    """(chains, sites) random orders of ``composition`` on the lattice, one per generator."""
    if sum(composition.values()) != lattice.n_sites:
        raise ConfigurationError(
            f"composition {composition} has {sum(composition.values())} atoms, the lattice "
            f"{lattice.n_sites} sites"
        )
    base = np.concatenate(
        [np.full(composition.get(s, 0), k, dtype=np.int8) for k, s in enumerate(SPECIES)]
    )
    return np.stack([rng.permutation(base) for rng in rngs])


class _Chains:
    """Chains side by side: their orders, energies (eV) and random streams."""

    def __init__(self, settings: MonteCarloSettings, lattice: FCCLattice, expansion):
        self.rngs = [
            np.random.default_rng(s)
            for s in np.random.SeedSequence(settings.seed).spawn(settings.n_chains)
        ]
        self.occ = random_orders(lattice, expansion.composition, self.rngs)
        self.n = lattice.n_sites
        self.energy = expansion.energy(cluster_counts(self.occ, lattice)) * self.n
        self.neighbours = np.ascontiguousarray(lattice.neighbours)
        self.shell = lattice.shell_of_column.astype(np.int64)
        self.v = expansion.pair_interactions()
        self.tried = self.accepted = 0

    def advance(self, passes: int, temperature: float, every: int, snaps, snap_e) -> None:
        """``passes`` passes at ``temperature``; a snapshot into ``snaps``/``snap_e`` after
        each ``every`` passes (``every`` > ``passes``: none)."""
        attempts = passes * self.n
        picks_i = np.stack([rng.integers(0, self.n, attempts) for rng in self.rngs])
        picks_j = np.stack([rng.integers(0, self.n, attempts) for rng in self.rngs])
        uniforms = np.stack([rng.random(attempts) for rng in self.rngs])
        beta = 1.0 / (units.kB * temperature)
        tried, accepted = _run_chains(
            self.occ, self.energy, self.neighbours, self.shell, self.v, beta,
            picks_i, picks_j, uniforms, every * self.n, snaps, snap_e,
        )  # fmt: skip
        self.tried += tried
        self.accepted += accepted


def anneal_temperatures(settings: MonteCarloSettings) -> list[float]:
    """The annealing steps' temperatures (geometric, ending above ``temperature``); none when
    annealing is off or starts below the temperature."""
    start = settings.anneal_from
    if start is None or settings.anneal_passes == 0 or start <= settings.temperature:
        return []
    steps = ANNEAL_STEPS
    ratio = (settings.temperature / start) ** (1.0 / steps)
    return [start * ratio**k for k in range(steps)]


def run_monte_carlo(
    settings: MonteCarloSettings,
    lattice: FCCLattice | None = None,
    expansion: ClusterExpansion | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MonteCarloResult:
    """Run ``settings.n_chains`` chains from random orders (annealed first when set);
    ``progress(done, total)`` passes after each chunk."""
    lattice = lattice or FCCLattice()
    expansion = expansion or ClusterExpansion.bundled()
    if settings.passes % settings.snapshot_every:
        raise ConfigurationError(
            f"passes ({settings.passes}) must be a multiple of snapshot_every "
            f"({settings.snapshot_every})"
        )
    chunk = max(
        settings.snapshot_every,
        settings.chunk_passes // settings.snapshot_every * settings.snapshot_every,
    )
    chains = _Chains(settings, lattice, expansion)
    n_snaps = settings.passes // settings.snapshot_every
    snaps = np.empty((settings.n_chains, n_snaps, lattice.n_sites), dtype=np.int8)
    snap_e = np.empty((settings.n_chains, n_snaps))
    anneal = anneal_temperatures(settings)
    total = settings.passes + (settings.anneal_passes if anneal else 0)
    done = 0
    start = time.perf_counter()
    for temperature in anneal:
        passes = max(1, settings.anneal_passes // len(anneal))
        chains.advance(passes, temperature, passes + 1, snaps[:, :0], snap_e[:, :0])
        done += passes
        if progress is not None:
            progress(done, total)
    chains.tried = chains.accepted = 0  # the acceptance of the sampled temperature
    for first in range(0, settings.passes, chunk):
        passes = min(chunk, settings.passes - first)
        s0, s1 = first // settings.snapshot_every, (first + passes) // settings.snapshot_every
        chains.advance(
            passes, settings.temperature, settings.snapshot_every, snaps[:, s0:s1], snap_e[:, s0:s1]
        )
        done += passes
        if progress is not None:
            progress(done, total)
    return MonteCarloResult(
        settings=settings,
        occupations=snaps,
        energies=snap_e / lattice.n_sites,
        passes=np.arange(1, n_snaps + 1) * settings.snapshot_every,
        acceptance=chains.accepted / max(chains.tried, 1),
        seconds=time.perf_counter() - start,
    )
