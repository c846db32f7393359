"""The a-Si metrics against Dismai-Bench's published scripts: vasppy for the RDF, matminer for
the motifs, the published loops (pymatgen, pandas) for the angles and the bootstrap."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from ase.build import bulk
from pymatgen.io.ase import AseAtomsAdaptor
from scipy.spatial.distance import cosine, euclidean

from cryin_flows.analysis.amorphous import (
    ANGLE_EDGES,
    silicon_features,
    silicon_metrics,
    silicon_rdf,
)
from cryin_flows.errors import ConfigurationError

# get_a_Si_motifs.py's op_types
OP_TYPES = {
    1: ["wt", "sgl_bd"],
    2: ["wt", "L-shaped", "water-like", "bent 120 degrees", "bent 150 degrees", "linear"],
    3: ["wt", "trigonal planar", "trigonal non-coplanar", "T-shaped"],
    4: ["wt", "square co-planar", "tetrahedral", "rectangular see-saw-like", "see-saw-like",
        "trigonal pyramidal"],
    5: ["wt", "pentagonal planar", "square pyramidal", "trigonal bipyramidal"],
    6: ["wt", "hexagonal planar", "octahedral", "pentagonal pyramidal"],
    7: ["wt", "hexagonal pyramidal", "pentagonal bipyramidal"],
    8: ["wt", "body-centered cubic", "hexagonal bipyramidal"],
    9: ["wt", "q2", "q4", "q6"],
    10: ["wt", "q2", "q4", "q6"],
    11: ["wt", "q2", "q4", "q6"],
    12: ["wt", "cuboctahedral", "q2", "q4", "q6"],
    **{cn: ["wt"] for cn in range(13, 25)},
}  # fmt: skip


def _disordered_si(seed: int, rattle: float):
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)  # 64 atoms, 10.9 Å
    atoms.rattle(rattle, seed=seed)
    atoms.wrap()
    return atoms


@pytest.fixture(scope="module")
def structures():
    return [_disordered_si(1, 0.25), _disordered_si(2, 0.35), _disordered_si(3, 0.3)]


@pytest.fixture(scope="module")
def features(structures):
    return silicon_features(structures, workers=1)


def test_rdf_is_vasppys_on_the_supercell(structures, features):
    from vasppy.rdf import RadialDistributionFunction

    for atoms, ours in zip(structures, features.rdf, strict=True):
        structure = AseAtomsAdaptor.get_structure(atoms)
        structure.make_supercell(2)
        si = [i for i, s in enumerate(structure) if s.species_string == "Si"]
        theirs = RadialDistributionFunction(structures=[structure], indices_i=si, indices_j=si)
        np.testing.assert_allclose(ours, theirs.rdf, rtol=0, atol=1e-9)
        assert ours[(theirs.r > 2.2) & (theirs.r < 2.5)].max() > 1.5  # the first shell
    with pytest.raises(ConfigurationError, match="frame 0: cell too small"):
        silicon_rdf(bulk("Si", "diamond", a=5.431, cubic=True), "frame 0")


def test_motifs_are_matminers(structures, features):
    from matminer.featurizers.site.fingerprint import CrystalNNFingerprint

    cnn = CrystalNNFingerprint(op_types=OP_TYPES, cation_anion=False)
    assert len(cnn.feature_labels()) == features.motif_sums.shape[1] == 61
    structure = AseAtomsAdaptor.get_structure(structures[0])
    theirs = np.mean([cnn.featurize(structure, j) for j in range(len(structure))], axis=0)
    np.testing.assert_allclose(features.motif_means[0], theirs, rtol=0, atol=1e-9)
    assert features.n_sites.tolist() == [64, 64, 64]


def _published_angles(structure) -> np.ndarray:
    """get_a_Si_bond_angle.py + bin_bond_angles.py for one structure."""
    from pymatgen.analysis.local_env import CrystalNN

    cnn = CrystalNN(distance_cutoffs=None, x_diff_weight=0, porous_adjustment=False)
    angles = []
    for j in range(len(structure)):
        nn_all = cnn.get_nn_info(structure, j)
        coords = [nn["site"].coords for nn in nn_all]
        for a, b in combinations(range(len(coords)), 2):
            u, v = coords[a] - structure[j].coords, coords[b] - structure[j].coords
            cos_angle = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
            angle = np.arccos(cos_angle)
            if np.isnan(angle):
                angle = np.arccos(round(cos_angle, 5))
            angles.append(angle * 180 / np.pi)
    edges = np.arange(0.0, 180.0 + 0.5, 0.5)
    binned = pd.cut(pd.Series(angles), edges, include_lowest=True)
    return binned.value_counts(normalize=True, sort=False).to_numpy()


def test_angle_distributions_are_the_published_ones(structures, features):
    assert len(ANGLE_EDGES) == 361
    for atoms, ours in zip(structures[:2], features.angles[:2], strict=True):
        theirs = _published_angles(AseAtomsAdaptor.get_structure(atoms))
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
        assert ours.sum() == pytest.approx(1.0)


def test_distances_and_bands_are_the_published_bootstrap(features):
    training = features.model_copy(
        update={k: getattr(features, k)[:2] for k in ("motif_sums", "n_sites", "rdf", "angles")}
    )
    ours = silicon_metrics(training, features, n_generated=4, n_resamples=200)
    assert ours.failed_percent == pytest.approx(25.0)
    rng = np.random.default_rng(7)
    idx = np.arange(3)
    motif_train = training.motif_sums.sum(axis=0) / training.n_sites.sum()
    rdf_train = pd.DataFrame(training.rdf).mean(axis=0).to_numpy()
    boot_e, boot_c, boot_rdf = [], [], []
    for _ in range(200):
        pick = rng.choice(idx, size=3, replace=True)
        avg = np.mean(features.motif_means[pick], axis=0)
        boot_e.append(euclidean(motif_train, avg))
        boot_c.append(cosine(motif_train, avg))
        boot_rdf.append(pd.DataFrame(features.rdf).iloc[pick].mean(axis=0).to_numpy())
    boot_rdf = np.array(boot_rdf)

    def pivotal(stat, boot):
        lo, hi = np.percentile(boot, 2.5, axis=0), np.percentile(boot, 97.5, axis=0)
        return stat - (hi - stat), stat + (stat - lo)

    stat = euclidean(motif_train, features.motif_means.mean(axis=0))
    assert (ours.d_motif.low, ours.d_motif.high) == pytest.approx(pivotal(stat, boot_e), abs=1e-12)
    stat = cosine(motif_train, features.motif_means.mean(axis=0))
    assert ours.cosine_motif.value == pytest.approx(stat, abs=1e-12)
    assert (ours.cosine_motif.low, ours.cosine_motif.high) == pytest.approx(
        pivotal(stat, boot_c), abs=1e-12
    )
    gen_rdf = pd.DataFrame(features.rdf).mean(axis=0).to_numpy()
    assert ours.d_rdf.value == pytest.approx(euclidean(rdf_train, gen_rdf), abs=1e-12)
    low, high = pivotal(gen_rdf, boot_rdf)
    np.testing.assert_allclose(ours.rdf.low, low, atol=1e-12)
    np.testing.assert_allclose(ours.rdf.high, high, atol=1e-12)


def test_one_tessellation_gives_voronoinns_neighbours(structures):
    """Every site's entries from the shared tessellation equal VoronoiNN's own, also for
    atoms given outside the cell (their neighbours are reported around them)."""
    from pymatgen.analysis.local_env import VoronoiNN

    from cryin_flows.analysis.voronoi import all_site_neighbours

    structure = AseAtomsAdaptor.get_structure(structures[1])
    for i in (0, 5, 9):  # some atoms a cell away, as files often have them
        structure.translate_sites([i], [1.0, 0.0, -1.0], frac_coords=True, to_unit_cell=False)
    ours = all_site_neighbours(structure, 7.0)
    reference = VoronoiNN(weight="solid_angle", cutoff=7.0)
    for n in range(len(structure)):
        theirs = {
            (e["site_index"], tuple(e["image"])): e for e in reference.get_nn_info(structure, n)
        }
        mine = {(e["site_index"], e["image"]): e for e in ours[n]}
        assert mine.keys() == theirs.keys()
        for key, entry in mine.items():
            other = theirs[key]
            np.testing.assert_allclose(entry["site"].coords, other["site"].coords, atol=1e-9)
            assert entry["weight"] == pytest.approx(other["weight"], abs=1e-9)
            for field in ("solid_angle", "area", "volume", "face_dist"):
                assert entry["poly_info"][field] == pytest.approx(
                    other["poly_info"][field], abs=1e-9
                )
