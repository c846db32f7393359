import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from cryin_flows.errors import ConfigurationError, RegionFillError
from cryin_flows.interfaces.random_fill import (
    PAPER_EXCHANGES,
    RandomFillSettings,
    RandomInterfaceGenerator,
    default_min_distances,
)


@pytest.fixture(scope="module")
def batch(template):
    generator = RandomInterfaceGenerator(template)
    return generator, generator.generate(40, seed=7)


def _pair_limits(generator, atoms, cutoff):
    i, j, d = neighbor_list("ijd", atoms, cutoff)
    kind = generator.kind
    return d, generator.dmin[kind[i], kind[j]], i, j


def test_every_structure_fits_the_template(template, batch):
    _generator, structures = batch
    assert len(structures) == 40
    for k in range(len(structures)):
        template.validate_structure(structures.structure(k), label=f"structure {k}")
        assert np.allclose(structures.atoms(k).cell, template.lattice_matrix)
    assert structures.template_hash == template.template_hash


def test_no_pair_below_its_minimum_distance(batch):
    """Independent check with ASE's neighbour list, periodic images included."""
    generator, structures = batch
    cutoff = generator.dmin.max() + 0.01
    for k in range(len(structures)):
        d, limit, i, j = _pair_limits(generator, structures.atoms(k), cutoff)
        bad = d < limit - 1e-6
        assert not bad.any(), f"structure {k}: atoms {i[bad][0]},{j[bad][0]} at {d[bad][0]:.3f} Å"
    assert min(info["min_region_distance"] for info in structures.infos) >= 1.5


def test_region_and_film_placement(template, batch):
    _generator, structures = batch
    z_lo, _ = template.region_z_bounds
    region = template.indices("region")
    film = template.indices("film")
    cart = structures.cart_coords()
    film_ref = np.asarray(template.film_coords)
    thicknesses = []
    for k, info in enumerate(structures.infos):
        t = info["region_thickness"]
        thicknesses.append(t)
        assert 4.0 <= t <= 6.0
        z = cart[k, region, 2]
        assert np.all(z > z_lo) and np.all(z < z_lo + t)
        # the film sits t above the substrate, shifted by (shift_a, shift_b)
        assert cart[k, film, 2] == pytest.approx(film_ref[:, 2] + z_lo + t, abs=1e-8)
        shift = np.array([info["shift_a"], info["shift_b"]])
        expected = film_ref[:, :2] + shift @ template.lattice_matrix[:2, :2]
        diff = np.linalg.solve(template.lattice_matrix[:2, :2].T, (cart[k, film, :2] - expected).T)
        assert np.allclose(diff - np.round(diff), 0, atol=1e-7)
    assert np.std(thicknesses) > 0.3  # drawn, not constant
    shifts = np.array([[i["shift_a"], i["shift_b"]] for i in structures.infos])
    assert shifts.min() < 0.2 and shifts.max() > 0.8  # over the whole cell


def test_same_seed_same_structures_and_independent_indices(template, batch):
    _generator, structures = batch
    again = RandomInterfaceGenerator(template).generate(5, seed=7, start=3)
    assert np.array_equal(again.frac_coords, structures.frac_coords[3:8])
    other = RandomInterfaceGenerator(template).generate(3, seed=8)
    assert not np.allclose(other.frac_coords, structures.frac_coords[:3])
    assert [i["index"] for i in again.infos] == [3, 4, 5, 6, 7]
    assert all(i["seed"] == 7 for i in again.infos)


def test_exchanges_within_limits_and_real(template):
    generator = RandomInterfaceGenerator(template, RandomFillSettings(exchanges=PAPER_EXCHANGES))
    structures = generator.generate(30, seed=3)
    cart = structures.cart_coords()
    z_lo, _ = template.region_z_bounds
    species = np.array(template.species)
    roles = np.array(template.roles)
    totals = dict.fromkeys(PAPER_EXCHANGES, 0)
    for k, info in enumerate(structures.infos):
        for key, most in PAPER_EXCHANGES.items():
            a, b = key.split("-")
            n = info[f"exchanges_{a}_{b}"]
            assert 0 <= n <= info[f"exchanges_{a}_{b}_drawn"] <= most
            totals[key] += n
            # exchanged region atoms of species a sit in the top substrate plane
            on_plane = (
                (roles == "region") & (species == a) & np.isclose(cart[k, :, 2], z_lo, atol=1e-6)
            )
            assert on_plane.sum() == n
        d, limit, _, _ = _pair_limits(generator, structures.atoms(k), generator.dmin.max() + 0.01)
        assert np.all(d >= limit - 1e-6)
    assert all(v > 0 for v in totals.values()), totals


def test_too_thin_region_names_the_species(template):
    settings = RandomFillSettings(thickness_range=(0.6, 0.8), max_tries_per_atom=3, max_restarts=1)
    with pytest.raises(RegionFillError, match=r"could not place the region's (Cl|Sc|Li) atoms"):
        RandomInterfaceGenerator(template, settings).generate(1, seed=0)


def test_bad_settings_are_refused(template):
    with pytest.raises(ConfigurationError, match="not in this system"):
        RandomInterfaceGenerator(template, RandomFillSettings(min_distances={"Xe-Cl": 2.0}))
    with pytest.raises(ConfigurationError, match="the substrate slab itself has a"):
        RandomInterfaceGenerator(template, RandomFillSettings(min_distances={"Co-O": 2.0}))
    with pytest.raises(ConfigurationError, match="exceeds the template's largest gap"):
        RandomInterfaceGenerator(template, RandomFillSettings(thickness_range=(4.0, 7.0)))
    with pytest.raises(ConfigurationError, match="exchange Co-Li"):
        RandomInterfaceGenerator(template, RandomFillSettings(exchanges={"Co-Li": 1}))
    with pytest.raises(ValueError, match="use 'A-B'"):
        RandomFillSettings(min_distances={"ClCl": 2.0})


def test_min_distance_override_is_honoured(template):
    settings = RandomFillSettings(min_distances={"Cl-Cl": 3.1})
    generator = RandomInterfaceGenerator(template, settings)
    assert generator.min_distances["Cl-Cl"] == 3.1
    structures = generator.generate(5, seed=1)
    for k in range(5):
        atoms = structures.atoms(k)
        i, j, _d = neighbor_list("ijd", atoms, 3.09)
        sym = np.array(atoms.get_chemical_symbols())
        assert not np.any((sym[i] == "Cl") & (sym[j] == "Cl"))


def test_default_distances_floor_and_ordering():
    d = default_min_distances({"Li": 1, "Sc": 3, "Co": 3, "Cl": -1, "O": -2})
    assert min(d.values()) >= 1.5
    assert d["Cl-Cl"] > d["Cl-O"] > d["O-O"]
    assert d["Li-Li"] > d["Li-O"]  # like charges keep further apart than bonds
