"""Candidates: WyFormer records through pyxtal, pyxtal's random crystals, structure files."""

from __future__ import annotations

import gzip
import json
import warnings

import pytest
from ase.build import bulk
from ase.io import write
from pymatgen.core import Composition
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from cryin_flows.errors import ConfigurationError
from cryin_flows.stability.candidates import (
    charge_balanced_compositions,
    from_wyckoff_records,
    random_candidates,
    read_structures,
)

# hand-written WyFormer output (pyxtal.from_random argument format): rock-salt LiCl, a
# Li3YCl6 on P-3m1 sites, and two records that must be refused
WYFORMER = [
    {"group": 225, "species": ["Li", "Cl"], "numIons": [4, 4], "sites": [["4a"], ["4b"]]},
    {"group": 164, "species": ["Li", "Y", "Cl"], "numIons": [3, 1, 6],
     "sites": [["1a", "2d"], ["1b"], ["6i"]]},
    {"group": 225, "species": ["Li", "Cl"], "numIons": [4, 8], "sites": [["4a"], ["4b"]]},
    {"species": ["Li"]},
]  # fmt: skip


def spacegroup_number(structure) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SpacegroupAnalyzer(structure, symprec=0.1).get_space_group_number()


def test_wyformer_records_build_on_their_wyckoff_positions():
    built, failed = from_wyckoff_records(WYFORMER, seed=3, label="wf")
    names = [name for name, _ in built]
    assert names == ["wf:0", "wf:1"]
    licl, li3ycl6 = (s for _, s in built)
    assert licl.composition.reduced_formula == "LiCl" and spacegroup_number(licl) == 225
    assert Composition(li3ycl6.composition.formula) == Composition("Li3YCl6")
    assert spacegroup_number(li3ycl6) >= 164  # at least the record's symmetry
    assert "do not match the sites' multiplicities" in failed["wf:2"]
    assert "not a Wyckoff record" in failed["wf:3"]


def test_wyformer_json_gz_file_is_read(tmp_path):
    path = tmp_path / "WyckoffTransformer_gen.json.gz"
    with gzip.open(path, "wt") as handle:
        json.dump(WYFORMER[:2], handle)
    items = read_structures(path)
    assert [n for n, _ in items] == [
        "WyckoffTransformer_gen.json:0",
        "WyckoffTransformer_gen.json:1",
    ]
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigurationError, match=r"bad\.json: not a JSON list"):
        read_structures(tmp_path / "bad.json")


def test_files_keep_their_names(tmp_path):
    frames = [bulk("Cu", "fcc", a=3.6), bulk("Cu", "fcc", a=3.7)]
    frames[1].info["name"] = "second"
    write(tmp_path / "two.extxyz", frames)
    assert [n for n, _ in read_structures(tmp_path / "two.extxyz")] == ["two:0", "second"]
    with pytest.raises(ConfigurationError, match="does not exist"):
        read_structures(tmp_path / "none.cif")


def test_charge_balanced_compositions_hold_every_element():
    comps = {c.reduced_formula for c in charge_balanced_compositions(["Li", "Y", "Cl"], 10)}
    assert {"Li3YCl6", "LiYCl4"} <= comps
    assert "LiCl" not in comps and "Li2YCl4" not in comps  # Y missing; not balanced


def test_random_candidates_are_reproducible_and_balanced():
    first = random_candidates(["Li", "Y", "Cl"], 4, seed=5, max_atoms=12)
    again = random_candidates(["Li", "Y", "Cl"], 4, seed=5, max_atoms=12)
    assert [s.composition for _, s in first] == [s.composition for _, s in again]
    for _, s in first:
        assert {el.symbol for el in s.composition.elements} == {"Li", "Y", "Cl"}
        assert s.composition.oxi_state_guesses()
    with pytest.raises(ConfigurationError, match="no charge-balanced composition"):
        random_candidates(["Li", "Na"], 2, max_atoms=4)
