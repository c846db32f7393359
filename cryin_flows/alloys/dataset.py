"""The alloy training sets: Monte Carlo snapshots, the wide and narrow SRO selections, and
their structures (paper §2.1.1 and §4.1.1)."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from pydantic import BaseModel, Field

from cryin_flows.alloys.expansion import (
    SPECIES,
    ClusterExpansion,
    atoms_occupations,
    cluster_counts,
    warren_cowley,
)
from cryin_flows.alloys.lattice import FCCLattice
from cryin_flows.alloys.montecarlo import MonteCarloResult
from cryin_flows.errors import ConfigurationError
from cryin_flows.utils import SerializableModel


class AlloySetSettings(SerializableModel):
    """How a temperature's snapshots become its wide and narrow sets."""

    size: int = Field(1500, ge=1, description="Structures per set (paper: 1500)")
    burn_in_passes: int = Field(
        1000,
        ge=0,
        description="Snapshots up to this pass are dropped: the chains start from random "
        "orders (at 300 K the energy settles within a few hundred passes)",
    )
    narrow_width: float = Field(
        0.1,
        gt=0,
        description="Narrow set: every shell-1 and shell-2 Warren-Cowley SRO within this of "
        "its average over the snapshots (paper: ±0.1)",
    )
    seed: int = Field(0, description="Seed of the draws from the snapshots")


class AlloySet(BaseModel):
    """One selection of snapshots."""

    name: str = Field(description="wide or narrow")
    chain: list[int] = Field(description="Chain of each structure")
    snapshot: list[int] = Field(description="Snapshot index within its chain")
    passes: list[int] = Field(description="Pass after which each snapshot was taken")
    energy: list[float] = Field(description="Cluster-expansion energy per atom, eV")
    pool: int = Field(description="Snapshots the set was drawn from (after burn-in/filter)")


def select_sets(
    result: MonteCarloResult,
    settings: AlloySetSettings | None = None,
    lattice: FCCLattice | None = None,
) -> dict[str, AlloySet]:
    """The wide set (drawn from all snapshots after burn-in) and the narrow one (drawn from
    those whose 12 SRO values lie within ``narrow_width`` of their averages)."""
    settings = settings or AlloySetSettings()
    lattice = lattice or FCCLattice()
    keep = np.flatnonzero(result.passes > settings.burn_in_passes)
    n_chains = result.occupations.shape[0]
    chain, snap = np.repeat(np.arange(n_chains), len(keep)), np.tile(keep, n_chains)
    occ = result.occupations[chain, snap]
    sro = np.stack(list(warren_cowley(cluster_counts(occ, lattice)).values()), axis=1)
    narrow = np.abs(sro - sro.mean(axis=0)).max(axis=1) <= settings.narrow_width
    rng = np.random.default_rng(settings.seed)
    sets = {}
    for name, pool in (("wide", np.arange(len(occ))), ("narrow", np.flatnonzero(narrow))):
        if len(pool) < settings.size:
            raise ConfigurationError(
                f"alloy {name} set at {result.settings.temperature:g} K: {len(pool)} "
                f"snapshots qualify, {settings.size} asked (run more passes or chains)"
            )
        pick = np.sort(rng.choice(pool, settings.size, replace=False))
        sets[name] = AlloySet(
            name=name,
            chain=chain[pick].tolist(),
            snapshot=snap[pick].tolist(),
            passes=result.passes[snap[pick]].tolist(),
            energy=result.energies[chain[pick], snap[pick]].tolist(),
            pool=len(pool),
        )
    return sets


def alloy_atoms(occupation: np.ndarray, lattice: FCCLattice, **info) -> Atoms:
    """The structure of one occupation, atoms sorted by species (Cr, Fe, Ni) then site, as
    generators with a fixed atom order need."""
    occupation = np.asarray(occupation)
    sites = np.flatnonzero(occupation >= 0)
    order = sites[np.lexsort((sites, occupation[sites]))]
    atoms = Atoms(
        symbols=[SPECIES[k] for k in occupation[order]],
        positions=lattice.positions[order],
        cell=np.eye(3) * lattice.length,
        pbc=True,
    )
    atoms.info.update(info)
    return atoms


def set_atoms(
    result: MonteCarloResult, chosen: AlloySet, lattice: FCCLattice | None = None
) -> list[Atoms]:
    """The structures of a set, with their temperature, chain, pass and CE energy in
    ``info``."""
    lattice = lattice or FCCLattice()
    return [
        alloy_atoms(
            result.occupations[c, s],
            lattice,
            temperature=result.settings.temperature,
            chain=c,
            mc_pass=p,
            ce_energy=e,
        )
        for c, s, p, e in zip(
            chosen.chain, chosen.snapshot, chosen.passes, chosen.energy, strict=True
        )
    ]


def expansion_energies(atoms_list: list[Atoms], lattice: FCCLattice | None = None) -> np.ndarray:
    """CE energy per atom (eV) of on-lattice structures, counted from their positions."""
    lattice = lattice or FCCLattice()
    occupations = atoms_occupations(atoms_list, lattice)
    return ClusterExpansion.bundled().energy(cluster_counts(occupations, lattice))


def translated_copies(atoms_list: list[Atoms], lattice: FCCLattice | None = None) -> list[Atoms]:
    """Each structure and its copies shifted by every integer multiple of the conventional
    cell (63 for 4x4x4): CryinGAN's alloy augmentation (paper §4.2), species order kept."""
    lattice = lattice or FCCLattice()
    steps = range(lattice.repeats)
    out = []
    for atoms in atoms_list:
        for i in steps:
            for j in steps:
                for k in steps:
                    copy = atoms.copy()
                    copy.positions += np.array([i, j, k]) * lattice.a
                    copy.wrap()
                    copy.info["translation"] = [i, j, k]
                    out.append(copy)
    return out
