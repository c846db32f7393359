import json

import numpy as np
import pytest
import yaml
from ase.neighborlist import neighbor_list

from cryin_flows.errors import ConfigurationError, MatchingError, TemplateMismatchError
from cryin_flows.interfaces.matching import lattice_2d_parameters
from cryin_flows.interfaces.system import PRESETS, InterfaceSystem, SlabSpec, get_preset
from cryin_flows.interfaces.template import InterfaceTemplate, build_interface_template

PAPER = {"a": 12.46997, "b": 17.19967, "gamma": 75.6674, "area": 207.80}


def test_default_template_matches_the_paper(template):
    assert template.n_atoms == 264
    assert template.composition == {"Li": 72, "Sc": 12, "Co": 36, "Cl": 72, "O": 72}
    a, b, gamma = lattice_2d_parameters(template.lattice_matrix[:2, :2])
    assert abs(gamma - PAPER["gamma"]) < 0.5
    assert abs(a / PAPER["a"] - 1) < 0.01 and abs(b / PAPER["b"] - 1) < 0.01
    assert abs(template.area / PAPER["area"] - 1) < 0.03
    assert template.film.strain.max_length_strain < 0.03
    assert template.substrate.strain.max_length_strain == pytest.approx(0, abs=1e-12)
    assert template.substrate.planes == 4 and template.film.planes == 7
    assert template.region_composition == {"Li": 9, "Sc": 3, "Cl": 18}
    roles = np.array(template.roles)
    assert (roles == "region").sum() == 30 and (roles == "substrate").sum() == 144


def test_species_in_contiguous_blocks(template):
    order = template.species_order
    assert order == ["Li", "Sc", "Co", "Cl", "O"]
    blocks = [template.species[0]]
    for s in template.species[1:]:
        if s != blocks[-1]:
            blocks.append(s)
    assert blocks == order


def test_vacuum_and_region_bounds(template):
    c = template.lattice_matrix[2, 2]
    sub = np.asarray(template.substrate_coords)
    film = np.asarray(template.film_coords)
    z_lo, z_hi = template.region_z_bounds
    assert z_lo == pytest.approx(sub[:, 2].max())
    assert z_hi - z_lo == pytest.approx(6.0)
    film_top = z_hi + film[:, 2].max()
    vacuum = c - (film_top - sub[:, 2].min())
    assert vacuum == pytest.approx(14.0)


def test_paper_cell_exactly(template):
    paper = build_interface_template("lsc-lco-paper-cell")
    a, b, gamma = lattice_2d_parameters(paper.lattice_matrix[:2, :2])
    assert (a, b, gamma) == pytest.approx((PAPER["a"], PAPER["b"], PAPER["gamma"]), abs=1e-6)
    assert paper.area == pytest.approx(PAPER["area"], abs=0.01)
    assert paper.substrate.strain.max_length_strain > 0  # LCO slab strained onto it too
    assert paper.template_hash != template.template_hash


def test_search_preset_reproduces_given_matrices(template):
    searched = build_interface_template("lsc-lco-search")
    assert searched.template_hash == template.template_hash


def test_slabs_keep_bulk_like_distances(template):
    atoms = template.structure(template.assemble(5.0, (0.3, 0.6), np.zeros((30, 3)))).to_ase_atoms()
    fixed = np.array([r != "region" for r in template.roles])
    i, j, d = neighbor_list("ijd", atoms, 2.0)
    keep = fixed[i] & fixed[j]
    assert d[keep].min() == pytest.approx(1.922, abs=0.01)  # Co-O, the shortest bond


def test_validate_structure_names_the_field(template):
    good = template.structure(template.assemble(5.0, (0, 0), np.zeros((30, 3))))
    template.validate_structure(good)
    with pytest.raises(TemplateMismatchError, match="frame 3: atom count 263"):
        bad = good.copy()
        bad.remove_sites([0])
        template.validate_structure(bad, label="frame 3")
    swapped = good.copy()
    swapped.replace(0, "Sc")
    with pytest.raises(TemplateMismatchError, match="species order differs at atom 0: Sc"):
        template.validate_structure(swapped)
    strained = good.copy()
    strained.scale_lattice(good.volume * 1.01)
    with pytest.raises(TemplateMismatchError, match="lattice vector"):
        template.validate_structure(strained)
    template.validate_structure(good.to_ase_atoms())


def test_json_round_trip_and_tamper_check(template, tmp_path):
    path = template.to_json_file(tmp_path / "t.json")
    again = InterfaceTemplate.from_json_file(path)
    assert again.template_hash == template.template_hash == again.compute_hash()
    data = json.loads(path.read_text())
    data["substrate_coords"][0][0] += 0.5
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigurationError, match="does not match its hash"):
        InterfaceTemplate.from_json_file(path)
    with pytest.raises(ConfigurationError, match="does not exist"):
        InterfaceTemplate.from_json_file(tmp_path / "missing.json")


def test_unknown_preset():
    with pytest.raises(ConfigurationError, match=r"unknown preset 'nope'.*lsc-lco"):
        get_preset("nope")
    assert "lsc-lco" in PRESETS


def test_strain_over_limit_is_refused():
    tight = get_preset("lsc-lco").model_copy(update={"max_length_strain": 0.02})
    with pytest.raises(MatchingError, match=r"strain 2\.78 % length"):
        build_interface_template(tight)


def test_supercells_given_together():
    data = get_preset("lsc-lco").model_dump()
    data["film"]["supercell"] = None
    with pytest.raises(ValueError, match="both supercell matrices"):
        InterfaceSystem.model_validate(data)


def test_other_pair_from_yaml_with_lattice_search(tmp_path):
    """Li2O(110)|LiCl(100), the paper's companion system, from a YAML file."""
    spec = {
        "name": "li2o-licl",
        "substrate": {"bulk": "Li2O", "miller": [1, 1, 0], "layers": 4},
        "film": {"bulk": "LiCl", "miller": [1, 0, 0], "layers": 4},
        "region_composition": {"Li": 4, "Cl": 4},
        "region_thickness": [3.0, 4.0],
    }
    path = tmp_path / "system.yaml"
    path.write_text(yaml.safe_dump(spec))
    system = InterfaceSystem.model_validate(yaml.safe_load(path.read_text()))
    template = build_interface_template(system)
    assert template.film.strain.max_length_strain <= 0.03
    assert template.species_order == ["Li", "Cl", "O"]  # by electronegativity
    comp = template.composition
    assert comp["Cl"] == template.species.count("Cl") and comp["O"] > 0
    # stoichiometric slabs + region
    sub_li = sum(
        1
        for s, r in zip(template.species, template.roles, strict=True)
        if s == "Li" and r == "substrate"
    )
    assert sub_li == 2 * comp["O"]


def test_bulk_from_file(tmp_path):
    from cryin_flows.data import load_bulk

    path = tmp_path / "LiCoO2.cif"
    load_bulk("LiCoO2").to(filename=str(path))
    spec = SlabSpec(bulk=str(path), miller=(1, 1, 0), layers=4)
    assert spec.load_structure().composition.reduced_formula == "LiCoO2"
    with pytest.raises(ConfigurationError, match="does not exist"):
        SlabSpec(bulk=str(tmp_path / "missing.cif"), miller=(1, 1, 0), layers=4).load_structure()
