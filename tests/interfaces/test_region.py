"""The interface region found per structure, checked against what the random fill placed."""

import numpy as np
import pytest

from cryin_flows.interfaces.random_fill import (
    PAPER_EXCHANGES,
    RandomFillSettings,
    RandomInterfaceGenerator,
)


def placed_region(template, swaps) -> list[int]:
    """The atoms the fill put between the slabs: the region slots, less the region atoms that
    took a substrate site, plus the substrate atoms that took their places."""
    moved_out = {i for i, _ in swaps}
    return sorted({int(i) for i in template.indices("region")} - moved_out | {j for _, j in swaps})


def recording(generator):
    """Record the exchanges the generator draws for each structure, in order."""
    drawn = []
    original = generator._draw_exchanges

    def wrapper(rng):
        swaps, counts = original(rng)
        drawn.append(swaps)
        return swaps, counts

    generator._draw_exchanges = wrapper
    return drawn


@pytest.mark.parametrize(
    ("thickness", "n"), [((4.0, 6.0), 400), ((4.0, 4.0), 50), ((6.0, 6.0), 50)]
)
def test_region_is_exactly_what_was_placed(template, thickness, n):
    """500 structures over gaps in [4, 6] Å, both ends included: 9 Li + 3 Sc + 18 Cl each."""
    settings = RandomFillSettings(thickness_range=thickness)
    structures = RandomInterfaceGenerator(template, settings).generate(n, seed=21)
    cart = structures.cart_coords()
    region = template.indices("region")
    species = np.array(template.species)
    for k in range(n):
        found = template.locate_region(cart[k])
        assert np.array_equal(found.indices, region), f"structure {k}"
        assert found.gap == pytest.approx(structures.infos[k]["region_thickness"], abs=1e-9)
        cations = species[found.indices][np.isin(species[found.indices], ["Li", "Sc", "Co"])]
        assert sorted(cations) == ["Li"] * 9 + ["Sc"] * 3


def test_region_after_exchanges_follows_the_atoms(template):
    settings = RandomFillSettings(exchanges=PAPER_EXCHANGES)
    generator = RandomInterfaceGenerator(template, settings)
    drawn = recording(generator)
    structures = generator.generate(150, seed=4)
    cart = structures.cart_coords()
    assert sum(len(s) for s in drawn) > 150  # exchanges did happen
    co_in_region = 0
    for k, swaps in enumerate(drawn):
        found = template.region_indices(cart[k])
        assert found.tolist() == placed_region(template, swaps), f"structure {k}"
        co_in_region += sum(template.species[i] == "Co" for i in found)
    assert co_in_region == sum(template.species[j] == "Co" for s in drawn for _, j in s)


def test_region_needs_no_atom_identity_and_no_fixed_origin(template):
    """Generated structures: atoms shuffled inside species blocks, the stack moved along c
    across the cell's boundary."""
    structures = RandomInterfaceGenerator(template).generate(3, seed=8)
    rng = np.random.default_rng(0)
    species = np.array(template.species)
    c = template.lattice_matrix[2, 2]
    for k in range(len(structures)):
        cart = structures.cart_coords()[k]
        order = np.arange(len(species))
        for el in template.species_order:
            block = np.flatnonzero(species == el)
            order[block] = rng.permutation(block)
        shuffled = cart[order]
        shuffled[:, 2] = (shuffled[:, 2] + 0.6 * c) % c  # the stack now wraps through z = 0
        found = template.region_indices(shuffled)
        expected = np.sort(np.flatnonzero(np.isin(order, template.indices("region"))))
        assert np.array_equal(found, expected)
        geometry = template.locate_region(shuffled)
        assert geometry.gap == pytest.approx(structures.infos[k]["region_thickness"], abs=1e-9)


def test_a_fixed_window_would_take_in_the_film(template):
    """Why the rule is per structure: at a 4 Å gap the widest-gap window holds film planes."""
    settings = RandomFillSettings(thickness_range=(4.0, 4.0))
    cart = RandomInterfaceGenerator(template, settings).generate(1, seed=2).cart_coords()[0]
    lo, hi = template.region_z_bounds
    in_window = np.flatnonzero((cart[:, 2] > lo + 0.1) & (cart[:, 2] < hi - 0.1))
    film_in_window = np.intersect1d(in_window, template.indices("film"))
    assert len(film_in_window) >= 12  # the film's bottom Cl plane and its first cation plane
    assert not np.intersect1d(template.region_indices(cart), template.indices("film")).size
