"""Reference conductors built from published site data."""

from __future__ import annotations

from pymatgen.core import Lattice, Structure
from pymatgen.transformations.standard_transformations import (
    OrderDisorderedStructureTransformation,
)


def li3ycl6() -> Structure:
    """Li₃YCl₆ in the experimental P-3m1 site model (Asano et al., Adv. Mater. 30, 1803075,
    2018: a = 11.2205, c = 6.0359 Å; Y on 1a and 2d, Li on 6g and half of 6h, Cl on three
    6i), with the ideal positions of the hexagonal close-packed Cl lattice those sites
    describe, the half-filled 6h ordered by the lowest Ewald energy (pymatgen): 30 atoms,
    P321. Relax it with the calculator before use."""
    lattice = Lattice.hexagonal(11.2205, 6.0359)
    species = ["Y3+", "Y3+", "Li+", {"Li+": 0.5}, "Cl-", "Cl-", "Cl-"]
    coords = [
        [0, 0, 0],
        [1 / 3, 2 / 3, 0.5],
        [1 / 3, 0, 0],
        [1 / 3, 0, 0.5],
        [1 / 9, -1 / 9, 0.25],
        [4 / 9, -4 / 9, 0.25],
        [7 / 9, -7 / 9, 0.25],
    ]
    disordered = Structure.from_spacegroup("P-3m1", lattice, species, coords)
    ordered = OrderDisorderedStructureTransformation().apply_transformation(disordered)
    ordered.remove_oxidation_states()
    return ordered.get_sorted_structure()
