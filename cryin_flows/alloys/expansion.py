"""The Fe-Ni-Cr cluster expansion of Dismai-Bench: cluster counts, energies and SRO.

Counts follow the published script (``benchmark/alloy/cluster_counts``): column ``0NN_X`` is
the fraction of atoms that are X; column ``sNN_X-Y`` (species sorted) is the number of
ordered neighbour pairs (atom, neighbour in shell s) of species {X, Y}, counted from every
atom present, divided by twice the number of atoms present (so, on a full lattice, the
unordered pairs per atom). Vacancies take part in no pair. The published script rounds each
count to 5 decimals (``decimals=5``); the Monte Carlo uses exact counts.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

import numpy as np
from pydantic import BaseModel, Field

from cryin_flows.alloys.lattice import N_SHELLS, SHELL_SIZES, FCCLattice
from cryin_flows.errors import ConfigurationError

SPECIES = ("Cr", "Fe", "Ni")
PAIRS = tuple((a, b) for i, a in enumerate(SPECIES) for b in SPECIES[i:])  # Cr-Cr, Cr-Fe, ...
N_COLUMNS = len(SPECIES) + N_SHELLS * len(PAIRS)
VACANCY = -1
_CE_FILE = "dismai_alloy_cluster_expansion.json"

# pair column (0..5) of species indices (a, b); index 3 stands for a vacancy: no pair (6)
_PAIR_CODE = np.full((4, 4), len(PAIRS), dtype=np.int64)
for _k, (_a, _b) in enumerate(PAIRS):
    _i, _j = SPECIES.index(_a), SPECIES.index(_b)
    _PAIR_CODE[_i, _j] = _PAIR_CODE[_j, _i] = _k


def column_names() -> list[str]:
    """The 45 columns: ``0NN_Cr, 0NN_Fe, 0NN_Ni, 1NN_Cr-Cr, ..., 7NN_Ni-Ni``."""
    names = [f"0NN_{s}" for s in SPECIES]
    names += [f"{s}NN_{a}-{b}" for s in range(1, N_SHELLS + 1) for a, b in PAIRS]
    return names


class ClusterExpansion(BaseModel):
    """Effective cluster interactions (eV/atom) of the published Fe-Ni-Cr expansion."""

    constant: float = Field(description="Energy of the empty cluster, eV/atom")
    eci: list[float] = Field(description="Interaction of each of the 45 columns, eV/atom")
    shell_multiplicity: list[int] = Field(
        description="Dimers per atom in shells 0..7 (the probability divisors)"
    )
    composition: dict[str, int] = Field(description="Atoms per species of the 256-atom cell")
    source: str = Field("", description="Where the coefficients come from")

    @classmethod
    @cache
    def bundled(cls) -> ClusterExpansion:
        """The expansion shipped with the package (Dismai-Bench's, MIT licence)."""
        data = json.loads(files("cryin_flows.data").joinpath(_CE_FILE).read_text())
        if data["columns"] != column_names():
            raise ConfigurationError(f"{_CE_FILE}: unexpected columns")
        return cls(
            constant=data["constant"],
            eci=[data["eci"][c] for c in data["columns"]],
            shell_multiplicity=data["shell_multiplicity"],
            composition=data["composition"],
            source=data["source"],
        )

    def pair_interactions(self) -> np.ndarray:
        """(7, 3, 3) V[s, a, b]: the energy (eV) of one unordered a-b pair in shell s + 1."""
        v = np.zeros((N_SHELLS, 3, 3))
        for s in range(N_SHELLS):
            for k, (a, b) in enumerate(PAIRS):
                i, j = SPECIES.index(a), SPECIES.index(b)
                v[s, i, j] = v[s, j, i] = self.eci[len(SPECIES) + s * len(PAIRS) + k]
        return v

    def energy(self, counts: np.ndarray) -> np.ndarray:
        """Formation energy per atom (eV) of rows of cluster counts."""
        return np.asarray(counts) @ np.asarray(self.eci) + self.constant

    def probabilities(self, counts: np.ndarray) -> np.ndarray:
        """Cluster probabilities: each shell's dimer counts divided by its multiplicity."""
        divisor = np.repeat(
            np.asarray(self.shell_multiplicity, dtype=float), [3] + [len(PAIRS)] * N_SHELLS
        )
        return np.asarray(counts) / divisor


def occupation_codes(symbols, lattice: FCCLattice, positions) -> np.ndarray:
    """(n_sites,) species index on each site (``VACANCY`` where empty) of one structure whose
    atoms sit on the lattice's sites."""
    occ = np.full(lattice.n_sites, VACANCY, dtype=np.int8)
    sites = lattice.site_index(np.asarray(positions))
    if len(np.unique(sites)) != len(sites):
        raise ConfigurationError("two atoms on one lattice site")
    unknown = sorted(set(symbols) - set(SPECIES))
    if unknown:
        raise ConfigurationError(f"species {', '.join(unknown)} are not in the Fe-Ni-Cr expansion")
    occ[sites] = [SPECIES.index(s) for s in symbols]
    return occ


def atoms_occupations(atoms_list, lattice: FCCLattice) -> np.ndarray:
    """(n, n_sites) ``occupation_codes`` of on-lattice ASE structures."""
    return np.stack(
        [occupation_codes(a.get_chemical_symbols(), lattice, a.positions) for a in atoms_list]
    )


def cluster_counts(
    occupations: np.ndarray, lattice: FCCLattice, decimals: int | None = None, chunk: int = 512
) -> np.ndarray:
    """(n, 45) cluster counts of ``occupations`` (n, n_sites) species indices (``VACANCY``
    for an empty site); ``decimals`` rounds as the published script does (5)."""
    occ = np.atleast_2d(np.asarray(occupations)).astype(np.int64)
    out = np.zeros((len(occ), N_COLUMNS))
    neighbours = lattice.neighbours
    bounds = np.cumsum((0, *SHELL_SIZES))
    n_codes = len(PAIRS) + 1
    for start in range(0, len(occ), chunk):
        part = occ[start : start + chunk]
        n_atoms = (part >= 0).sum(axis=1)
        rows = np.arange(len(part))[:, None]
        for k in range(len(SPECIES)):
            out[start : start + len(part), k] = (part == k).sum(axis=1) / n_atoms
        code = np.where(part < 0, 3, part)
        for s in range(N_SHELLS):
            columns = neighbours[:, bounds[s] : bounds[s + 1]]
            pair = _PAIR_CODE[code[:, :, None], code[:, columns]].reshape(len(part), -1)
            flat = (rows * n_codes + pair).ravel()
            tally = np.bincount(flat, minlength=len(part) * n_codes).reshape(len(part), n_codes)
            first = len(SPECIES) + s * len(PAIRS)
            out[start : start + len(part), first : first + len(PAIRS)] = tally[:, :-1] / (
                2 * n_atoms[:, None]
            )
    return np.around(out, decimals) if decimals is not None else out


def warren_cowley(counts: np.ndarray, shells: tuple[int, ...] = (1, 2)) -> dict[str, np.ndarray]:
    """Warren-Cowley SRO per structure, ``{"1NN_Fe-Ni": ..., ...}``, from cluster counts: the
    published script's formula, 1 - p(B|A) / c_B averaged over both orders for A ≠ B."""
    counts = np.atleast_2d(counts)
    names = column_names()

    def c(name: str) -> np.ndarray:
        return counts[:, names.index(name)]

    def pair(s: int, a: str, b: str) -> np.ndarray:
        return c(f"{s}NN_{min(a, b)}-{max(a, b)}")

    def around(s: int, a: str) -> np.ndarray:  # pairs of shell s an atom a takes part in
        return sum(pair(s, a, b) * (2 if b == a else 1) for b in SPECIES)

    sro = {}
    for s in shells:
        for a, b in (("Fe", "Ni"), ("Cr", "Fe"), ("Cr", "Ni")):
            ab = pair(s, a, b)
            sro[f"{s}NN_{a}-{b}"] = 1 - 0.5 * (
                ab / around(s, a) / c(f"0NN_{b}") + ab / around(s, b) / c(f"0NN_{a}")
            )
        for a in ("Fe", "Cr", "Ni"):
            sro[f"{s}NN_{a}-{a}"] = 1 - 2 * pair(s, a, a) / around(s, a) / c(f"0NN_{a}")
    return sro
