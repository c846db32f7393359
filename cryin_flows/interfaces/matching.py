"""In-plane supercell matching of two surfaces, and the strain of putting one onto the other.

Lattices here are 2x2 arrays with the in-plane vectors as rows (xy components).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.analysis.interfaces.zsl import ZSLGenerator, reduce_vectors

from cryin_flows.errors import MatchingError


class StrainReport(BaseModel):
    """How much a slab's in-plane supercell is deformed to fit the interface cell."""

    length_strains: tuple[float, float] = Field(
        description="Relative change of the two supercell vector lengths (target/own - 1)"
    )
    angle_change_deg: float = Field(description="Target angle minus own angle, degrees")
    relative_angle_strain: float = Field(description="|target/own - 1| of the angle (ZSL style)")
    mean_length_mismatch: float = Field(
        description="Mean |length strain|: the 'average mismatch' of the paper's ESI Table S1"
    )
    principal_strains: tuple[float, float] = Field(
        description="Eigenvalues of the 2D Green-Lagrange strain tensor, ascending"
    )
    area_strain: float = Field(description="Relative change of the in-plane area")

    @property
    def max_length_strain(self) -> float:
        """Largest |length strain|."""
        return max(abs(s) for s in self.length_strains)


def lattice_2d_parameters(lattice_2d: np.ndarray) -> tuple[float, float, float]:
    """Lengths a, b (Å) and angle gamma (degrees) of a 2D lattice."""
    a, b = np.linalg.norm(lattice_2d, axis=1)
    gamma = np.degrees(np.arccos(np.clip(lattice_2d[0] @ lattice_2d[1] / (a * b), -1, 1)))
    return float(a), float(b), float(gamma)


def lattice_2d_from_parameters(a: float, b: float, gamma: float) -> np.ndarray:
    """Standard orientation: a along x, b in the upper half plane."""
    g = np.radians(gamma)
    return np.array([[a, 0.0], [b * np.cos(g), b * np.sin(g)]])


def strain_report(own: np.ndarray, target: np.ndarray) -> StrainReport:
    """Strain of deforming the 2D lattice ``own`` onto ``target`` (rows map onto rows)."""
    la, lb, ga = lattice_2d_parameters(own)
    ta, tb, gt = lattice_2d_parameters(target)
    deformation = np.linalg.solve(own, target).T  # F with F @ own_row = target_row
    green = 0.5 * (deformation.T @ deformation - np.eye(2))
    principal = np.linalg.eigvalsh(green)
    lengths = (ta / la - 1.0, tb / lb - 1.0)
    return StrainReport(
        length_strains=lengths,
        angle_change_deg=gt - ga,
        relative_angle_strain=abs(gt / ga - 1.0),
        mean_length_mismatch=float(np.mean(np.abs(lengths))),
        principal_strains=(float(principal[0]), float(principal[1])),
        area_strain=abs(np.linalg.det(target)) / abs(np.linalg.det(own)) - 1.0,
    )


def supercell_lattice(lattice_2d: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Rows of ``matrix @ lattice_2d``: supercell vectors in terms of the surface cell."""
    return np.asarray(matrix, dtype=float) @ lattice_2d


class SupercellMatch(BaseModel):
    """A pair of in-plane supercell matrices that bring two surfaces into coincidence."""

    substrate_matrix: list[list[int]] = Field(description="2x2, rows = supercell vectors")
    film_matrix: list[list[int]] = Field(description="2x2, rows = supercell vectors")
    area: float = Field(description="Substrate supercell area, Å²")
    film_strain: StrainReport = Field(description="Strain of the film onto the substrate")


def _integer_matrix(vectors: np.ndarray, basis_2d: np.ndarray) -> np.ndarray:
    coeffs = np.linalg.solve(basis_2d.T, np.asarray(vectors)[:, :2].T).T
    rounded = np.rint(coeffs)
    if not np.allclose(coeffs, rounded, atol=1e-4):  # pragma: no cover - ZSL guarantees this
        raise MatchingError(f"ZSL vectors are not lattice vectors: {coeffs.tolist()}")
    return rounded.astype(int)


def find_supercell_matches(
    substrate_2d: np.ndarray,
    film_2d: np.ndarray,
    max_area: float = 400.0,
    max_length_strain: float = 0.03,
    max_angle_strain: float = 0.05,
) -> list[SupercellMatch]:
    """Lattice matching with pymatgen's ZSL search, smallest area first, then lowest strain.

    The supercell vectors are reduced (|a| <= |b|, acute angle) and given as integer matrices
    in the reduced surface bases of each slab.
    """
    zsl = ZSLGenerator(
        max_area=max_area, max_length_tol=max_length_strain, max_angle_tol=max_angle_strain
    )
    pad = np.zeros((2, 1))
    matches: list[SupercellMatch] = []
    seen: set[tuple] = set()
    for match in zsl(np.hstack([film_2d, pad]), np.hstack([substrate_2d, pad])):
        sub = np.array(reduce_vectors(*np.asarray(match.substrate_sl_vectors, dtype=float)))
        film = np.array(reduce_vectors(*np.asarray(match.film_sl_vectors, dtype=float)))
        sub_m, film_m = _integer_matrix(sub, substrate_2d), _integer_matrix(film, film_2d)
        for m in (sub_m, film_m):
            if np.linalg.det(m) < 0:  # keep both cells right-handed
                m[1] *= -1
        key = (tuple(sub_m.ravel()), tuple(film_m.ravel()))
        if key in seen:
            continue
        seen.add(key)
        strain = strain_report(
            supercell_lattice(film_2d, film_m), supercell_lattice(substrate_2d, sub_m)
        )
        if (
            strain.max_length_strain > max_length_strain
            or strain.relative_angle_strain > max_angle_strain
        ):
            continue
        matches.append(
            SupercellMatch(
                substrate_matrix=sub_m.tolist(),
                film_matrix=film_m.tolist(),
                area=float(abs(np.linalg.det(supercell_lattice(substrate_2d, sub_m)))),
                film_strain=strain,
            )
        )
    matches.sort(key=lambda m: (round(m.area, 3), m.film_strain.max_length_strain))
    if not matches:
        raise MatchingError(
            f"no supercell match within {max_length_strain:.1%} length and "
            f"{max_angle_strain:.1%} angle strain up to {max_area:.0f} Å²; "
            "raise max_area or the strain limits"
        )
    return matches
