"""Random interfaces: the region filled by random sequential addition, reproducible from a seed.

This replaces the closed-source CALYPSO step of the paper. For each structure: a gap thickness
drawn uniformly from the template's range, a random lateral shift of the film over the whole
cell, region atoms placed one by one at uniformly random points that keep per-pair minimum
distances to every atom (periodic minimum image), and optionally random mutual exchanges
between region atoms and the top substrate plane.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations_with_replacement

import numpy as np
from pydantic import Field, field_validator
from pymatgen.core import Species

from cryin_flows.errors import ConfigurationError, RegionFillError
from cryin_flows.interfaces.interface_set import InterfaceSet, wrap_fractional
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.utils import SerializableModel

PAPER_EXCHANGES = {"Sc-Co": 3, "Li-Co": 3, "Cl-O": 6}
MIN_DISTANCE_FLOOR = 1.5  # Å: no default minimum distance goes below this


def _pair(a: str, b: str) -> str:
    return "-".join(sorted((a, b)))


def default_min_distances(
    oxidation_states: dict[str, float],
    opposite_factor: float = 0.75,
    anion_factor: float = 0.75,
    cation_factor: float = 1.25,
) -> dict[str, float]:
    """Minimum distances from Shannon crystal radii (pymatgen), never below 1.5 Å.

    Cation-anion and anion-anion pairs: a fraction of the radius sum (the bond length);
    cation-cation pairs, which repel, more than the sum.
    """
    radii = {}
    for el, q in oxidation_states.items():
        try:
            radii[el] = float(Species(el, int(q)).ionic_radius)
        except (TypeError, ValueError):
            radii[el] = 1.0
    out = {}
    for a, b in combinations_with_replacement(sorted(oxidation_states), 2):
        qa, qb = oxidation_states[a], oxidation_states[b]
        factor = (
            cation_factor
            if qa > 0 and qb > 0
            else anion_factor
            if qa < 0 and qb < 0
            else (opposite_factor)
        )
        out[_pair(a, b)] = round(max(MIN_DISTANCE_FLOOR, factor * (radii[a] + radii[b])), 3)
    return out


class RandomFillSettings(SerializableModel):
    """How random interfaces are drawn from a template."""

    min_distances: dict[str, float] = Field(
        default_factory=dict,
        description="Per-pair minimum distances (Å) overriding the defaults, e.g. {'Cl-Cl': 3.0}",
    )
    thickness_range: tuple[float, float] | None = Field(
        None, description="Gap range (Å); None = the template's"
    )
    exchanges: dict[str, int] | None = Field(
        None,
        description="Most mutual exchanges per structure, region species - top substrate "
        "species, e.g. {'Sc-Co': 3, 'Li-Co': 3, 'Cl-O': 6}; None = no exchanges",
    )
    candidates_per_try: int = Field(64, ge=1, description="Random points tested at once")
    max_tries_per_atom: int = Field(200, ge=1, description="Batches of points per atom")
    max_restarts: int = Field(20, ge=0, description="Fresh starts of one structure")

    @field_validator("min_distances")
    @classmethod
    def _canonical_pairs(cls, value: dict[str, float]) -> dict[str, float]:
        out = {}
        for key, dist in value.items():
            parts = key.split("-")
            if len(parts) != 2 or dist <= 0:
                raise ValueError(f"min_distances entry {key}={dist}: use 'A-B' with a value > 0")
            out[_pair(*parts)] = float(dist)
        return out


class RandomInterfaceGenerator:
    """Draws random interfaces from an InterfaceTemplate (see module docstring)."""

    def __init__(self, template: InterfaceTemplate, settings: RandomFillSettings | None = None):
        self.template = template
        self.settings = settings = settings or RandomFillSettings()
        lattice = template.lattice_matrix
        if abs(lattice[0, 1]) + np.abs(lattice[:2, 2]).sum() + np.abs(lattice[2, :2]).sum() > 1e-9:
            raise ConfigurationError("template lattice must have a along x, b in xy, c along z")
        self.lattice = lattice
        self.elements = elements = template.species_order
        self.kind = np.array([elements.index(s) for s in template.species])

        states = dict(template.oxidation_states)
        for el in elements:
            states.setdefault(el, 0.0)
        distances = default_min_distances(states)
        unknown = set(settings.min_distances) - set(distances)
        if unknown:
            raise ConfigurationError(
                f"min_distances names pairs not in this system: {sorted(unknown)}; "
                f"pairs: {sorted(distances)}"
            )
        distances.update(settings.min_distances)
        self.min_distances = distances
        self.dmin = np.array(
            [[distances[_pair(a, b)] for b in elements] for a in elements], dtype=float
        )
        self.dmin_sq = self.dmin**2
        d_max = float(self.dmin.max())
        widths = abs(np.linalg.det(lattice[:2, :2])) / np.linalg.norm(lattice[:2, :2], axis=1)
        if d_max >= widths.min() / 2:
            raise ConfigurationError(
                f"largest minimum distance {d_max:.2f} Å is not below half the in-plane cell "
                f"width ({widths.min() / 2:.2f} Å)"
            )

        low, high = settings.thickness_range or template.region_thickness_range
        if not 0 < low <= high:
            raise ConfigurationError(f"thickness_range must satisfy 0 < low <= high: {(low, high)}")
        if high > template.region_thickness_range[1] + 1e-9:
            raise ConfigurationError(
                f"thickness {high} Å exceeds the template's largest gap "
                f"{template.region_thickness_range[1]} Å (the cell is built for it)"
            )
        self.thickness_range = (float(low), float(high))
        self.z_low = template.region_z_bounds[0]

        self.sub_idx = template.indices("substrate")
        self.film_idx = template.indices("film")
        self.region_idx = template.indices("region")
        self.sub_frac = sub_frac = self.to_frac(np.asarray(template.substrate_coords))
        film_frac = self.to_frac(np.asarray(template.film_coords))
        z_margin = d_max / lattice[2, 2]
        z_low_frac = self.z_low / lattice[2, 2]
        near_sub = sub_frac[:, 2] > z_low_frac - z_margin
        self.near_sub_frac = sub_frac[near_sub]
        self.near_sub_atoms = self.sub_idx[near_sub]
        near_film = film_frac[:, 2] < z_margin
        self.near_film_frac = film_frac[near_film]
        self.near_film_kind = self.kind[self.film_idx[near_film]]
        top = sub_frac[:, 2] > z_low_frac - template.system.layer_tolerance / lattice[2, 2]
        self.top_substrate_idx = self.sub_idx[top]

        self._check_fixed_atoms(sub_frac, film_frac)
        if settings.exchanges:
            self._check_exchanges(settings.exchanges)

    # ------------------------------------------------------------------ geometry
    def to_frac(self, cart: np.ndarray) -> np.ndarray:
        """Cartesian to fractional coordinates."""
        return np.linalg.solve(self.lattice.T, np.asarray(cart).T).T

    def squared_distances(self, a_frac: np.ndarray, b_frac: np.ndarray) -> np.ndarray:
        """Squared minimum-image distances, (len a, len b), periodic in-plane.

        Written out for the template's cell shape (a along x, b in xy, c along z) because
        this is the inner loop of the fill.
        """
        lat = self.lattice
        dx = a_frac[:, None, 0] - b_frac[None, :, 0]
        dy = a_frac[:, None, 1] - b_frac[None, :, 1]
        dz = a_frac[:, None, 2] - b_frac[None, :, 2]
        dx -= np.rint(dx)
        dy -= np.rint(dy)
        x = dx * lat[0, 0] + dy * lat[1, 0]
        y = dy * lat[1, 1]
        z = dz * lat[2, 2]
        return x * x + y * y + z * z

    # ------------------------------------------------------------------ checks
    def _check_fixed_atoms(self, sub_frac: np.ndarray, film_frac: np.ndarray) -> None:
        """The slabs themselves must respect the minimum distances."""
        t = self.template
        for role, frac, idx in (
            ("substrate", sub_frac, self.sub_idx),
            ("film", film_frac, self.film_idx),
        ):
            d2 = self.squared_distances(frac, frac)
            np.fill_diagonal(d2, np.inf)
            limit = self.dmin_sq[self.kind[idx][:, None], self.kind[idx][None, :]]
            bad = np.argwhere(d2 < limit - 1e-9)
            if len(bad):
                i, j = bad[0]
                pair = f"{t.species[idx[i]]}-{t.species[idx[j]]}"
                raise ConfigurationError(
                    f"the {role} slab itself has a {pair} pair at {np.sqrt(d2[i, j]):.3f} Å, "
                    f"below the minimum {np.sqrt(limit[i, j]):.3f} Å; lower that min_distance"
                )

    def _check_exchanges(self, exchanges: dict[str, int]) -> None:
        region_species = set(self.template.region_composition)
        top_species = {self.template.species[i] for i in self.top_substrate_idx}
        for key, count in exchanges.items():
            parts = key.split("-")
            if len(parts) != 2 or count < 0:
                raise ConfigurationError(f"exchange {key}={count}: use 'Region-Substrate': n >= 0")
            if parts[0] not in region_species or parts[1] not in top_species:
                raise ConfigurationError(
                    f"exchange {key}: {parts[0]} must be a region species {sorted(region_species)} "
                    f"and {parts[1]} a top-substrate-plane species {sorted(top_species)}"
                )

    # ------------------------------------------------------------------ generation
    def generate(
        self, n: int, seed: int = 0, progress: Callable[[int], None] | None = None, start: int = 0
    ) -> InterfaceSet:
        """Structures ``start .. start + n - 1`` of the stream defined by ``seed``.

        Structure i depends only on (seed, i), so batches can be drawn in pieces or resumed.
        """
        if n < 0:
            raise ConfigurationError(f"number of structures must be >= 0, got {n}")
        coords = np.empty((n, self.template.n_atoms, 3))
        infos = []
        for k in range(n):
            coords[k], info = self.generate_one(seed, start + k)
            infos.append(info)
            if progress is not None:
                progress(1)
        return InterfaceSet(
            self.lattice, self.template.species, coords, infos, self.template.template_hash
        )

    def generate_one(self, seed: int, index: int) -> tuple[np.ndarray, dict]:
        """Fractional coordinates (template order) and provenance of structure ``index``."""
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
        failed = -1
        restarts = 0
        for restarts in range(self.settings.max_restarts + 1):  # noqa: B007 - reported below
            thickness = float(rng.uniform(*self.thickness_range))
            shift = rng.random(2)
            swaps, drawn = self._draw_exchanges(rng) if self.settings.exchanges else ([], {})
            frac, failed = self._fill(rng, thickness, shift, swaps)
            if frac is not None:
                break
        else:
            el = self.template.species[failed]
            limits = {k: v for k, v in self.min_distances.items() if el in k.split("-")}
            raise RegionFillError(
                f"could not place the region's {el} atoms (structure {index}, seed {seed}) in "
                f"{self.settings.max_restarts + 1} attempts: a "
                f"{self.thickness_range[0]:.2f}-{self.thickness_range[1]:.2f} Å region is too "
                f"thin for {self.template.region_composition} at minimum distances {limits}"
            )
        moving = np.concatenate([self.region_idx, [j for _, j in swaps]]).astype(int)
        d2 = self.squared_distances(frac[moving], frac)
        d2[np.arange(len(moving)), moving] = np.inf
        info = {
            "seed": int(seed),
            "index": int(index),
            "region_thickness": thickness,
            "shift_a": float(shift[0]),
            "shift_b": float(shift[1]),
            "restarts": restarts,
            "min_region_distance": float(np.sqrt(d2.min())),
            "template_hash": self.template.template_hash,
        }
        for key, count in drawn.items():
            a, b = key.split("-")
            info[f"exchanges_{a}_{b}"] = sum(
                1
                for i, j in swaps
                if self.template.species[i] == a and self.template.species[j] == b
            )
            info[f"exchanges_{a}_{b}_drawn"] = count
        return frac, info

    def _draw_exchanges(self, rng: np.random.Generator) -> tuple[list[tuple[int, int]], dict]:
        """Pairs (region atom, top-substrate atom) whose places are exchanged.

        The region atom takes the substrate site (checked against the slab), the substrate
        atom is then placed in the region like the other region atoms.
        """
        species = self.template.species
        swaps: list[tuple[int, int]] = []
        drawn: dict[str, int] = {}
        sub_frac = self.sub_frac
        sub_pos = {int(a): k for k, a in enumerate(self.sub_idx)}
        sub_kind = self.kind[self.sub_idx].copy()
        for key, most in self.settings.exchanges.items():
            region_el, sub_el = key.split("-")
            wanted = int(rng.integers(0, most + 1))
            drawn[key] = wanted
            used = {i for pair in swaps for i in pair}
            pool_r = [int(i) for i in self.region_idx if species[i] == region_el and i not in used]
            pool_s = [
                int(i) for i in self.top_substrate_idx if species[i] == sub_el and i not in used
            ]
            for _ in range(min(wanted, len(pool_r), len(pool_s))):
                order = rng.permutation(len(pool_s))
                for k in order:
                    j = pool_s[k]
                    pos = sub_pos[j]
                    d2 = self.squared_distances(sub_frac[[pos]], sub_frac)[0]
                    d2[pos] = np.inf
                    kind_r = self.kind[pool_r[0]]
                    if np.all(d2 >= self.dmin_sq[kind_r, sub_kind]):
                        i = pool_r.pop(int(rng.integers(len(pool_r))))
                        pool_s.remove(j)
                        sub_kind[pos] = kind_r
                        swaps.append((i, j))
                        break
        return swaps, drawn

    def _fill(
        self,
        rng: np.random.Generator,
        thickness: float,
        shift: np.ndarray,
        swaps: list[tuple[int, int]],
    ) -> tuple[np.ndarray | None, int]:
        """Fractional coordinates of the whole structure, or (None, atom that did not fit)."""
        c = self.lattice[2, 2]
        t = self.template
        sub_kind = self.kind[self.near_sub_atoms].copy()
        near_pos = {int(a): k for k, a in enumerate(self.near_sub_atoms)}
        for i, j in swaps:
            sub_kind[near_pos[j]] = self.kind[i]
        film = self.near_film_frac + np.array([shift[0], shift[1], (self.z_low + thickness) / c])
        fixed = np.concatenate([self.near_sub_frac, film])
        kinds_fixed = np.concatenate([sub_kind, self.near_film_kind])

        swapped_region = {i for i, _ in swaps}
        to_place = [int(i) for i in self.region_idx if i not in swapped_region]
        to_place += [j for _, j in swaps]
        # hardest atoms first: largest exclusion radius against the others
        reach = self.dmin.max(axis=1)
        to_place.sort(key=lambda a: -reach[self.kind[a]])

        n_fixed = len(fixed)
        points = np.concatenate([fixed, np.zeros((len(to_place), 3))])
        kinds = np.concatenate([kinds_fixed, np.zeros(len(to_place), dtype=int)])
        placed = {}
        k_batch = self.settings.candidates_per_try
        z0, dz = self.z_low / c, thickness / c
        count = n_fixed
        for atom in to_place:
            kind = self.kind[atom]
            limit = self.dmin_sq[kind, kinds[:count]]
            for _ in range(self.settings.max_tries_per_atom):
                cand = rng.random((k_batch, 3))
                cand[:, 2] = z0 + dz * cand[:, 2]
                ok = np.all(self.squared_distances(cand, points[:count]) >= limit, axis=1)
                if ok.any():
                    point = cand[np.argmax(ok)]
                    break
            else:
                return None, atom
            placed[atom] = point
            points[count] = point
            kinds[count] = kind
            count += 1

        region_cart = np.zeros((len(self.region_idx), 3))
        slot = {int(a): k for k, a in enumerate(self.region_idx)}
        for atom, point in placed.items():
            if atom in slot:
                region_cart[slot[atom]] = point @ self.lattice
        sub_xyz = np.asarray(t.substrate_coords)
        sub_pos = {int(a): k for k, a in enumerate(self.sub_idx)}
        for i, j in swaps:
            region_cart[slot[i]] = sub_xyz[sub_pos[j]]
        cart = t.assemble(thickness, tuple(shift), region_cart)
        for _, j in swaps:
            cart[j] = placed[j] @ self.lattice
        return wrap_fractional(self.to_frac(cart)), -1
