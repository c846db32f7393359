"""Every site's Voronoi neighbours from one tessellation, as pymatgen's ``VoronoiNN`` gives
them site by site.

``VoronoiNN.get_nn_info(structure, n)`` (what CrystalNN calls for every site) tessellates the
atoms within its cutoff of site n and measures the cell's faces in Python loops; for the 256
sites of an a-Si block that is most of the motif and bond-angle metrics' time. Here the cell
and its periodic images within the cutoff are tessellated once (scipy's qhull, as pymatgen),
and the faces of all root cells are measured in array operations with pymatgen's formulas
(``solid_angle``: the fan of tetrahedra from the face's first vertex; ``vol_tetra``; the face
area from V = A d / 3). A face is the same face either way, so the values agree to rounding
(the test compares them with ``VoronoiNN``'s); only the order of a site's entries may differ.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import PeriodicNeighbor, Structure


def _images(structure: Structure, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(site index, image) of the cell's atoms and of their images within ``cutoff`` of one,
    root atoms first, and their Cartesian coordinates."""
    import torch
    from vesin_torch import NeighborList

    frac = structure.frac_coords % 1.0
    lattice = np.array(structure.lattice.matrix)  # a writable copy for torch
    points = torch.as_tensor(frac @ lattice, dtype=torch.float64)
    box = torch.as_tensor(lattice, dtype=torch.float64)
    _, j, shift = NeighborList(cutoff=cutoff, full_list=True).compute(points, box, True, "ijS")
    keys = np.column_stack([j.numpy(), shift.numpy()]).astype(np.int64)
    keys = np.unique(keys[np.abs(keys[:, 1:]).max(axis=1) > 0], axis=0)
    n = len(structure)
    root = np.column_stack([np.arange(n), np.zeros((n, 3), dtype=np.int64)])
    keys = np.vstack([root, keys])
    coords = (frac[keys[:, 0]] + keys[:, 1:]) @ lattice
    return keys[:, 0], keys[:, 1:], coords


def _face_measures(centres: np.ndarray, vertices: np.ndarray, counts: np.ndarray):
    """Solid angle and volume of faces: ``vertices`` (faces, max_vertices, 3) padded beyond
    ``counts``, seen from ``centres`` (faces, 3)."""
    d = vertices - centres[:, None, :]
    r = np.linalg.norm(d, axis=-1)
    angle = np.zeros(len(centres))
    volume = np.zeros(len(centres))
    for ii in range(1, vertices.shape[1] - 1):
        jj = ii + 1
        live = counts > jj
        d0, di, dj = d[:, 0], d[:, ii], d[:, jj]
        tp = np.abs(np.einsum("fk,fk->f", d0, np.cross(di, dj)))
        de = (
            r[:, 0] * r[:, ii] * r[:, jj]
            + r[:, jj] * np.einsum("fk,fk->f", d0, di)
            + r[:, ii] * np.einsum("fk,fk->f", d0, dj)
            + r[:, 0] * np.einsum("fk,fk->f", di, dj)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            part = np.where(
                de == 0, np.where(tp > 0, 0.5 * np.pi, -0.5 * np.pi), np.arctan(tp / de)
            )
        part = np.where(part > 0, part, part + np.pi) * 2
        angle += np.where(live, part, 0.0)
        # vol_tetra(centre, v0, vi, vj) = |(c - vj) . ((v0 - vj) x (vi - vj))| / 6
        c_j = centres - vertices[:, jj]
        tetra = np.abs(
            np.einsum(
                "fk,fk->f",
                c_j,
                np.cross(vertices[:, 0] - vertices[:, jj], vertices[:, ii] - vertices[:, jj]),
            )
        )
        volume += np.where(live, tetra / 6, 0.0)
    return angle, volume


def all_site_neighbours(structure: Structure, cutoff: float = 7.0) -> list[list[dict]]:
    """For every site, ``VoronoiNN(weight="solid_angle", cutoff=cutoff).get_nn_info``'s
    entries (all elements are targets; ``extra_nn_info`` on)."""
    from scipy.spatial import Voronoi

    index, _, coords = _images(structure, cutoff)
    n = len(structure)
    voro = Voronoi(coords)
    pairs = voro.ridge_points
    faces = []  # (root point, other point, ridge)
    for ridge, (a, b) in enumerate(pairs):
        if a < n:
            faces.append((a, b, ridge))
        if b < n:
            faces.append((b, a, ridge))
    faces_arr = np.array(faces, dtype=np.int64)
    ridge_vertices = [voro.ridge_vertices[r] for r in faces_arr[:, 2]]
    if any(-1 in v for v in ridge_vertices):
        raise RuntimeError("a root Voronoi cell is open: increase the cutoff")
    counts = np.array([len(v) for v in ridge_vertices])
    padded = np.zeros((len(faces_arr), counts.max(), 3))
    for k, v in enumerate(ridge_vertices):
        padded[k, : len(v)] = voro.vertices[v]
    centres = coords[faces_arr[:, 0]]
    angle, volume = _face_measures(centres, padded, counts)
    others = coords[faces_arr[:, 1]]
    face_dist = np.linalg.norm(centres - others, axis=1) / 2
    area = 3 * volume / face_dist
    normal = (others - centres) / (2 * face_dist)[:, None]

    lattice = structure.lattice
    # a site's neighbours are reported around the site where it is (maybe outside the cell),
    # with images counted from the neighbours' own positions, as VoronoiNN does
    shift = structure.cart_coords - coords[:n]
    frac_sites = structure.frac_coords
    out: list[list[dict]] = [[] for _ in range(n)]
    max_angle = np.zeros(n)
    np.maximum.at(max_angle, faces_arr[:, 0], angle)
    for k, (root, other, _) in enumerate(faces_arr):
        if not angle[k] > 0:
            continue
        site_index = int(index[other])
        frac_other = lattice.get_fractional_coords(coords[other] + shift[root])
        jimage = tuple(int(x) for x in np.around(frac_other - frac_sites[site_index]))
        site = PeriodicNeighbor(
            structure[site_index].species,
            frac_other,
            lattice,
            properties=structure[site_index].properties,
            nn_distance=float(2 * face_dist[k]),
            index=site_index,
            image=jimage,
        )
        out[root].append(
            {
                "site": site,
                "image": jimage,
                "weight": float(angle[k] / max_angle[root]),
                "site_index": site_index,
                "poly_info": {
                    "normal": normal[k],
                    "solid_angle": float(angle[k]),
                    "volume": float(volume[k]),
                    "face_dist": float(face_dist[k]),
                    "area": float(area[k]),
                    "n_verts": int(counts[k]),
                },
            }
        )
    return out
