"""The frozen-framework descriptor of paper 003: one Li on a periodic grid in the framework
(all Li removed, "empty"; or the full structure, "interstitial"), its energy by batched single
points, and the percolation barrier: the lowest energy, above the landscape's minimum, at
which the grid points below it form a path connected to its own periodic image, per lattice
direction."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.core import Structure

from cryin_flows.errors import CryinError


class PESSettings(BaseModel):
    """Grid and framework of the Li energy landscape."""

    spacing: float = Field(0.4, gt=0, description="Largest grid spacing along each axis, Å")
    variant: Literal["empty", "interstitial"] = Field(
        "empty", description="empty: all Li removed (paper 003's barrier); interstitial: kept"
    )
    min_distance: float = Field(
        1.2, ge=0, description="Grid points closer than this to a framework atom are skipped, Å"
    )
    batch_size: int = Field(64, ge=1, description="Single points per model call")


def grid_shape(structure: Structure, spacing: float) -> tuple[int, int, int]:
    """Points along a, b, c so that no step exceeds ``spacing``."""
    return tuple(max(2, int(np.ceil(length / spacing))) for length in structure.lattice.abc)


def framework_of(structure: Structure, variant: str, species: str = "Li") -> Structure:
    """The frozen framework: ``structure`` without its ``species`` (empty) or as it is."""
    if variant == "interstitial":
        return structure.copy()
    kept = structure.copy()
    kept.remove_species([species])
    if len(kept) == 0:
        raise CryinError(f"{structure.composition.reduced_formula}: nothing left without {species}")
    return kept


def li_landscape(
    structure: Structure,
    calculator,
    settings: PESSettings | None = None,
    species: str = "Li",
) -> tuple[np.ndarray, float]:
    """Energies (n_a, n_b, n_c), eV relative to the lowest point, of one ``species`` atom at
    each grid point of the frozen framework (``inf`` where it would sit closer than
    ``min_distance`` to an atom), and the framework's own energy. Single points go through
    ``batch_evaluator`` (CHGNet batches their graphs)."""
    from ase import Atoms
    from pymatgen.io.ase import AseAtomsAdaptor

    from cryin_flows.potentials.calculators import batch_evaluator

    settings = settings or PESSettings()
    frame = framework_of(structure, settings.variant, species)
    shape = grid_shape(structure, settings.spacing)
    axes = [np.arange(n) / n for n in shape]
    frac = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    distances = frame.lattice.get_all_distances(frac, frame.frac_coords)
    open_points = np.where(distances.min(axis=1) >= settings.min_distance)[0]
    if len(open_points) == 0:
        raise CryinError(
            f"{structure.composition.reduced_formula}: no grid point is {settings.min_distance} Å "
            "from every framework atom"
        )
    base = AseAtomsAdaptor.get_atoms(frame)
    evaluate = batch_evaluator(calculator, stress=False)
    reference = float(evaluate([base])[0]["energy"])
    energies = np.full(len(frac), np.inf)
    cart = frame.lattice.get_cartesian_coords(frac)
    for start in range(0, len(open_points), settings.batch_size):
        chunk = open_points[start : start + settings.batch_size]
        batch = [base + Atoms(species, positions=[cart[i]]) for i in chunk]
        for i, result in zip(chunk, evaluate(batch), strict=True):
            energies[i] = float(result["energy"]) - reference
    energies -= energies[np.isfinite(energies)].min()
    return energies.reshape(shape), reference


def percolation_barriers(energies: np.ndarray) -> list[float]:
    """Per lattice direction, the lowest energy (relative to the minimum) at which grid points
    at or below it connect (face neighbours, periodic) to their own image one cell along that
    direction; ``inf`` when no level does. Points are added lowest first into a union-find
    that records each point's offset (in cells) from its component's root, so a bond closing
    a loop with a net offset along a direction is the moment that direction percolates."""
    shape = energies.shape
    flat = energies.reshape(-1)
    n = flat.size
    parent = np.arange(n)
    offset = np.zeros((n, 3), dtype=int)  # point's cell offset relative to its root
    added = np.zeros(n, dtype=bool)
    barriers = [np.inf, np.inf, np.inf]
    low = flat[np.isfinite(flat)].min() if np.isfinite(flat).any() else 0.0

    def find(i: int) -> tuple[int, np.ndarray]:
        path, shift = [], np.zeros(3, dtype=int)
        while parent[i] != i:
            path.append(i)
            i = parent[i]
        root = i
        total = np.zeros(3, dtype=int)
        for node in reversed(path):  # compress: offsets to the root
            total = total + offset[node]
            offset[node], parent[node] = total.copy(), root
        shift = offset[path[0]].copy() if path else shift
        return root, shift

    index = np.arange(n).reshape(shape)
    for i in np.argsort(flat, kind="stable"):
        if not np.isfinite(flat[i]):
            break
        added[i] = True
        here = np.array(np.unravel_index(i, shape))
        for axis in range(3):
            for step in (-1, 1):
                there = here.copy()
                there[axis] += step
                crossing = np.zeros(3, dtype=int)
                crossing[axis] = int(np.floor(there[axis] / shape[axis]))
                there[axis] %= shape[axis]
                j = index[tuple(there)]
                if not added[j]:
                    continue
                (ri, oi), (rj, oj) = find(i), find(j)
                if ri == rj:
                    winding = oi + crossing - oj
                    for d in range(3):
                        if winding[d] != 0 and not np.isfinite(barriers[d]):
                            barriers[d] = float(flat[i] - low)
                else:  # j sits at oi + crossing from i's root frame; hang rj under ri
                    parent[rj] = ri
                    offset[rj] = oi + crossing - oj
        if all(np.isfinite(barriers)):
            break
    return barriers
