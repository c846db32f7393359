"""Dismai-Bench's amorphous-silicon metrics, as its published scripts define them.

``benchmark/a_Si`` of ertekin-research-group/Dismai-Bench; per structure:

* motifs (``motif/get_a_Si_motifs.py``): matminer's CrystalNNFingerprint "ops" vector (61
  values) of every Si site with ``cation_anion=False``, averaged over the structure's sites;
* RDF (``rdf/get_rdf_Si-Si.py``): vasppy's Si-Si RDF of the 2x2x2 supercell (500 bins over
  0-10 Å). Below half the supercell's width its minimum-image pairs are all the periodic
  pairs of the cell itself, which is how it is computed here (ASE's neighbour list);
* bond angles (``bond_angle/*.py``): the angles between each pair of a site's neighbours
  (CrystalNN with ``distance_cutoffs=None, x_diff_weight=0, porous_adjustment=False``),
  binned at 0.5° over 0-180° (pandas' right-closed bins) and normalised per structure.

Each metric is the Euclidean distance (and for motifs also the cosine distance) between the
training and generated averages, with a 95 % pivotal interval over resamples of the generated
set (seed 7, 1,000); per-bin intervals of the average RDF and angle distribution come with it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from itertools import combinations

import numpy as np
from ase import Atoms
from pydantic import BaseModel, Field
from pymatgen.io.ase import AseAtomsAdaptor

from cryin_flows.analysis.fingerprints import SiteFingerprinter, shared_voronoi
from cryin_flows.analysis.statistics import Interval, bootstrap, euclidean, interval
from cryin_flows.errors import ConfigurationError

RDF_R_MAX = 10.0  # Å
RDF_BINS = 500
ANGLE_BIN = 0.5  # degrees
ANGLE_EDGES = np.arange(0.0, 180.0 + ANGLE_BIN, ANGLE_BIN)
N_MOTIF = 61  # the "ops" values of CrystalNNFingerprint


def rdf_bins() -> np.ndarray:
    """Mid-points of the RDF's bins, Å (vasppy's ``r``)."""
    edges = np.linspace(0.0, RDF_R_MAX, RDF_BINS + 1)
    return edges[:-1] + RDF_R_MAX / RDF_BINS / 2


def angle_bins() -> np.ndarray:
    """Mid-points of the bond-angle bins, degrees."""
    return (ANGLE_EDGES[1:] + ANGLE_EDGES[:-1]) / 2


def silicon_rdf(atoms: Atoms, label: str = "structure") -> np.ndarray:
    """The Si-Si RDF of a periodic structure, vasppy's on its 2x2x2 supercell."""
    import torch
    from vesin_torch import NeighborList

    cell = atoms.cell
    width = 2 * cell.volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    if width.min() / 2 <= RDF_R_MAX:
        raise ConfigurationError(
            f"{label}: cell too small for the published RDF (its 2x2x2 supercell must be wider "
            f"than {2 * RDF_R_MAX:g} Å)"
        )
    si = atoms[[s == "Si" for s in atoms.get_chemical_symbols()]]
    finder = NeighborList(cutoff=RDF_R_MAX, full_list=True)
    points = torch.as_tensor(si.positions, dtype=torch.float64)
    box = torch.as_tensor(si.cell.array, dtype=torch.float64)
    (distances,) = finder.compute(points, box, True, "d")
    distances = distances.numpy()
    hist = np.histogram(distances, bins=RDF_BINS, range=(0.0, RDF_R_MAX))[0]
    edges = np.linspace(0.0, RDF_R_MAX, RDF_BINS + 1)
    shells = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    n = len(si)
    return hist * si.get_volume() / (shells * n * n)


def angle_crystalnn():
    """The CrystalNN of the published bond-angle script."""
    from pymatgen.analysis.local_env import CrystalNN

    return CrystalNN(distance_cutoffs=None, x_diff_weight=0, porous_adjustment=False)


def site_bond_angles(structure, index: int, cnn) -> list[float]:
    """Angles (degrees) between every pair of the site's CrystalNN neighbours."""
    neighbours = cnn.get_nn_info(structure, index)
    centre = structure[index].coords
    angles = []
    for a, b in combinations([n["site"].coords for n in neighbours], 2):
        u, v = a - centre, b - centre
        cosine = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
        angle = np.arccos(cosine)
        if np.isnan(angle):  # |cos| a rounding error above 1
            angle = np.arccos(round(cosine, 5))
        angles.append(float(angle * 180 / np.pi))
    return angles


def angle_distribution(angles: list[float]) -> np.ndarray:
    """Share of the angles in each 0.5° bin, bins closed on the right (the first also on the
    left), as ``pandas.cut(..., include_lowest=True)`` bins them."""
    values = np.asarray(angles, dtype=float)
    out = np.zeros(len(ANGLE_EDGES) - 1)
    if len(values) == 0:
        return out
    index = np.searchsorted(ANGLE_EDGES, values, side="left") - 1
    index[values == ANGLE_EDGES[0]] = 0
    np.add.at(out, index, 1)
    return out / len(values)


class SiliconFeatures(BaseModel):
    """Per-structure numbers of a set; arrays are numpy."""

    model_config = {"arbitrary_types_allowed": True}

    motif_sums: np.ndarray = Field(description="(n, 61) sum of the sites' motif vectors")
    n_sites: np.ndarray = Field(description="(n,) Si sites per structure")
    rdf: np.ndarray = Field(description="(n, 500) Si-Si RDF")
    angles: np.ndarray = Field(description="(n, 360) bond-angle distribution")

    @property
    def motif_means(self) -> np.ndarray:
        """(n, 61) each structure's average motif vector."""
        return self.motif_sums / self.n_sites[:, None]


_FINGERPRINTER: SiteFingerprinter | None = None


def _features_one(args) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    global _FINGERPRINTER
    atoms, label = args
    if _FINGERPRINTER is None:
        _FINGERPRINTER = SiteFingerprinter(cation_anion=False)
    structure = AseAtomsAdaptor.get_structure(atoms)
    sites = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == "Si"]
    motif = np.zeros(N_MOTIF)
    cnn = angle_crystalnn()
    with shared_voronoi(all_sites=True):  # one tessellation for both CrystalNNs, all sites
        for i in sites:
            motif += _FINGERPRINTER.site(structure, i).vector
        angles = [a for i in range(len(structure)) for a in site_bond_angles(structure, i, cnn)]
    return motif, len(sites), silicon_rdf(atoms, label), angle_distribution(angles)


def silicon_features(
    atoms_list: list[Atoms],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    name: str = "set",
) -> SiliconFeatures:
    """Motif sums, RDFs and angle distributions of every structure, in ``workers``
    processes (default: the machine's cores)."""
    workers = workers or os.cpu_count() or 1
    tasks = [(a, f"{name}, frame {i}") for i, a in enumerate(atoms_list)]
    if workers <= 1 or len(tasks) <= 1:
        results = []
        for task in tasks:
            results.append(_features_one(task))
            if progress is not None:
                progress(1)
    else:
        import multiprocessing

        results = []
        context = multiprocessing.get_context("spawn")  # torch's thread pools do not survive fork
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            for result in pool.map(_features_one, tasks, chunksize=1):
                results.append(result)
                if progress is not None:
                    progress(1)
    motif, n, rdf, angles = zip(*results, strict=True)
    return SiliconFeatures(
        motif_sums=np.array(motif), n_sites=np.array(n), rdf=np.array(rdf), angles=np.array(angles)
    )


class Band(BaseModel):
    """A generated set's average curve with its per-bin 95 % pivotal interval."""

    x: list[float] = Field(description="Bin mid-points")
    training: list[float] = Field(description="Training set average")
    generated: list[float] = Field(description="Generated set average")
    low: list[float] = Field(description="Lower end of the generated average's interval")
    high: list[float] = Field(description="Upper end")


class SiliconMetrics(BaseModel):
    """A generated a-Si set scored against its training set (Dismai-Bench Table 3)."""

    n_generated: int = Field(description="Structures generated")
    n_scored: int = Field(description="Structures scored (after post-processing/relaxation)")
    failed_percent: float = Field(description="Structures that failed, %")
    d_motif: Interval = Field(description="Euclidean distance of the average motif vectors")
    cosine_motif: Interval = Field(description="Cosine distance of the average motif vectors")
    d_rdf: Interval = Field(description="Euclidean distance of the average RDFs")
    d_angle: Interval = Field(description="Euclidean distance of the average angle shares")
    rdf: Band = Field(description="Average RDFs")
    angles: Band = Field(description="Average bond-angle distributions")


def _band(x, reference, values, n_resamples, seed) -> Band:
    estimate, low, high = bootstrap(
        lambda i: values[i].mean(axis=0), [len(values)], n_resamples, seed
    )
    return Band(
        x=list(map(float, x)),
        training=list(map(float, reference)),
        generated=list(map(float, estimate)),
        low=list(map(float, low)),
        high=list(map(float, high)),
    )


def silicon_metrics(
    training: SiliconFeatures,
    generated: SiliconFeatures,
    n_generated: int | None = None,
    n_resamples: int = 1000,
    seed: int = 7,
) -> SiliconMetrics:
    """The published metrics; every bootstrap starts from ``seed`` and resamples the
    generated structures only."""
    from scipy.spatial.distance import cosine

    n = len(generated.n_sites)
    n_generated = n if n_generated is None else n_generated
    if n_generated < n:
        raise ConfigurationError(f"n_generated ({n_generated}) is below the {n} scored")
    motif_ref = training.motif_sums.sum(axis=0) / training.n_sites.sum()  # over all sites
    motifs = generated.motif_means
    rdf_ref, angle_ref = training.rdf.mean(axis=0), training.angles.mean(axis=0)

    def resampled(statistic) -> Interval:
        return interval(statistic, [n], n_resamples, seed)

    return SiliconMetrics(
        n_generated=n_generated,
        n_scored=n,
        failed_percent=100.0 - n / n_generated * 100.0,
        d_motif=resampled(lambda i: euclidean(motif_ref, motifs[i].mean(axis=0))),
        cosine_motif=resampled(lambda i: cosine(motif_ref, motifs[i].mean(axis=0))),
        d_rdf=resampled(lambda i: euclidean(rdf_ref, generated.rdf[i].mean(axis=0))),
        d_angle=resampled(lambda i: euclidean(angle_ref, generated.angles[i].mean(axis=0))),
        rdf=_band(rdf_bins(), rdf_ref, generated.rdf, n_resamples, seed),
        angles=_band(angle_bins(), angle_ref, generated.angles, n_resamples, seed),
    )
