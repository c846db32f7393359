import numpy as np
import pytest
from pymatgen.io.vasp import Incar, Kpoints, Poscar

from cryin_flows.data import load_bulk
from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.random_fill import RandomFillSettings, RandomInterfaceGenerator
from cryin_flows.vasp.sets import CryinVaspSetGenerator, write_inputs

SPEC = {
    "bulk": {"ENCUT": 520, "ISIF": 3, "EDIFFG": -0.001},
    "stage1": {"ENCUT": 374.3, "ISIF": 2, "NSW": 50, "EDIFFG": -0.1},
    "stage2": {"ENCUT": 450, "ISIF": 2, "EDIFFG": -0.1},
    "rerelax": {"ENCUT": 450, "ISIF": 2, "EDIFFG": -0.1},
}


def read(directory):
    return (
        Incar.from_file(directory / "INCAR"),
        Kpoints.from_file(directory / "KPOINTS"),
        Poscar.from_file(directory / "POSCAR"),
        (directory / "POTCAR.spec").read_text().split(),
    )


def check_common(incar, poscar, potcars):
    symbols = poscar.site_symbols
    expected_potcar = {"Li": "Li_sv", "Sc": "Sc_sv", "Co": "Co", "Cl": "Cl", "O": "O"}
    assert potcars == [expected_potcar[s] for s in symbols]
    assert incar["GGA"].upper() == "PE"
    if "Co" in symbols:
        assert incar["LDAU"] and incar["LDAUTYPE"] == 2
        u = dict(zip(symbols, incar["LDAUU"], strict=True))
        assert all(v == (4.0 if s == "Co" else 0.0) for s, v in u.items())  # U on Co only
        l_values = dict(zip(symbols, incar["LDAUL"], strict=True))
        assert all(v == (2 if s == "Co" else -1) for s, v in l_values.items())
        assert incar["LMAXMIX"] == 4
    else:  # no Co, no U at all
        assert not incar.get("LDAU", False)
    assert incar["ISPIN"] == 2
    assert incar["EDIFF"] == pytest.approx(1e-6)  # absolute, not per atom
    assert incar["ISMEAR"] == 0 and incar["SIGMA"] == pytest.approx(0.05)
    species = [s.specie.symbol for s in poscar.structure]
    magmom = dict(zip(species, incar["MAGMOM"], strict=True))
    assert magmom.get("Co", 0.6) == 0.6 and all(v == 0 for s, v in magmom.items() if s != "Co")


@pytest.mark.parametrize(
    ("name", "style", "mesh"),
    [("LiCoO2", "Gamma", (9, 9, 1)), ("Li3ScCl6", "Monkhorst", (6, 4, 6))],
)
def test_bulk_presets(tmp_path, name, style, mesh):
    incar, kpoints, poscar, potcars = read(write_inputs(load_bulk(name), "bulk", tmp_path))
    check_common(incar, poscar, potcars)
    for key, value in SPEC["bulk"].items():
        assert incar[key] == pytest.approx(value), key
    assert kpoints.style.name.lower().startswith(style.lower()[:5])
    assert tuple(kpoints.kpts[0]) == mesh


@pytest.mark.parametrize("preset", ["stage1", "stage2", "rerelax"])
def test_interface_presets(template, tmp_path, preset):
    narrow = RandomFillSettings(thickness_range=(4.0, 4.0))  # the film sits lowest
    structure = RandomInterfaceGenerator(template, narrow).generate(1, seed=0).structure(0)
    out = write_inputs(structure, preset, tmp_path, template=template)
    incar, kpoints, poscar, potcars = read(out)
    check_common(incar, poscar, potcars)
    for key, value in SPEC[preset].items():
        assert incar[key] == pytest.approx(value), key
    assert tuple(kpoints.kpts[0]) == (1, 1, 1) and kpoints.style.name == "Gamma"
    # atom order and cell are the template's
    assert [s.specie.symbol for s in poscar.structure] == template.species
    assert np.allclose(poscar.structure.lattice.matrix, template.lattice_matrix, atol=1e-6)
    flags = poscar.selective_dynamics
    if preset == "stage1":
        moving = np.array([all(f) for f in flags])
        # exactly the atoms the fill placed, as the shared rule finds them
        assert np.array_equal(np.flatnonzero(moving), template.indices("region"))
        assert np.array_equal(moving, template.region_mask(poscar.structure.cart_coords))
        assert all(all(f) or not any(f) for f in flags)
    else:
        assert flags is None


def test_overrides_and_errors(template, tmp_path):
    generator = CryinVaspSetGenerator(preset="stage2", user_incar_settings={"ENCUT": 500})
    input_set = generator.get_input_set(load_bulk("LiCoO2"), potcar_spec=True)
    assert input_set.incar["ENCUT"] == 500
    lco = load_bulk("LiCoO2")
    mp_u = CryinVaspSetGenerator(preset="bulk", user_incar_settings={"LDAUU": {"Co": 3.32}})
    incar = mp_u.get_input_set(lco, potcar_spec=True).incar
    symbols = Poscar(lco).site_symbols
    assert dict(zip(symbols, incar["LDAUU"], strict=True)) == {"Co": 3.32, "Li": 0, "O": 0}
    with pytest.raises(ConfigurationError, match="unknown VASP preset 'hse'"):
        write_inputs(load_bulk("LiCoO2"), "hse", tmp_path)
    with pytest.raises(ConfigurationError, match="needs the interface template"):
        write_inputs(load_bulk("LiCoO2"), "stage1", tmp_path)


def test_cli_inputs(template, tmp_path):
    from typer.testing import CliRunner

    from cryin_flows.cli import app

    runner = CliRunner()
    structures = RandomInterfaceGenerator(template).generate(2, seed=1)
    data = structures.write_extxyz(tmp_path / "x.extxyz")
    result = runner.invoke(
        app,
        [
            "vasp",
            "inputs",
            str(data),
            "--frame",
            "1",
            "--preset",
            "stage1",
            "--out",
            str(tmp_path / "s1"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s1" / "POTCAR.spec").exists()
    assert Poscar.from_file(tmp_path / "s1" / "POSCAR").selective_dynamics is not None
    load_bulk("LiCoO2").to(filename=str(tmp_path / "POSCAR_lco"), fmt="poscar")
    bad = runner.invoke(
        app,
        [
            "vasp",
            "inputs",
            str(tmp_path / "POSCAR_lco"),
            "--preset",
            "stage2",
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert bad.exit_code == 1 and "atom count" in bad.output  # not the interface template
    nopot = runner.invoke(
        app,
        [
            "vasp",
            "inputs",
            str(tmp_path / "POSCAR_lco"),
            "--preset",
            "bulk",
            "--potcar",
            "--out",
            str(tmp_path / "y"),
        ],
    )
    assert nopot.exit_code == 1 and "PMG_VASP_PSP_DIR" in nopot.output
    unknown = runner.invoke(
        app, ["vasp", "inputs", str(data), "--preset", "scan", "--out", str(tmp_path / "z")]
    )
    assert unknown.exit_code == 1 and "unknown VASP preset" in unknown.output
