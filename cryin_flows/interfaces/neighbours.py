"""Periodic pair searches on plain arrays (pymatgen's cell-list neighbour search)."""

from __future__ import annotations

import numpy as np
from pymatgen.optimization.neighbors import find_points_in_spheres

_PBC = np.array([1, 1, 1], dtype=np.int64)


def _search(
    frac: np.ndarray, lattice: np.ndarray, centers: np.ndarray, cutoff: float
) -> tuple[np.ndarray, ...]:
    """(center atom, neighbour atom, image, distance, Cartesian coords), self-pairs dropped."""
    cart = np.ascontiguousarray(np.asarray(frac, dtype=float) @ lattice)
    centers = np.asarray(centers, dtype=int)
    i, j, images, dist = find_points_in_spheres(
        cart,
        np.ascontiguousarray(cart[centers]),
        float(cutoff),
        _PBC,
        np.ascontiguousarray(lattice, dtype=float),
        0.0,
        1e-8,
    )
    i = centers[i]
    keep = ~((i == j) & ~images.any(axis=1))
    return i[keep], j[keep], images[keep], dist[keep], cart


def close_pairs(
    frac: np.ndarray, lattice: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs i < j of one structure closer than ``threshold``: (i, j, vectors r_j - r_i).

    Periodic images included; coincident atoms are found too.
    """
    i, j, images, dist, cart = _search(frac, lattice, np.arange(len(frac)), threshold)
    keep = (i < j) & (dist < threshold)
    vectors = cart[j[keep]] + images[keep] @ lattice - cart[i[keep]]
    return i[keep], j[keep], vectors


def count_close_pairs(frac: np.ndarray, lattice: np.ndarray, threshold: float = 1.5) -> np.ndarray:
    """Pairs closer than or at ``threshold`` Å per structure, periodic images included."""
    return np.array(
        [len(close_pairs(f, lattice, threshold + 1e-9)[0]) for f in np.asarray(frac, float)],
        dtype=int,
    )


def pair_distances(
    frac: np.ndarray, lattice: np.ndarray, centers: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(center index, neighbour index, distance) of all pairs within ``cutoff`` of ``centers``."""
    i, j, _, dist, _ = _search(frac, lattice, centers, cutoff)
    return i, j, dist
