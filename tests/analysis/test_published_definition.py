"""Guard against drift: the fingerprint and its distances recomputed the published way.

The reference here is written independently of the package, from the Dismai-Bench interface
scripts' definition (``benchmark/int/motif/get_int_motifs.py`` and
``get_int_motif_metrics.py``): matminer's CrystalNNFingerprint "ops" preset for the first 61
values, pymatgen's CrystalNN neighbour sets for the 48 plain Cl/O fractions (interleaved per
CN), per-structure averages of each element's sites averaged over structures, the 'all' vector
weighted by the atom counts per structure (72 Li, 36 Co, 12 Sc), scipy's Euclidean and cosine
distances, and the pivotal bootstrap of the generated set only (``rng.choice`` with the scripts'
default seed 7).
"""

import json

import ase.io
import numpy as np
import pytest
from matminer.featurizers.site.fingerprint import CrystalNNFingerprint
from pymatgen.analysis.local_env import CrystalNN
from pymatgen.io.ase import AseAtomsAdaptor
from scipy.spatial.distance import cosine, euclidean
from typer.testing import CliRunner

from cryin_flows.analysis.fingerprints import SiteFingerprinter, feature_labels
from cryin_flows.cli import app
from cryin_flows.interfaces.random_fill import (
    PAPER_EXCHANGES,
    RandomFillSettings,
    RandomInterfaceGenerator,
)

COUNTS = {"Li": 72, "Co": 36, "Sc": 12}
OXIDATION = {"Li": 1, "Sc": 3, "Co": 3, "Cl": -1, "O": -2}
N_REPS, SEED = 200, 7


class PublishedFingerprint:
    """The 109-value vector, built from matminer and pymatgen only."""

    def __init__(self):
        self.ops = CrystalNNFingerprint.from_preset("ops", cation_anion=True)
        self.cnn = CrystalNN(cation_anion=True)

    def __call__(self, structure, index) -> np.ndarray:
        fractions = []
        nn = self.cnn.get_nn_data(structure, index)
        for cn in range(1, 25):
            if nn.cn_weights.get(cn, 0) != 0:
                symbols = [d["site"].specie.symbol for d in nn.cn_nninfo[cn]]
                fractions += [symbols.count("Cl") / cn, symbols.count("O") / cn]
            else:
                fractions += [0, 0]
        return np.array(list(self.ops.featurize(structure, index)) + fractions)


def decorated(structures, k):
    structure = structures.structure(k)
    structure.add_oxidation_state_by_element(OXIDATION)
    return structure


def read_published_way(path):
    """As the scripts do: ase reads the extxyz, pymatgen's adaptor converts, then decorate."""
    out = []
    for atoms in ase.io.read(path, index=":", format="extxyz"):
        structure = AseAtomsAdaptor.get_structure(atoms)
        structure.add_oxidation_state_by_element(OXIDATION)
        out.append(structure)
    return out


def published_metrics(train: dict, gen: dict) -> dict:
    """Dismai-Bench's metric script on per-structure mean fingerprints {element: (n, 109)}."""
    rng_indices = []
    rng = np.random.default_rng(SEED)
    n_gen = len(gen["Li"])
    for _ in range(N_REPS):
        rng_indices.append(rng.choice(np.arange(n_gen), size=n_gen, replace=True))
    total = sum(COUNTS.values())

    def combined(parts):
        return sum(parts[el] * COUNTS[el] for el in COUNTS) / total

    out = {}
    for el in [*COUNTS, "all"]:
        if el == "all":
            ref = combined({e: train[e].mean(0) for e in COUNTS})
            avg = combined({e: gen[e].mean(0) for e in COUNTS})
            boots = [combined({e: gen[e][idx].mean(0) for e in COUNTS}) for idx in rng_indices]
        else:
            ref, avg = train[el].mean(0), gen[el].mean(0)
            boots = [gen[el][idx].mean(0) for idx in rng_indices]
        for name, fn in (("euclidean", euclidean), ("cosine_distance", cosine)):
            stat = fn(ref, avg)
            samples = [fn(ref, b) for b in boots]
            low_p, high_p = np.percentile(samples, 2.5), np.percentile(samples, 97.5)
            # the scripts' error bars: stat - (high_p - stat) .. stat + (stat - low_p)
            out[(el, name)] = (stat, stat - (high_p - stat), stat + (stat - low_p))
    return out


@pytest.fixture(scope="module")
def two_sets(template):
    plain = RandomInterfaceGenerator(template).generate(1, seed=30)
    exchanged = RandomInterfaceGenerator(
        template, RandomFillSettings(exchanges=PAPER_EXCHANGES)
    ).generate(2, seed=31)
    return plain, exchanged


def test_site_vectors_equal_the_published_ones(template, two_sets):
    ours, theirs = SiteFingerprinter(OXIDATION), PublishedFingerprint()
    exchanged = two_sets[1]
    for structures in two_sets:
        structure = decorated(structures, 0)
        species = np.array(template.species)
        sites = [int(np.flatnonzero(species == el)[-1]) for el in ("Li", "Sc", "Co")]
        sites += [int(i) for i in template.region_indices(structure.cart_coords)[:6]]
        for i in sites:
            mine, published = ours.site(structure, i).vector, theirs(structure, i)
            assert mine.shape == published.shape == (109,)
            assert np.allclose(mine, published, rtol=1e-12, atol=1e-12), f"site {i}"
    # the fractions are plain, not weighted: Cl + O = 1 for every CN with a likelihood > 0
    labels = feature_labels()
    vector = ours.site(decorated(exchanged, 0), sites[0]).vector
    wt = vector[[labels.index(f"wt CN_{cn}") for cn in range(1, 25)]]
    pairs = vector[61:].reshape(24, 2)
    assert np.allclose(pairs.sum(1), (wt > 0).astype(float))
    assert 0 < wt.max() < 1  # so a weighted fraction would differ


def test_evaluate_all_sites_equals_the_published_metrics(template, two_sets, tmp_path):
    plain, exchanged = two_sets
    train_file = plain.write_extxyz(tmp_path / "train.extxyz")
    gen_file = exchanged.write_extxyz(tmp_path / "gen.extxyz")
    out = tmp_path / "report"
    args = ["evaluate", "--reference", str(train_file), "--generated", str(gen_file)]
    args += ["--out", str(out), "--sites", "all", "--resamples", str(N_REPS), "--workers", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())["fingerprint_distances"]["generated"]

    published = PublishedFingerprint()
    species = np.array(template.species)
    per_structure = {}
    for name, path in (("train", train_file), ("gen", gen_file)):
        per_structure[name] = {el: [] for el in COUNTS}
        for structure in read_published_way(path):
            for el in COUNTS:
                vectors = [published(structure, int(i)) for i in np.flatnonzero(species == el)]
                per_structure[name][el].append(np.mean(vectors, axis=0))
        per_structure[name] = {el: np.array(v) for el, v in per_structure[name].items()}
    expected = published_metrics(per_structure["train"], per_structure["gen"])

    for (el, metric), (value, low, high) in expected.items():
        got = metrics[el][metric]
        assert got["value"] == pytest.approx(value, rel=1e-9, abs=1e-15), (el, metric)
        assert got["low"] == pytest.approx(low, rel=1e-9, abs=1e-15), (el, metric)
        assert got["high"] == pytest.approx(high, rel=1e-9, abs=1e-15), (el, metric)
        if metric == "cosine_distance":
            similarity = metrics[el]["cosine_similarity"]["value"]
            assert similarity == pytest.approx(1 - value, rel=1e-9)
    assert metrics["all"]["n_sites"] == len(exchanged) * sum(COUNTS.values())
