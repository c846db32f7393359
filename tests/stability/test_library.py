"""The bundled phase library and user phase folders."""

from __future__ import annotations

import warnings

import pytest
from pymatgen.core import Composition
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from cryin_flows.errors import ConfigurationError
from cryin_flows.stability.library import load_library


def spacegroup(structure) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SpacegroupAnalyzer(structure, symprec=0.05).get_space_group_symbol()


def test_every_bundled_phase_is_its_named_compound_with_a_source():
    library = load_library()
    assert len(library.phases) >= 22
    for name, phase in library.phases.items():
        assert phase.structure.composition.reduced_formula == Composition(name).reduced_formula
        assert phase.structure.is_ordered
        assert len(phase.source) > 20, name
        distances = phase.structure.distance_matrix[phase.structure.distance_matrix > 0]
        assert distances.size == 0 or distances.min() > 1.1, name  # O-O in O2/Li2O2 ~1.2-1.5


def test_ewald_orderings_are_the_published_structure_types():
    """The lowest-Ewald orderings reproduce what diffraction found: LiScO2 I4_1/amd and
    Li2CoCl4's orthorhombic Imma."""
    library = load_library()
    assert spacegroup(library["LiScO2"].structure) == "I4_1/amd"
    assert spacegroup(library["Li2CoCl4"].structure) == "Imma"
    assert spacegroup(library["Co3O4"].structure) == "Fd-3m"


def test_named_chemistries_are_complete():
    library = load_library()
    for chemistry, names in library.chemistries.items():
        selected = {p.name for p in library.select(chemistry)}
        assert set(names) <= selected, chemistry
    assert {p.name for p in library.select("li2o-licl")} == {
        "Li", "Cl2", "O2", "LiCl", "Li2O", "Li2O2", "Li3OCl"
    }  # fmt: skip
    assert {p.name for p in library.select("Li-Y-Cl")} >= {"Li3YCl6", "YCl3", "LiCl"}


def test_missing_phases_are_named_in_one_line():
    library = load_library()
    with pytest.raises(ConfigurationError, match=r"lacks for Li-Br: Br \(") as err:
        library.select("Li-Br")
    assert "\n" not in str(err.value)
    library.chemistries["Li-Y-Cl-extra"] = ["Li", "LiYCl4"]
    with pytest.raises(ConfigurationError, match=r"lacks for Li-Y-Cl-extra: .*LiYCl4"):
        library.select("Li-Y-Cl-extra")
    with pytest.raises(ConfigurationError, match=r"unknown chemistry '\?\?'"):
        library.select("Li-??")


def test_a_user_folder_adds_yaml_and_cif_phases(tmp_path):
    library = load_library()
    (tmp_path / "bromides.yaml").write_text(
        "phases:\n"
        "  Br2: {spacegroup: Cmce, lattice: {a: 6.67, b: 4.48, c: 8.72, alpha: 90, beta: 90,"
        " gamma: 90}, sites: [{species: Br, coords: [0, 0.13, 0.12]}], source: test}\n"
    )
    licl = library["LiCl"].structure.copy()
    licl.replace_species({"Cl": "Br"})
    licl.scale_lattice(licl.volume * 1.25)
    licl.to(filename=str(tmp_path / "LiBr.cif"))
    extended = load_library(tmp_path)
    assert {p.name for p in extended.select("Li-Br")} == {"Li", "Br2", "LiBr"}
    assert extended["LiBr"].source.startswith("user CIF")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("phases: [1, 2]", "expected a mapping"),
        ("phases:\n  X: {spacegroup: Fm-3m}", "needs a 'source'"),
        ("phases:\n  X: {spacegroup: Fm-3m, source: s}", "cannot build the structure"),
        ("phases: {: [", "not valid YAML"),
    ],
)
def test_bad_phase_files_name_the_file(tmp_path, text, message):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ConfigurationError, match=message) as err:
        load_library(tmp_path)
    assert "bad.yaml" in str(err.value)
