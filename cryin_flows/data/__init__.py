"""Bundled bulk structures and interface-system presets.

Bulk structures are stored as space group + lattice + Wyckoff sites (SPEC.md §1) and expanded
with pymatgen, so the data file stays readable and citable.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from pymatgen.core import Lattice, Structure

from cryin_flows.errors import ConfigurationError

_BULK_FILE = "bulk_structures.json"


@cache
def _bulk_records() -> dict[str, dict]:
    return json.loads(files(__package__).joinpath(_BULK_FILE).read_text())


def available_bulks() -> list[str]:
    """Names of the bundled bulk structures."""
    return sorted(_bulk_records())


def load_bulk(name: str) -> Structure:
    """Expand a bundled bulk structure (e.g. ``"LiCoO2"``) into a pymatgen ``Structure``."""
    records = _bulk_records()
    if name not in records:
        raise ConfigurationError(
            f"unknown bulk structure {name!r}; bundled: {', '.join(available_bulks())}"
        )
    return expand_record(records[name], f"bundled bulk {name!r}")


def expand_record(rec: dict, label: str) -> Structure:
    """A structure from a record of space group, lattice (a, b, c, alpha, beta, gamma) and
    Wyckoff sites (``species``: a symbol or a partial occupancy ``{symbol: fraction}``,
    ``coords``). ``formula_units`` (when given) is checked; ``label`` names the record in
    errors."""
    try:
        lattice = Lattice.from_parameters(**rec["lattice"])
        species = [site["species"] for site in rec["sites"]]
        coords = [site["coords"] for site in rec["sites"]]
        structure = Structure.from_spacegroup(rec["spacegroup"], lattice, species, coords)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"{label}: cannot build the structure: {exc!r}") from None
    expected = rec.get("formula_units")
    if expected is not None:
        _reduced, n_fu = structure.composition.get_reduced_composition_and_factor()
        if round(n_fu) != expected:
            raise ConfigurationError(
                f"{label} expanded to {structure.composition.formula}, expected Z = {expected}"
            )
    return structure
