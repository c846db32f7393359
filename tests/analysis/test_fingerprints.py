import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from cryin_flows.analysis.fingerprints import SiteFingerprinter, feature_labels


@pytest.fixture(scope="module")
def fingerprinter():
    return SiteFingerprinter({"Li": 1, "Sc": 3, "Co": 3, "Cl": -1, "O": -2})


def test_vector_layout():
    labels = feature_labels()
    assert len(labels) == 109
    assert labels[0] == "wt CN_1" and labels[60] == "wt CN_24"
    # the published layout: Cl then O fraction, interleaved per CN
    assert labels[61:65] == [
        "Cl fraction coord num 1",
        "O fraction coord num 1",
        "Cl fraction coord num 2",
        "O fraction coord num 2",
    ]
    assert labels[-1] == "O fraction coord num 24"


def test_rock_salt_li_is_octahedral(fingerprinter):
    licl = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.14), ["Li", "Cl"], [[0] * 3, [0.5] * 3]
    )
    site = fingerprinter.site(fingerprinter.decorate(licl), 0)
    labels = feature_labels()
    assert site.vector[labels.index("wt CN_6")] == pytest.approx(1.0, abs=1e-6)
    assert site.vector[labels.index("octahedral CN_6")] == pytest.approx(1.0, abs=1e-3)
    assert site.vector[labels.index("Cl fraction coord num 6")] == pytest.approx(1.0)
    assert site.vector[labels.index("O fraction coord num 6")] == 0
    assert (site.cn, site.motif, site.anion_counts) == (6, "octahedral", {"Cl": 6, "O": 0})


def test_antifluorite_li_is_tetrahedral(fingerprinter):
    li2o = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.61), ["O", "Li"], [[0, 0, 0], [0.25, 0.25, 0.25]]
    )
    li = next(i for i, s in enumerate(li2o) if s.specie.symbol == "Li")
    site = fingerprinter.site(fingerprinter.decorate(li2o), li)
    assert site.vector[feature_labels().index("wt CN_4")] == pytest.approx(1.0, abs=1e-6)
    assert (site.cn, site.motif, site.anion_counts) == (4, "tetrahedral", {"Cl": 0, "O": 4})


def test_agrees_with_matminer_on_interfaces(fingerprinter, interface_sets, template):
    fingerprint = pytest.importorskip("matminer.featurizers.site.fingerprint")
    reference = fingerprint.CrystalNNFingerprint.from_preset("ops", cation_anion=True)
    structure = fingerprinter.decorate(interface_sets["training"].structure(0))
    sites = [int(i) for i in template.indices("region") if template.species[i] in ("Li", "Sc")]
    for i in sites[:8]:
        ours = fingerprinter.site(structure, i).vector[:61]
        theirs = np.array(reference.featurize(structure, i))
        assert np.allclose(ours, theirs, atol=1e-10)


def test_a_collapsed_site_gets_the_zero_vector(fingerprinter):
    """CrystalNN raises on a site with no Voronoi neighbour cell (atoms on top of each other
    in a collapsed relaxation); that site is CN 0 with the all-zero vector, not a crash."""
    import json
    from pathlib import Path

    data = json.loads((Path(__file__).parent / "data" / "collapsed_structure.json").read_text())
    structure = fingerprinter.decorate(
        Structure(Lattice(data["lattice"]), data["species"], data["frac_coords"])
    )
    with pytest.raises(ValueError):
        fingerprinter.cnn.get_nn_data(structure, 15)
    site = fingerprinter.site(structure, 15)
    assert site.cn == 0 and not site.vector.any() and len(site.vector) == fingerprinter.size
    assert fingerprinter.site(structure, 0).cn > 0  # the rest of the structure is described
