import numpy as np
import pytest
from ase.io import read, write
from monty.json import MontyDecoder, jsanitize

from cryin_flows.errors import ConfigurationError, TemplateMismatchError
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator


@pytest.fixture(scope="module")
def structures(template):
    return RandomInterfaceGenerator(template).generate(4, seed=11)


def test_extxyz_round_trip(structures, tmp_path):
    path = structures.write_extxyz(tmp_path / "sub" / "set.extxyz")
    again = InterfaceSet.read_extxyz(path)
    assert len(again) == 4 and again.species == structures.species
    diff = again.frac_coords - structures.frac_coords
    assert np.allclose(diff - np.round(diff), 0, atol=1e-7)
    for frac in (again.frac_coords, structures.frac_coords):
        assert np.all((frac >= 0) & (frac < 1))
    assert again.infos[2]["index"] == 2 and again.infos[2]["seed"] == 11
    assert again.infos[0]["region_thickness"] == pytest.approx(
        structures.infos[0]["region_thickness"]
    )
    assert again.template_hash == structures.template_hash
    # plain ASE reads it too, with positions in template order
    frames = read(path, index=":")
    assert frames[1].get_chemical_symbols() == structures.species


def test_json_round_trip(structures):
    data = jsanitize(structures, strict=True, allow_bson=True)
    back = MontyDecoder().process_decoded(data)
    assert isinstance(back, InterfaceSet)
    diff = back.frac_coords - structures.frac_coords
    assert np.abs(diff - np.round(diff)).max() < 1e-8
    assert back.structure(0).properties["index"] == 0


def _write_frames(path, frames):
    write(path, frames, format="extxyz")
    return path


def test_inconsistent_frames_are_named(structures, tmp_path):
    frames = [structures.atoms(i) for i in range(3)]
    short = frames[2].copy()
    del short[5]
    with pytest.raises(TemplateMismatchError, match=r"bad1.extxyz, frame 2: atom count 263"):
        InterfaceSet.read_extxyz(_write_frames(tmp_path / "bad1.extxyz", [*frames[:2], short]))
    swapped = frames[1].copy()
    symbols = swapped.get_chemical_symbols()
    symbols[0], symbols[-1] = symbols[-1], symbols[0]
    swapped.set_chemical_symbols(symbols)
    with pytest.raises(TemplateMismatchError, match=r"frame 1: species order differs at atom 0: O"):
        InterfaceSet.read_extxyz(_write_frames(tmp_path / "bad2.extxyz", [frames[0], swapped]))
    scaled = frames[1].copy()
    scaled.set_cell(scaled.cell * 1.01, scale_atoms=True)
    with pytest.raises(TemplateMismatchError, match=r"frame 1: lattice differs"):
        InterfaceSet.read_extxyz(_write_frames(tmp_path / "bad3.extxyz", [frames[0], scaled]))


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        InterfaceSet.read_extxyz(tmp_path / "none.extxyz")
    junk = tmp_path / "junk.extxyz"
    junk.write_text("this is not\nan xyz file\n")
    with pytest.raises(ConfigurationError, match=r"junk\.extxyz: not a readable extxyz"):
        InterfaceSet.read_extxyz(junk)
