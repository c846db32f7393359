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


class MonteCarloSettings(SerializableModel):
    """One temperature of the published protocol (paper §4.1.1)."""

    temperature: float = Field(gt=0, description="Temperature, K (paper: 300 and 1500)")
    n_chains: int = Field(10, ge=1, description="Independent chains (paper: 10)")
    passes: int = Field(50_000, ge=1, description="Passes per chain (paper: 50,000)")
    snapshot_every: int = Field(10, ge=1, description="Passes between snapshots (paper: 10)")
    seed: int = Field(0, description="Seed of the chains' starting orders and moves")
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


def run_monte_carlo(
    settings: MonteCarloSettings,
    lattice: FCCLattice | None = None,
    expansion: ClusterExpansion | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MonteCarloResult:
    """Run ``settings.n_chains`` chains from random orders; ``progress(done, total)`` passes
    after each chunk."""
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
    rngs = [
        np.random.default_rng(s)
        for s in np.random.SeedSequence(settings.seed).spawn(settings.n_chains)
    ]
    occ = random_orders(lattice, expansion.composition, rngs)
    n = lattice.n_sites
    energy = expansion.energy(cluster_counts(occ, lattice)) * n
    neighbours = np.ascontiguousarray(lattice.neighbours)
    shell = lattice.shell_of_column.astype(np.int64)
    v = expansion.pair_interactions()
    beta = 1.0 / (units.kB * settings.temperature)
    n_snaps = settings.passes // settings.snapshot_every
    snaps = np.empty((settings.n_chains, n_snaps, n), dtype=np.int8)
    snap_e = np.empty((settings.n_chains, n_snaps))
    tried = accepted = 0
    start = time.perf_counter()
    for first in range(0, settings.passes, chunk):
        passes = min(chunk, settings.passes - first)
        attempts = passes * n
        picks_i = np.stack([rng.integers(0, n, attempts) for rng in rngs])
        picks_j = np.stack([rng.integers(0, n, attempts) for rng in rngs])
        uniforms = np.stack([rng.random(attempts) for rng in rngs])
        s0 = first // settings.snapshot_every
        part = snaps[:, s0 : s0 + passes // settings.snapshot_every]
        part_e = snap_e[:, s0 : s0 + passes // settings.snapshot_every]
        t, a = _run_chains(
            occ,
            energy,
            neighbours,
            shell,
            v,
            beta,
            picks_i,
            picks_j,
            uniforms,
            settings.snapshot_every * n,
            part,
            part_e,
        )
        tried, accepted = tried + t, accepted + a
        if progress is not None:
            progress(first + passes, settings.passes)
    return MonteCarloResult(
        settings=settings,
        occupations=snaps,
        energies=snap_e / n,
        passes=np.arange(1, n_snaps + 1) * settings.snapshot_every,
        acceptance=accepted / max(tried, 1),
        seconds=time.perf_counter() - start,
    )
