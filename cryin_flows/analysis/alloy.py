"""Dismai-Bench's alloy metrics, as its published scripts define them.

``benchmark/alloy`` of ertekin-research-group/Dismai-Bench: generated structures are first
cleaned onto the reference FCC lattice (``remove_atoms_not_on_lattice_cryingan.py``: each
lattice site takes the generated atom closest to it within 0.8 Å; ``..._diffcsp.py`` first
translates the lattice so that a site sits on the atom nearest the origin); sites left empty
are vacancies. Clusters of the cleaned structures are counted (``cluster_counts``), turned into
probabilities, CE energies and Warren-Cowley SRO (``analyze_cluster_count.py``), and the set
is scored by the Euclidean distance between its average cluster probabilities and the training
set's, the share of structures with vacancies, each with a 95 % pivotal bootstrap interval over
1,000 resamples of the generated set (seed 7), and the share rejected
(``get_alloy_metrics.py``).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.core import Lattice, PeriodicSite, Structure

from cryin_flows.alloys.expansion import (
    SPECIES,
    VACANCY,
    ClusterExpansion,
    atoms_occupations,
    cluster_counts,
    warren_cowley,
)
from cryin_flows.alloys.lattice import FCCLattice
from cryin_flows.analysis.statistics import Interval, euclidean, interval
from cryin_flows.errors import ConfigurationError

LATTICE_MARGIN = 0.8  # Å: a generated atom further than this from every site is removed
TRANSLATE_SEARCH = 5.0  # Å: how far from the origin the translated lattice looks for an atom


def reference_structure(lattice: FCCLattice) -> Structure:
    """The reference lattice as a pymatgen structure of placeholder atoms."""
    return Structure(
        Lattice.cubic(lattice.length),
        ["H"] * lattice.n_sites,
        lattice.positions,
        coords_are_cartesian=True,
    )


def snap_to_lattice(
    structure: Structure,
    lattice: FCCLattice | None = None,
    margin: float = LATTICE_MARGIN,
    translate: bool = False,
) -> tuple[np.ndarray, int]:
    """(occupation of the reference sites, vacancies) of a generated structure.

    Each site takes the species of the generated atom nearest to it within ``margin``
    (CryinGAN's script); with ``translate`` the sites are first shifted so that the site at
    the origin sits on the generated atom nearest the origin (DiffCSP's script). As in the
    scripts, a site is the reference lattice's Cartesian point searched in the generated cell.
    One difference: an atom exactly on a site counts (pymatgen's neighbour list, as the
    scripts call it, drops zero distances, so they would find a perfect lattice all vacant).
    """
    lattice = lattice or FCCLattice()
    reference = reference_structure(lattice)
    frac = reference.frac_coords
    if translate:
        origin = np.full(3, 1e-6)
        probe = PeriodicSite("H", origin, reference.lattice)
        _, near, _, dist = structure.get_neighbor_list(TRANSLATE_SEARCH, [probe])
        if len(near) == 0:
            raise ConfigurationError(
                f"no atom within {TRANSLATE_SEARCH} Å of the origin to translate to"
            )
        frac = (frac + structure[int(near[dist.argmin()])].frac_coords - origin) % 1.0
    cartesian = reference.lattice.get_cartesian_coords(frac)
    sites = [PeriodicSite("H", c, structure.lattice, coords_are_cartesian=True) for c in cartesian]
    centre, near, _, dist = structure.get_neighbor_list(margin, sites, exclude_self=False)
    occupation = np.full(lattice.n_sites, VACANCY, dtype=np.int8)
    best = np.full(lattice.n_sites, np.inf)
    symbols = [site.specie.symbol for site in structure]
    for c, j, d in zip(centre, near, dist, strict=True):
        if d < best[c]:
            best[c] = d
            occupation[c] = SPECIES.index(symbols[j])
    return occupation, int((occupation == VACANCY).sum())


class AlloyStructureMetrics(BaseModel):
    """Per-structure numbers of a set of cleaned alloy structures; arrays are numpy."""

    model_config = {"arbitrary_types_allowed": True}

    counts: np.ndarray = Field(description="(n, 45) cluster counts, rounded as published")
    probabilities: np.ndarray = Field(description="(n, 45) cluster probabilities")
    energy: np.ndarray = Field(description="(n,) CE formation energy, eV/atom")
    sro: dict[str, np.ndarray] = Field(description="Warren-Cowley SRO of shells 1-2")
    vacancies: np.ndarray = Field(description="(n,) vacancies left by cleaning")


def structure_metrics(
    occupations: np.ndarray,
    vacancies: np.ndarray | None = None,
    lattice: FCCLattice | None = None,
    expansion: ClusterExpansion | None = None,
) -> AlloyStructureMetrics:
    """Counts, probabilities, CE energies and SRO of occupations (n, sites)."""
    lattice = lattice or FCCLattice()
    expansion = expansion or ClusterExpansion.bundled()
    occupations = np.atleast_2d(occupations)
    counts = cluster_counts(occupations, lattice, decimals=5)
    if vacancies is None:
        vacancies = (occupations == VACANCY).sum(axis=1)
    return AlloyStructureMetrics(
        counts=counts,
        probabilities=expansion.probabilities(counts),
        energy=expansion.energy(counts),
        sro=warren_cowley(counts),
        vacancies=np.asarray(vacancies),
    )


def training_metrics(atoms_list, lattice: FCCLattice | None = None) -> AlloyStructureMetrics:
    """Metrics of on-lattice structures (a training set), read from their positions."""
    lattice = lattice or FCCLattice()
    return structure_metrics(atoms_occupations(atoms_list, lattice), lattice=lattice)


class AlloyMetrics(BaseModel):
    """A generated alloy set scored against its training set (Dismai-Bench Table 2)."""

    n_generated: int = Field(description="Structures generated")
    n_accepted: int = Field(description="Structures kept after cleaning")
    rejected_percent: float = Field(description="Structures rejected, %")
    d_cluster: Interval = Field(
        description="Euclidean distance of the average cluster probabilities (0 = identical)"
    )
    vacancy_percent: Interval = Field(description="Accepted structures with vacancies, %")
    energy_mean: float = Field(description="Mean CE energy of the generated set, eV/atom")
    energy_mean_training: float = Field(description="Mean CE energy of the training set")
    sro_mean: dict[str, float] = Field(description="Mean SRO per shell and pair, generated")
    sro_mean_training: dict[str, float] = Field(description="Mean SRO, training set")


def alloy_metrics(
    training: AlloyStructureMetrics,
    generated: AlloyStructureMetrics,
    n_generated: int | None = None,
    n_resamples: int = 1000,
    seed: int = 7,
) -> AlloyMetrics:
    """d_cluster and the vacancy share with their pivotal intervals (each bootstrap starts
    from ``seed``, resampling the generated set only) and the rejected share."""
    n = len(generated.probabilities)
    n_generated = n if n_generated is None else n_generated
    if n_generated < n:
        raise ConfigurationError(f"n_generated ({n_generated}) is below the {n} structures scored")
    reference = training.probabilities.mean(axis=0)
    probs, has_vacancy = generated.probabilities, generated.vacancies > 0

    return AlloyMetrics(
        n_generated=n_generated,
        n_accepted=n,
        rejected_percent=100.0 - n / n_generated * 100.0,
        d_cluster=interval(
            lambda i: euclidean(reference, probs[i].mean(axis=0)), [n], n_resamples, seed
        ),
        vacancy_percent=interval(lambda i: has_vacancy[i].mean() * 100.0, [n], n_resamples, seed),
        energy_mean=float(generated.energy.mean()),
        energy_mean_training=float(training.energy.mean()),
        sro_mean={k: float(np.nanmean(x)) for k, x in generated.sro.items()},
        sro_mean_training={k: float(np.nanmean(x)) for k, x in training.sro.items()},
    )
