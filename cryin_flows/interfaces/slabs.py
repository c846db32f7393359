"""Slabs cut from bulk crystals, counted in atomic planes, with the Tasker type-2b polarity fix.

Pure pymatgen/numpy. A slab is built from the *primitive* surface cell of a lattice plane, so
that in-plane supercell matrices refer to the smallest 2D cell (the convention of the paper's
ESI Table S1), and its thickness is counted in atomic planes (the paper's "layers").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pymatgen.analysis.interfaces.zsl import reduce_vectors
from pymatgen.core import Lattice, Structure

from cryin_flows.errors import SlabError

_PLANAR_TOL = 1e-4  # Å, how far a lattice vector may stick out of a plane and still lie in it


def _check_miller(miller: tuple[int, ...] | list[int]) -> tuple[int, int, int]:
    if len(miller) != 3 or any(int(m) != m for m in miller) or not any(miller):
        raise SlabError(f"Miller index {tuple(miller)} is not three integers, not all zero")
    return tuple(int(m) for m in miller)  # type: ignore[return-value]


def oriented_surface_cell(bulk: Structure, miller: tuple[int, int, int]) -> Structure:
    """Return a primitive bulk cell whose first two vectors span the ``miller`` plane.

    The in-plane vectors are the reduced primitive 2D lattice of the plane (|a| <= |b|, acute
    angle); the third vector is the shortest lattice vector reaching the next lattice plane.
    The cell is rotated so that a lies along x and a x b along +z; slabs grow along +z.
    """
    miller = _check_miller(miller)
    normal = bulk.lattice.reciprocal_lattice_crystallographic.get_cartesian_coords(miller)
    normal = normal / np.linalg.norm(normal)
    prim = bulk.get_primitive_structure()
    span = 3 * max(abs(m) for m in miller) + 3
    grid = np.arange(-span, span + 1)
    ints = np.array(np.meshgrid(grid, grid, grid, indexing="ij")).reshape(3, -1).T
    ints = ints[np.any(ints != 0, axis=1)]
    vectors = ints @ prim.lattice.matrix
    heights = vectors @ normal
    lengths = np.linalg.norm(vectors, axis=1)

    in_plane = vectors[np.abs(heights) < _PLANAR_TOL]
    in_plane = in_plane[np.argsort(np.linalg.norm(in_plane, axis=1), kind="stable")]
    if len(in_plane) < 2:
        raise SlabError(f"no lattice vectors found in the {miller} plane of {bulk.formula}")
    first = in_plane[0]
    crosses = np.linalg.norm(np.cross(first, in_plane), axis=1)
    second = in_plane[np.argmax(crosses > 1e-6)]
    a, b = reduce_vectors(first, second)

    up = np.cross(a, b)
    up /= np.linalg.norm(up)
    period = heights[heights > _PLANAR_TOL].min()
    candidates = np.abs(heights - period) < _PLANAR_TOL
    lateral = lengths[candidates] ** 2 - period**2
    t = vectors[candidates][np.argmin(lateral)]
    if t @ up < 0:
        t = -t

    basis = np.array([a, b, t])
    if not np.isclose(abs(np.linalg.det(basis)), prim.volume, rtol=1e-6):
        raise SlabError(f"could not find a primitive surface cell for {miller} of {bulk.formula}")
    e1 = a / np.linalg.norm(a)
    rotation = np.array([e1, np.cross(up, e1), up])
    lattice = Lattice(basis @ rotation.T)
    cart = prim.cart_coords @ rotation.T
    return Structure(lattice, prim.species, cart, coords_are_cartesian=True, to_unit_cell=True)


def _group_heights(z: np.ndarray, period: float, tol: float) -> list[np.ndarray]:
    """Cluster heights within one period into planes, cutting the period at its widest gap."""
    order = np.argsort(z)
    zs = z[order]
    gaps = np.diff(np.concatenate([zs, [zs[0] + period]]))
    cut = int(np.argmax(gaps))
    start = (cut + 1) % len(zs)
    order = np.roll(order, -start)
    zs = z[order] + np.where(np.arange(len(zs)) >= len(zs) - start, period, 0.0)
    zs -= zs[0]
    planes: list[list[int]] = [[int(order[0])]]
    for idx, height, prev in zip(order[1:], zs[1:], zs[:-1], strict=True):
        if height - prev > tol:
            planes.append([])
        planes[-1].append(int(idx))
    return [np.array(p) for p in planes]


def _spread_subset(frac_xy: np.ndarray, lattice_2d: np.ndarray, count: int) -> np.ndarray:
    """Pick ``count`` points spread evenly in a periodic 2D cell (greedy farthest point)."""
    diff = frac_xy[:, None, :] - frac_xy[None, :, :]
    diff -= np.round(diff)
    dist = np.linalg.norm(diff @ lattice_2d, axis=-1)
    start = int(np.lexsort((frac_xy[:, 1], frac_xy[:, 0]))[0])
    chosen = [start]
    nearest = dist[start].copy()
    for _ in range(count - 1):
        nearest[chosen] = -1.0
        nxt = int(np.argmax(nearest))
        chosen.append(nxt)
        nearest = np.minimum(nearest, dist[nxt])
    return np.sort(np.array(chosen))


@dataclass
class Slab:
    """A slab as plain arrays: in-plane lattice, species and Cartesian coordinates.

    The bottom plane sits at z = 0; ``plane_heights`` lists the atomic planes bottom to top.
    """

    lattice_2d: np.ndarray  # (2, 2): in-plane supercell vectors as rows, xy components
    species: list[str]
    cart_coords: np.ndarray  # (n, 3)
    plane_heights: list[float]
    moved_to_top: int = 0
    dipole_per_area: float = 0.0  # e/Å, along z, from the oxidation states used
    notes: list[str] = field(default_factory=list)

    @property
    def thickness(self) -> float:
        """Height of the top plane above the bottom plane, Å."""
        return float(self.plane_heights[-1] - self.plane_heights[0])

    @property
    def area(self) -> float:
        """In-plane area, Å²."""
        return float(abs(np.linalg.det(self.lattice_2d)))


def build_slab(
    oriented_cell: Structure,
    n_layers: int,
    supercell: list[list[int]] | np.ndarray,
    oxidation_states: dict[str, float],
    termination: int | None = None,
    tasker2b: bool = False,
    layer_tolerance: float = 0.3,
) -> Slab:
    """Stack ``n_layers`` atomic planes of an oriented cell in an in-plane ``supercell``.

    ``termination`` is the index (within one bulk period, bottom first) of the plane the slab
    starts with; by default the first plane, or with ``tasker2b`` the first all-anion plane.
    ``tasker2b`` moves half of the bottom plane to the top, continuing the bulk, which removes
    the dipole of a slab of alternating charged planes (Tasker type 2b).
    """
    matrix = np.asarray(supercell, dtype=int)
    if matrix.shape != (2, 2) or round(np.linalg.det(matrix)) <= 0:
        raise SlabError(f"in-plane supercell {matrix.tolist()} must be 2x2 with det > 0")
    if n_layers < 1:
        raise SlabError(f"a slab needs at least one layer, got {n_layers}")
    cell = oriented_cell.copy()
    cell.make_supercell([[*matrix[0], 0], [*matrix[1], 0], [0, 0, 1]])
    t_vec = cell.lattice.matrix[2]
    period = float(t_vec[2])
    planes = _group_heights(cell.cart_coords[:, 2], period, layer_tolerance)
    species = np.array([sp.symbol for sp in cell.species])
    charges = np.array([oxidation_states.get(s, 0.0) for s in species])
    n_per_period = len(planes)

    if termination is None:
        termination = 0
        if tasker2b:
            anion_planes = [i for i, p in enumerate(planes) if np.all(charges[p] < 0)]
            if not anion_planes:
                raise SlabError(
                    f"{cell.composition.reduced_formula}: no all-anion plane for tasker2b"
                )
            termination = anion_planes[0]
    if not 0 <= termination < n_per_period:
        raise SlabError(
            f"termination {termination} out of range: the period has {n_per_period} planes"
        )

    base_cart = cell.cart_coords
    z0 = base_cart[planes[termination], 2].mean()
    coords, kinds, plane_of_atom = [], [], []
    for layer in range(n_layers):
        k = termination + layer
        shift = (k // n_per_period) * t_vec
        idx = planes[k % n_per_period]
        coords.append(base_cart[idx] + shift)
        kinds.extend(species[idx].tolist())
        plane_of_atom.extend([layer] * len(idx))
    cart = np.concatenate(coords)
    cart[:, 2] -= z0
    plane_of_atom = np.array(plane_of_atom)
    kinds = list(kinds)

    lattice_2d = cell.lattice.matrix[:2, :2]
    notes: list[str] = []
    moved = 0
    if tasker2b:
        if n_layers % n_per_period:
            raise SlabError(
                f"tasker2b needs a whole number of bulk periods ({n_per_period} planes each), "
                f"got {n_layers} layers"
            )
        bottom = np.flatnonzero(plane_of_atom == 0)
        if len(bottom) % 2:
            raise SlabError(
                f"tasker2b: the bottom plane has {len(bottom)} atoms, which cannot be halved; "
                "use a larger in-plane supercell"
            )
        frac_xy = np.linalg.solve(lattice_2d.T, cart[bottom, :2].T).T
        pick = bottom[_spread_subset(frac_xy, lattice_2d, len(bottom) // 2)]
        cart[pick] += (n_layers // n_per_period) * t_vec
        plane_of_atom[pick] = n_layers
        moved = len(pick)
        notes.append(f"tasker2b: moved {moved} of {len(bottom)} bottom-plane atoms to the top")

    # wrap in-plane
    frac_xy = np.linalg.solve(lattice_2d.T, cart[:, :2].T).T
    cart[:, :2] = (frac_xy % 1.0) @ lattice_2d
    q = np.array([oxidation_states.get(s, 0.0) for s in kinds])
    z_mid = 0.5 * (cart[:, 2].min() + cart[:, 2].max())
    dipole = float(np.sum(q * (cart[:, 2] - z_mid)) / abs(np.linalg.det(lattice_2d)))
    heights = sorted(
        {round(float(cart[plane_of_atom == p, 2].mean()), 6) for p in set(plane_of_atom)}
    )
    return Slab(
        lattice_2d=lattice_2d.copy(),
        species=kinds,
        cart_coords=cart,
        plane_heights=heights,
        moved_to_top=moved,
        dipole_per_area=dipole,
        notes=notes,
    )
