"""Candidates for the screening funnel: from structure files, from WyFormer's Wyckoff records,
or generated here as pyxtal's random symmetric crystals (the offline generator).

WyFormer (the Wyckoff transformer of seed 003) writes its generated structures as a JSON list
(often ``.json.gz``) of records in ``pyxtal.from_random`` argument format::

    {"group": 164, "species": ["Li", "Y", "Cl"], "numIons": [3, 1, 6],
     "sites": [["1a", "2d"], ["1b"], ["6i"]]}

that is, a space group, the elements, their counts in the conventional cell and each element's
Wyckoff positions; pyxtal places atoms on those positions with random free coordinates and a
random lattice (which the funnel's relaxation then fixes). Built structures are reduced to
their primitive cells (fewer atoms to relax).
"""

from __future__ import annotations

import gzip
import itertools
import json
import warnings
from pathlib import Path

import numpy as np
from pymatgen.core import Composition, Structure

from cryin_flows.errors import ConfigurationError

STRUCTURE_SUFFIXES = (".cif", ".extxyz", ".xyz", ".traj", ".vasp", ".json", ".gz")


def read_structures(path: str | Path) -> list[tuple[str, Structure]]:
    """(name, structure) of every structure in ``path``: a CIF or POSCAR (one), an extxyz/traj
    (every frame, named ``stem:index``), a WyFormer ``.json``/``.json.gz`` (every record,
    built with pyxtal, seed 0), or a folder of such files."""
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in STRUCTURE_SUFFIXES)
        if not found:
            raise ConfigurationError(
                f"{path}: no structure files ({', '.join(STRUCTURE_SUFFIXES)})"
            )
        return [item for p in found for item in read_structures(p)]
    if not path.is_file():
        raise ConfigurationError(f"candidate file {path} does not exist")
    name = path.name.lower()
    if name.endswith((".json", ".json.gz")):
        records = _read_json(path)
        structures, _failed = from_wyckoff_records(records, seed=0, label=path.stem)
        if not structures:
            raise ConfigurationError(f"{path}: none of {len(records)} Wyckoff records built")
        return structures
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if name.endswith((".extxyz", ".xyz", ".traj")):
                from ase.io import read
                from pymatgen.io.ase import AseAtomsAdaptor

                frames = read(path, index=":")
                return [
                    (
                        atoms.info.get("name", f"{path.stem}:{i}"),
                        AseAtomsAdaptor.get_structure(atoms),
                    )
                    for i, atoms in enumerate(frames)
                ]
            return [(path.stem, Structure.from_file(path))]
    except Exception as exc:  # ase/pymatgen raise many kinds for a bad file
        raise ConfigurationError(f"{path}: cannot read structures: {exc}") from None


def _read_json(path: Path) -> list[dict]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt") as handle:
            records = json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"{path}: not a JSON list of Wyckoff records: {exc}") from None
    if not isinstance(records, list):
        raise ConfigurationError(f"{path}: expected a JSON list of Wyckoff records")
    return records


def from_wyckoff_records(
    records: list[dict], seed: int = 0, label: str = "wyformer", attempts: int = 5
) -> tuple[list[tuple[str, Structure]], dict[str, str]]:
    """Structures from WyFormer/pyxtal Wyckoff records (see the module docstring). Returns the
    built (name, structure) pairs and, for records pyxtal could not build, name -> reason."""
    from pyxtal import pyxtal

    rng = np.random.default_rng(seed)
    built, failed = [], {}
    for i, record in enumerate(records):
        name = f"{label}:{i}"
        try:
            group, species = int(record["group"]), list(record["species"])
            sites = [list(s) for s in record["sites"]]
            counts = record.get("numIons") or [
                sum(int(s[:-1]) for s in element_sites) for element_sites in sites
            ]
        except (KeyError, TypeError, ValueError) as exc:
            failed[name] = f"not a Wyckoff record ({exc!r})"
            continue
        multiplicities = [sum(int(s[:-1]) for s in element_sites) for element_sites in sites]
        if list(map(int, counts)) != multiplicities:
            failed[name] = (
                f"numIons {counts} do not match the sites' multiplicities {multiplicities}"
            )
            continue
        crystal = _pyxtal_build(pyxtal, group, species, multiplicities, sites, rng, attempts)
        if crystal is None:
            failed[name] = f"pyxtal could not place {species} on {sites} in group {group}"
        else:
            built.append((name, crystal))
    return built, failed


def _pyxtal_build(pyxtal_cls, group, species, counts, sites, rng, attempts):
    for _ in range(attempts):
        crystal = pyxtal_cls()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                crystal.from_random(
                    3, group, species, counts, sites=sites,
                    random_state=int(rng.integers(2**31)),
                )  # fmt: skip
        except Exception:  # pyxtal raises its own kinds when a placement fails
            continue
        if crystal.valid:
            return crystal.to_pymatgen().get_primitive_structure()
    return None


def charge_balanced_compositions(
    elements: list[str], max_atoms: int, min_atoms: int = 2
) -> list[Composition]:
    """Compositions containing every one of ``elements``, at most ``max_atoms`` atoms in the
    cell, that pymatgen can charge-balance with common oxidation states (reduced formulas,
    each once)."""
    seen, out = set(), []
    for counts in itertools.product(range(1, max_atoms + 1), repeat=len(elements)):
        if not min_atoms <= sum(counts) <= max_atoms:
            continue
        comp = Composition(dict(zip(elements, counts, strict=True)))
        if comp.reduced_formula in seen:
            continue
        seen.add(comp.reduced_formula)
        if comp.oxi_state_guesses(max_sites=-1):
            out.append(comp.reduced_composition)
    return out


def random_candidates(
    elements: list[str],
    n: int,
    seed: int = 0,
    max_atoms: int = 24,
    space_groups: list[int] | None = None,
    attempts: int = 200,
) -> list[tuple[str, Structure]]:
    """``n`` random symmetric crystals (pyxtal) of charge-balanced compositions of all
    ``elements`` (CSX-style ternaries: every element present), at most ``max_atoms`` atoms in
    the conventional cell, space groups drawn from ``space_groups`` (default 2-230). A
    one-line error when no composition fits or fewer than ``n`` could be built."""
    from pyxtal import pyxtal

    if n < 1:
        raise ConfigurationError("the number of candidates must be at least 1")
    compositions = charge_balanced_compositions(elements, max_atoms)
    if not compositions:
        raise ConfigurationError(
            f"no charge-balanced composition of {'-'.join(elements)} within {max_atoms} atoms"
        )
    groups = space_groups or list(range(2, 231))
    rng = np.random.default_rng(seed)
    out: list[tuple[str, Structure]] = []
    tries = 0
    while len(out) < n and tries < attempts * n:
        tries += 1
        comp = compositions[int(rng.integers(len(compositions)))]
        z = int(rng.integers(1, max(1, max_atoms // int(comp.num_atoms)) + 1))
        species = [el.symbol for el in comp.elements]
        counts = [int(comp[el]) * z for el in comp.elements]
        group = int(groups[int(rng.integers(len(groups)))])
        structure = _pyxtal_build(pyxtal, group, species, counts, None, rng, attempts=1)
        if structure is not None:
            out.append((f"pyxtal-{seed}-{len(out)}", structure))
    if len(out) < n:
        raise ConfigurationError(
            f"pyxtal built only {len(out)} of {n} {'-'.join(elements)} candidates "
            f"in {tries} tries; allow more atoms (--max-atoms) or space groups"
        )
    return out
