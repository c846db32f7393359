import numpy as np
import pytest

from cryin_flows.data import load_bulk
from cryin_flows.errors import MatchingError
from cryin_flows.interfaces.matching import (
    find_supercell_matches,
    lattice_2d_from_parameters,
    lattice_2d_parameters,
    strain_report,
)
from cryin_flows.interfaces.slabs import oriented_surface_cell


@pytest.fixture(scope="module")
def surfaces():
    sub = oriented_surface_cell(load_bulk("LiCoO2"), (1, 1, 0)).lattice.matrix[:2, :2]
    film = oriented_surface_cell(load_bulk("Li3ScCl6"), (1, 0, 0)).lattice.matrix[:2, :2]
    return sub, film


def test_zsl_search_finds_the_papers_supercells_first(surfaces):
    best = find_supercell_matches(*surfaces)[0]
    assert best.substrate_matrix == [[1, 2], [-3, 3]]  # ESI Table S1
    assert best.film_matrix == [[1, 1], [-2, 1]]
    assert best.area == pytest.approx(205.58, abs=0.01)
    assert best.film_strain.max_length_strain < 0.03


def test_matches_sorted_by_area(surfaces):
    areas = [m.area for m in find_supercell_matches(*surfaces, max_area=400)]
    assert areas == sorted(areas) and len(areas) >= 2


def test_impossible_match_raises(surfaces):
    with pytest.raises(MatchingError, match=r"no supercell match within 0\.1% length"):
        find_supercell_matches(*surfaces, max_area=150, max_length_strain=0.001)


def test_strain_report_uniform_and_shear():
    base = lattice_2d_from_parameters(10.0, 12.0, 80.0)
    stretched = strain_report(base, base * 1.01)
    assert stretched.length_strains == pytest.approx((0.01, 0.01))
    assert stretched.principal_strains == pytest.approx((0.01005, 0.01005))
    assert stretched.angle_change_deg == pytest.approx(0, abs=1e-9)
    assert stretched.area_strain == pytest.approx(1.01**2 - 1)
    sheared = strain_report(base, lattice_2d_from_parameters(10.0, 12.0, 75.0))
    assert sheared.length_strains == pytest.approx((0, 0), abs=1e-12)
    assert sheared.angle_change_deg == pytest.approx(-5)
    lo, hi = sheared.principal_strains
    assert lo < 0 < hi


def test_rotation_is_not_strain():
    base = lattice_2d_from_parameters(10.0, 12.0, 80.0)
    theta = np.radians(33)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    report = strain_report(base, base @ rot.T)
    assert report.principal_strains == pytest.approx((0, 0), abs=1e-12)
    assert lattice_2d_parameters(base @ rot.T) == pytest.approx((10, 12, 80))
