import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from cryin_flows.data import available_bulks, load_bulk
from cryin_flows.errors import ConfigurationError, SlabError
from cryin_flows.interfaces.matching import lattice_2d_parameters
from cryin_flows.interfaces.slabs import build_slab, oriented_surface_cell

OX = {"Li": 1, "Sc": 3, "Co": 3, "Cl": -1, "O": -2}


def test_bundled_bulks_have_spec_compositions_and_sane_bonds():
    assert {"LiCoO2", "Li3ScCl6"} <= set(available_bulks())
    lco, lsc = load_bulk("LiCoO2"), load_bulk("Li3ScCl6")
    assert lco.composition.reduced_formula == "LiCoO2" and lco.get_space_group_info()[1] == 166
    assert lsc.composition.reduced_formula == "Li3ScCl6" and lsc.get_space_group_info()[1] == 12
    # CoO6 octahedra are the compact ones in LiCoO2; ScCl6 octahedra ~2.6 Å in Li3ScCl6
    co = next(s for s in lco if s.specie.symbol == "Co")
    li = next(s for s in lco if s.specie.symbol == "Li")
    assert min(n.nn_distance for n in lco.get_neighbors(co, 2.5)) == pytest.approx(1.92, abs=0.01)
    assert min(n.nn_distance for n in lco.get_neighbors(li, 2.5)) == pytest.approx(2.09, abs=0.01)
    sc = next(s for s in lsc if s.specie.symbol == "Sc")
    sc_cl = sorted(n.nn_distance for n in lsc.get_neighbors(sc, 3.0))
    assert len(sc_cl) == 6 and 2.5 < sc_cl[0] < sc_cl[-1] < 2.75


def test_unknown_bulk_names_the_bundled_ones():
    with pytest.raises(ConfigurationError, match="LiCoO2"):
        load_bulk("Unobtainium")


def test_lco_110_primitive_surface_cell():
    cell = oriented_surface_cell(load_bulk("LiCoO2"), (1, 1, 0))
    a, b, gamma = lattice_2d_parameters(cell.lattice.matrix[:2, :2])
    assert (a, b) == pytest.approx((2.8156 * np.sqrt(3), 4.95794), abs=1e-4)
    assert gamma == pytest.approx(70.86, abs=0.01)
    assert len(cell) == 4  # one formula unit: the rhombohedral primitive cell
    assert cell.volume == pytest.approx(load_bulk("LiCoO2").volume / 3)
    assert np.allclose(cell.lattice.matrix[:2, 2], 0) and cell.lattice.matrix[2, 2] > 0


def test_lsc_100_surface_cell_is_b_by_c():
    cell = oriented_surface_cell(load_bulk("Li3ScCl6"), (1, 0, 0))
    a, b, gamma = lattice_2d_parameters(cell.lattice.matrix[:2, :2])
    assert (a, b, gamma) == pytest.approx((6.391, 11.040, 90.0), abs=1e-6)
    # the period is half of d(100) because of the C centring
    d100 = 6.398 * np.sin(np.radians(109.89))
    assert cell.lattice.matrix[2, 2] == pytest.approx(d100 / 2, abs=1e-4)


def test_fcc_111_surface_is_hexagonal():
    fcc = Structure(
        Lattice.cubic(4.0), ["Cu"] * 4, [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    )
    cell = oriented_surface_cell(fcc, (1, 1, 1))
    a, b, gamma = lattice_2d_parameters(cell.lattice.matrix[:2, :2])
    assert (
        a == pytest.approx(4 / np.sqrt(2)) and b == pytest.approx(a) and gamma == pytest.approx(60)
    )
    assert cell.lattice.matrix[2, 2] == pytest.approx(4 / np.sqrt(3))


@pytest.mark.parametrize("miller", [(0, 0, 0), (1, 0), (1.5, 0, 0)])
def test_bad_miller_index(miller):
    with pytest.raises(SlabError, match="Miller index"):
        oriented_surface_cell(load_bulk("LiCoO2"), miller)


def test_lco_slab_four_stoichiometric_planes():
    cell = oriented_surface_cell(load_bulk("LiCoO2"), (1, 1, 0))
    slab = build_slab(cell, 4, [[1, 2], [-3, 3]], OX)
    assert len(slab.plane_heights) == 4
    assert np.allclose(np.diff(slab.plane_heights), 2.8156 / 2, atol=1e-4)
    counts = {el: slab.species.count(el) for el in ("Li", "Co", "O")}
    assert counts == {"Li": 36, "Co": 36, "O": 72}
    assert abs(slab.dipole_per_area) < 1e-9


def test_lsc_slab_tasker_2b_removes_the_dipole():
    cell = oriented_surface_cell(load_bulk("Li3ScCl6"), (1, 0, 0))
    polar = build_slab(cell, 6, [[1, 1], [-2, 1]], OX, termination=1)
    fixed = build_slab(cell, 6, [[1, 1], [-2, 1]], OX, tasker2b=True)
    assert abs(polar.dipole_per_area) > 0.05
    assert abs(fixed.dipole_per_area) < 1e-9
    assert len(fixed.plane_heights) == 7 and fixed.moved_to_top == 9
    z = fixed.cart_coords[:, 2]
    species = np.array(fixed.species)
    # half a Cl plane at the bottom and half at the top
    assert set(species[np.isclose(z, z.min())]) == {"Cl"} and np.isclose(z, z.min()).sum() == 9
    assert set(species[np.isclose(z, z.max())]) == {"Cl"} and np.isclose(z, z.max()).sum() == 9
    assert sorted({s: fixed.species.count(s) for s in set(fixed.species)}.items()) == [
        ("Cl", 54),
        ("Li", 27),
        ("Sc", 9),
    ]


def test_tasker_needs_whole_periods():
    cell = oriented_surface_cell(load_bulk("Li3ScCl6"), (1, 0, 0))
    with pytest.raises(SlabError, match="whole number of bulk periods"):
        build_slab(cell, 5, [[1, 1], [-2, 1]], OX, tasker2b=True)


def test_bad_supercell_and_termination():
    cell = oriented_surface_cell(load_bulk("LiCoO2"), (1, 1, 0))
    with pytest.raises(SlabError, match="det > 0"):
        build_slab(cell, 4, [[1, 2], [2, 4]], OX)
    with pytest.raises(SlabError, match="termination 3 out of range"):
        build_slab(cell, 4, [[1, 0], [0, 1]], OX, termination=3)
