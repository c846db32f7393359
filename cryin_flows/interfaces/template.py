"""The InterfaceTemplate: the fixed cell, slabs, species order and region every structure shares."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.core import Composition, Element, Lattice, Structure

from cryin_flows.errors import ConfigurationError, MatchingError, TemplateMismatchError
from cryin_flows.interfaces.matching import (
    StrainReport,
    find_supercell_matches,
    lattice_2d_from_parameters,
    lattice_2d_parameters,
    strain_report,
    supercell_lattice,
)
from cryin_flows.interfaces.slabs import Slab, build_slab, oriented_surface_cell
from cryin_flows.interfaces.system import InterfaceSystem, get_preset

Role = Literal["substrate", "film", "region"]


@dataclass
class RegionGeometry:
    """The interface region of one structure as found from its geometry."""

    indices: np.ndarray  # region atoms, ascending
    substrate_plane_z: float  # median height of the top substrate plane, Å
    film_plane_z: float  # median height of the bottom film plane, Å
    heights: np.ndarray  # every atom's height along c, unwrapped across the vacuum, Å

    @property
    def gap(self) -> float:
        """Distance between the two planes, Å (the drawn thickness in a random interface)."""
        return self.film_plane_z - self.substrate_plane_z


class SlabSummary(BaseModel):
    """What was built for one side of the interface."""

    formula: str = Field(description="Composition of the slab")
    miller: tuple[int, int, int] = Field(description="Miller index of the surface")
    supercell: list[list[int]] = Field(description="In-plane supercell of the surface cell")
    planes: int = Field(description="Atomic planes, after any Tasker move")
    thickness: float = Field(description="Bottom-to-top plane distance, Å")
    moved_to_top: int = Field(description="Atoms moved by the Tasker 2b fix")
    dipole_per_area: float = Field(description="Residual z dipole per area, e/Å")
    strain: StrainReport = Field(description="Strain onto the interface cell")


class InterfaceTemplate(BaseModel):
    """Everything a dataset of one interface system shares, and the check that a structure fits.

    Atoms are in contiguous species blocks (``species_order``); inside each block come the
    substrate atoms, then the film atoms, then the region atoms. Substrate coordinates are
    final; film coordinates are relative (bottom plane at z = 0, no lateral shift) because the
    gap and the lateral shift change from structure to structure.
    """

    system: InterfaceSystem = Field(description="The parameters the template was built from")
    lattice: list[list[float]] = Field(description="3x3 cell, rows a, b, c (Å); c along z")
    species: list[str] = Field(description="Element of every atom, in template order")
    species_order: list[str] = Field(description="The order of the contiguous species blocks")
    roles: list[Role] = Field(description="substrate / film / region for every atom")
    substrate_coords: list[list[float]] = Field(description="Cartesian, for roles == substrate")
    film_coords: list[list[float]] = Field(
        description="Cartesian relative to the film's bottom plane, for roles == film"
    )
    region_composition: dict[str, int] = Field(description="Atoms placed in the region")
    region_thickness_range: tuple[float, float] = Field(description="Gap range, Å")
    region_z_bounds: tuple[float, float] = Field(
        description="z of the top substrate plane, and that plus the largest gap (Å): where "
        "the cell was built to hold the region; which atoms form the region of a given "
        "structure is found by region_indices"
    )
    area: float = Field(description="Interface area A, Å²")
    substrate: SlabSummary = Field(description="The substrate slab as built")
    film: SlabSummary = Field(description="The film slab as built")
    oxidation_states: dict[str, float] = Field(description="Charges used for dipoles/defaults")
    template_hash: str = Field("", description="sha256 of lattice, species and fixed coordinates")

    # ---------------------------------------------------------------- views
    @property
    def n_atoms(self) -> int:
        """Atoms per structure."""
        return len(self.species)

    @property
    def lattice_matrix(self) -> np.ndarray:
        """The cell as a (3, 3) array."""
        return np.asarray(self.lattice, dtype=float)

    @property
    def composition(self) -> dict[str, int]:
        """Atom counts per element, in block order."""
        counts = Counter(self.species)
        return {el: counts[el] for el in self.species_order}

    def indices(self, role: Role) -> np.ndarray:
        """Atom indices with the given role, ascending."""
        return np.array([i for i, r in enumerate(self.roles) if r == role], dtype=int)

    def compute_hash(self) -> str:
        """Content hash of what defines a dataset: cell, species, fixed atoms, region."""
        payload = {
            "lattice": np.round(self.lattice_matrix, 6).tolist(),
            "species": self.species,
            "roles": self.roles,
            "substrate": np.round(np.asarray(self.substrate_coords), 6).tolist(),
            "film": np.round(np.asarray(self.film_coords), 6).tolist(),
            "region": self.region_composition,
            "thickness": list(self.region_thickness_range),
        }
        blob = json.dumps(payload, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def boundary_plane_sizes(self) -> tuple[int, int]:
        """Atoms in the substrate's top plane and in the film's bottom plane, as built."""
        tol = self.system.layer_tolerance
        sub_z = np.asarray(self.substrate_coords)[:, 2]
        film_z = np.asarray(self.film_coords)[:, 2]
        return int((sub_z > sub_z.max() - tol).sum()), int((film_z < film_z.min() + tol).sum())

    def locate_region(self, cart_coords: np.ndarray) -> RegionGeometry:
        """The interface region of one structure, found from its own geometry.

        The region is the atoms between the substrate's top ordered plane and the film's
        bottom ordered plane as they sit in this structure. Atoms are ranked by height along
        c, starting at the bottom of the slab stack (just above the vacuum); the substrate
        holds the lowest ``n_substrate`` of them, its top plane the highest
        ``top plane size`` of those; the region holds the next ``n_region`` atoms and the film
        the rest, starting with its bottom plane. Mutual exchanges keep these counts (an
        exchanged region atom takes a substrate site, the substrate atom joins the region),
        so the rule needs no atom identity: it holds for generated structures, whose atom
        order inside a species block means nothing, and follows each structure's own gap
        rather than a window sized for the widest one.
        """
        z = self._stack_heights(np.asarray(cart_coords, dtype=float))
        order = np.argsort(z, kind="stable")
        n_sub, n_region = len(self.substrate_coords), sum(self.region_composition.values())
        top, bottom = self.boundary_plane_sizes()
        region = np.sort(order[n_sub : n_sub + n_region])
        sub_plane = z[order[n_sub - top : n_sub]]
        film_plane = z[order[n_sub + n_region : n_sub + n_region + bottom]]
        return RegionGeometry(
            indices=region,
            substrate_plane_z=float(np.median(sub_plane)),
            film_plane_z=float(np.median(film_plane)),
            heights=z,
        )

    def region_indices(self, cart_coords: np.ndarray) -> np.ndarray:
        """Indices (ascending) of one structure's region atoms; see ``locate_region``."""
        return self.locate_region(cart_coords).indices

    def region_mask(self, cart_coords: np.ndarray) -> np.ndarray:
        """Boolean region membership of every atom of one structure."""
        mask = np.zeros(len(cart_coords), dtype=bool)
        mask[self.region_indices(cart_coords)] = True
        return mask

    def _stack_heights(self, cart: np.ndarray) -> np.ndarray:
        """Heights (Å) along c, unwrapped so that a stack crossing the cell's boundary along c
        is not cut in two: the cut is the widest empty gap (the vacuum)."""
        c = float(self.lattice_matrix[2, 2])
        frac_z = cart[:, 2] / c % 1.0
        ordered = np.sort(frac_z)
        gaps = np.diff(ordered, append=ordered[0] + 1.0)
        start = ordered[(np.argmax(gaps) + 1) % len(ordered)]
        return ((frac_z - start) % 1.0 + start) * c

    # ---------------------------------------------------------------- building
    def assemble(
        self, thickness: float, shift_frac: tuple[float, float], region_cart: np.ndarray
    ) -> np.ndarray:
        """Cartesian coordinates of one structure, in template order.

        The film sits ``thickness`` Å above the top substrate plane, shifted laterally by
        ``shift_frac`` (fractions of a and b); ``region_cart`` fills the region slots in order.
        """
        lattice = self.lattice_matrix
        coords = np.empty((self.n_atoms, 3))
        coords[self.indices("substrate")] = self.substrate_coords
        film = np.array(self.film_coords)
        film[:, :2] += np.asarray(shift_frac) @ lattice[:2, :2]
        film[:, 2] += self.region_z_bounds[0] + thickness
        frac_xy = np.linalg.solve(lattice[:2, :2].T, film[:, :2].T).T % 1.0
        film[:, :2] = frac_xy @ lattice[:2, :2]
        coords[self.indices("film")] = film
        coords[self.indices("region")] = region_cart
        return coords

    def structure(self, cart_coords: np.ndarray) -> Structure:
        """A pymatgen Structure in template order from Cartesian coordinates."""
        return Structure(
            Lattice(self.lattice_matrix), self.species, cart_coords, coords_are_cartesian=True
        )

    # ---------------------------------------------------------------- checking
    def validate_structure(
        self, structure: Any, label: str = "structure", tol: float = 1e-3
    ) -> None:
        """Raise TemplateMismatchError naming the field where ``structure`` does not fit.

        Accepts a pymatgen ``Structure`` or an ASE ``Atoms``; checks atom count, species at
        every index, and the lattice (to ``tol`` Å per component).
        """
        if isinstance(structure, Structure):
            species = [site.specie.symbol for site in structure]
            cell = structure.lattice.matrix
        else:  # ASE Atoms
            species = list(structure.get_chemical_symbols())
            cell = np.asarray(structure.cell)
        if len(species) != self.n_atoms:
            raise TemplateMismatchError(
                f"{label}: atom count {len(species)} != template {self.n_atoms} "
                f"({Composition(''.join(species)).formula if species else 'empty'} vs "
                f"{Composition(self.composition).formula})"
            )
        for i, (got, want) in enumerate(zip(species, self.species, strict=True)):
            if got != want:
                raise TemplateMismatchError(
                    f"{label}: species order differs at atom {i}: {got} where the template "
                    f"has {want} (blocks {'-'.join(self.species_order)})"
                )
        diff = np.abs(np.asarray(cell, dtype=float) - self.lattice_matrix)
        if diff.max() > tol:
            row = "abc"[int(np.argmax(diff.max(axis=1)))]
            raise TemplateMismatchError(
                f"{label}: lattice vector {row} differs from the template by "
                f"{diff.max():.4f} Å (tolerance {tol} Å)"
            )

    def validate_set(self, structures, label: str = "structures") -> None:
        """``validate_structure`` for every frame of an InterfaceSet (errors name the frame)."""
        for i in range(len(structures)):
            self.validate_structure(structures.atoms(i), label=f"{label}, frame {i}")

    # ---------------------------------------------------------------- I/O
    def to_json_file(self, path: str | Path) -> Path:
        """Write the template as JSON."""
        path = Path(path)
        path.write_text(self.model_dump_json(indent=1))
        return path

    @classmethod
    def from_json_file(cls, path: str | Path) -> InterfaceTemplate:
        """Read a template written by ``to_json_file``; checks its hash."""
        path = Path(path)
        try:
            template = cls.model_validate_json(path.read_text())
        except FileNotFoundError as exc:
            raise ConfigurationError(f"template file {path} does not exist") from exc
        except ValueError as exc:
            raise ConfigurationError(
                f"template file {path} is not a valid template: {exc}"
            ) from exc
        if template.template_hash and template.template_hash != template.compute_hash():
            raise ConfigurationError(f"template file {path}: content does not match its hash")
        return template

    def summary(self) -> dict[str, Any]:
        """The numbers a person checks first."""
        a, b, gamma = lattice_2d_parameters(self.lattice_matrix[:2, :2])
        return {
            "system": self.system.name,
            "atoms": self.n_atoms,
            "composition": self.composition,
            "a (Å)": round(a, 5),
            "b (Å)": round(b, 5),
            "gamma (deg)": round(gamma, 4),
            "c (Å)": round(float(self.lattice_matrix[2, 2]), 4),
            "area (Å²)": round(self.area, 3),
            "region": self.region_composition,
            "region thickness (Å)": list(self.region_thickness_range),
            "film length strains (%)": [round(100 * s, 3) for s in self.film.strain.length_strains],
            "film mean mismatch (%)": round(100 * self.film.strain.mean_length_mismatch, 3),
            "hash": self.template_hash[:16],
        }


def _oxidation_states(system: InterfaceSystem, bulks: list[Structure]) -> dict[str, float]:
    if system.oxidation_states is not None:
        return dict(system.oxidation_states)
    states: dict[str, float] = {}
    for bulk in bulks:
        guesses = bulk.composition.oxi_state_guesses()
        if guesses:
            states.update({k: float(v) for k, v in guesses[0].items()})
    for el in system.region_composition:
        states.setdefault(el, float(Element(el).common_oxidation_states[0]))
    return states


def _map_onto(slab: Slab, target_2d: np.ndarray) -> np.ndarray:
    """Slab Cartesian coordinates with the in-plane part carried onto the target lattice."""
    frac_xy = np.linalg.solve(slab.lattice_2d.T, slab.cart_coords[:, :2].T).T % 1.0
    out = slab.cart_coords.copy()
    out[:, :2] = frac_xy @ target_2d
    return out


def _block_order(species: list[str], z: np.ndarray, order: list[str]) -> np.ndarray:
    rank = {el: i for i, el in enumerate(order)}
    return np.lexsort((z, [rank[s] for s in species]))


def build_interface_template(system: InterfaceSystem | str | None = None) -> InterfaceTemplate:
    """Build the template of an interface system (a preset name or an ``InterfaceSystem``)."""
    if system is None or isinstance(system, str):
        system = get_preset(system or "lsc-lco")
    sub_bulk, film_bulk = system.substrate.load_structure(), system.film.load_structure()
    ox = _oxidation_states(system, [sub_bulk, film_bulk])
    sub_cell = oriented_surface_cell(sub_bulk, system.substrate.miller)
    film_cell = oriented_surface_cell(film_bulk, system.film.miller)
    sub_2d, film_2d = sub_cell.lattice.matrix[:2, :2], film_cell.lattice.matrix[:2, :2]

    if system.substrate.supercell is None:
        match = find_supercell_matches(
            sub_2d,
            film_2d,
            max_area=system.max_match_area,
            max_length_strain=system.max_length_strain,
            max_angle_strain=system.max_angle_strain,
        )[0]
        sub_m, film_m = match.substrate_matrix, match.film_matrix
    else:
        sub_m, film_m = system.substrate.supercell, system.film.supercell

    slabs = {}
    for side, spec, cell, matrix in (
        ("substrate", system.substrate, sub_cell, sub_m),
        ("film", system.film, film_cell, film_m),
    ):
        slabs[side] = build_slab(
            cell,
            spec.layers,
            matrix,
            ox,
            termination=spec.termination,
            tasker2b=spec.tasker2b,
            layer_tolerance=system.layer_tolerance,
        )
    sub_slab, film_slab = slabs["substrate"], slabs["film"]

    sub_super = supercell_lattice(sub_2d, sub_m)
    target = lattice_2d_from_parameters(
        *(system.lateral_lattice or lattice_2d_parameters(sub_super))
    )
    strains = {
        "substrate": strain_report(sub_slab.lattice_2d, target),
        "film": strain_report(film_slab.lattice_2d, target),
    }
    film_strain = strains["film"]
    if (
        film_strain.max_length_strain > system.max_length_strain
        or film_strain.relative_angle_strain > system.max_angle_strain
    ):
        raise MatchingError(
            f"film {film_bulk.composition.reduced_formula}{system.film.miller} on "
            f"{sub_bulk.composition.reduced_formula}{system.substrate.miller}: strain "
            f"{100 * film_strain.max_length_strain:.2f} % length / "
            f"{100 * film_strain.relative_angle_strain:.2f} % angle exceeds the limits "
            f"({100 * system.max_length_strain:.1f} % / {100 * system.max_angle_strain:.1f} %)"
        )

    t_max = system.region_thickness[1]
    z_bottom = system.vacuum / 2
    sub_coords = _map_onto(sub_slab, target)
    sub_coords[:, 2] += z_bottom
    film_coords = _map_onto(film_slab, target)
    z_top_sub = z_bottom + sub_slab.thickness
    c = sub_slab.thickness + t_max + film_slab.thickness + system.vacuum
    lattice = np.zeros((3, 3))
    lattice[:2, :2] = target
    lattice[2, 2] = c

    order = system.species_order or sorted(
        set(sub_slab.species) | set(film_slab.species) | set(system.region_composition),
        key=lambda el: (Element(el).X, el),
    )
    present = set(sub_slab.species) | set(film_slab.species) | set(system.region_composition)
    if set(order) != present:
        raise ConfigurationError(
            f"species_order {order} must list exactly the elements present: {sorted(present)}"
        )

    entries: list[tuple[str, Role, int]] = []
    for role, slab in (("substrate", sub_slab), ("film", film_slab)):
        idx = _block_order(slab.species, slab.cart_coords[:, 2], order)
        entries += [(slab.species[i], role, int(i)) for i in idx]
    entries += [
        (el, "region", k) for el in order for k in range(system.region_composition.get(el, 0))
    ]
    rank = {el: i for i, el in enumerate(order)}
    role_rank = {"substrate": 0, "film": 1, "region": 2}
    entries.sort(key=lambda e: (rank[e[0]], role_rank[e[1]]))  # stable: keeps z order inside

    summaries = {}
    for side, spec, slab, matrix in (
        ("substrate", system.substrate, sub_slab, sub_m),
        ("film", system.film, film_slab, film_m),
    ):
        summaries[side] = SlabSummary(
            formula=Composition("".join(slab.species)).formula,
            miller=spec.miller,
            supercell=[list(map(int, row)) for row in matrix],
            planes=len(slab.plane_heights),
            thickness=slab.thickness,
            moved_to_top=slab.moved_to_top,
            dipole_per_area=slab.dipole_per_area,
            strain=strains[side],
        )

    template = InterfaceTemplate(
        system=system,
        lattice=lattice.tolist(),
        species=[e[0] for e in entries],
        species_order=order,
        roles=[e[1] for e in entries],
        substrate_coords=[sub_coords[e[2]].tolist() for e in entries if e[1] == "substrate"],
        film_coords=[film_coords[e[2]].tolist() for e in entries if e[1] == "film"],
        region_composition=system.region_composition,
        region_thickness_range=system.region_thickness,
        region_z_bounds=(float(z_top_sub), float(z_top_sub + t_max)),
        area=float(abs(np.linalg.det(target))),
        substrate=summaries["substrate"],
        film=summaries["film"],
        oxidation_states=ox,
    )
    template.template_hash = template.compute_hash()
    return template
