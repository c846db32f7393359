"""Energies of phases and candidates from a calculator, as pymatgen entries.

Every structure is relaxed (cell and positions, FIRE on ASE's ``FrechetCellFilter``) to the
paper's 0.05 eV/Å and its energy becomes a ``ComputedStructureEntry``. How energies relate to
the Materials Project's (MP2020) scheme is the calculator's ``energy_scheme``:

* ``mp2020-included``: the calculator was trained on MP2020-corrected energies (CHGNet and the
  potentials this package trains on CHGNet labels): its energies already carry the fitted
  anion and +U corrections, and the elemental references (solid Cl2, alpha-O2, as MP's) carry
  none, so entries are used as they come;
* ``mp2020``: raw GGA/GGA+U energies with MP-compatible settings (VASP with MP's U values,
  MACE-MP-type potentials): pymatgen's ``MaterialsProject2020Compatibility`` is applied, as
  seed 003 did with MACE-MPA-0;
* ``none``: energies used as they come (a calculator consistent with itself, e.g. one DFT
  setting for every phase including the gases).

Gas references (Cl2, O2) are where universal potentials are weakest; in both MP schemes they
are the molecular solids MP uses and the fitted anion corrections of MP2020 absorb the error.
"""

from __future__ import annotations

import warnings

from pymatgen.core import Structure
from pymatgen.entries.computed_entries import ComputedStructureEntry

from cryin_flows.errors import ConfigurationError, CryinError
from cryin_flows.potentials.calculators import STUDY_POTENTIAL
from cryin_flows.stability.relaxation import RelaxedEnergy

ENERGY_SCHEMES = {
    "mp2020-included": "energies already MP2020-corrected (the calculator was trained on them)",
    "mp2020": "raw GGA/GGA+U energies, pymatgen's MaterialsProject2020Compatibility applied",
    "none": "energies used as computed, no corrections",
}
#: the scheme of each calculator name this package knows (others must say theirs); the study's
#: potential learns CHGNet's labels offline (VASP-trained ones: say ``none``)
CALCULATOR_SCHEMES = {"chgnet": "mp2020-included", STUDY_POTENTIAL: "mp2020-included"}
#: MP's Hubbard U (eV) for oxides and fluorides of these elements (MPRelaxSet), used to mark
#: entries GGA+U when the MP2020 compatibility is applied
MP_HUBBARD_U = {"Co": 3.32, "Cr": 3.7, "Fe": 5.3, "Mn": 3.9, "Mo": 4.38, "Ni": 6.2, "V": 3.25,
                "W": 6.2}  # fmt: skip


def scheme_of(calculator: str, scheme: str | None = None) -> str:
    """The energy scheme for ``calculator``: ``scheme`` when given, else the known one."""
    scheme = scheme or CALCULATOR_SCHEMES.get(calculator)
    if scheme is None:
        raise ConfigurationError(
            f"calculator {calculator!r}: say how its energies relate to MP2020 "
            f"(--energy-scheme: {', '.join(ENERGY_SCHEMES)})"
        )
    if scheme not in ENERGY_SCHEMES:
        raise ConfigurationError(
            f"unknown energy scheme {scheme!r}; choose from {', '.join(ENERGY_SCHEMES)}"
        )
    return scheme


def to_entries(results: list[RelaxedEnergy], scheme: str) -> list[ComputedStructureEntry]:
    """pymatgen entries of relaxed energies under ``scheme`` (``ENERGY_SCHEMES``); with
    ``mp2020`` each entry is marked as MP's settings would run it (GGA, or GGA+U with MP's U
    for oxides/fluorides of ``MP_HUBBARD_U`` elements) and corrected; an entry the
    compatibility refuses raises a one-line error naming it. Energies from a DFT run carry that
    run's own ``parameters`` instead."""
    entries = []
    for r in results:
        structure = Structure.from_dict(r.structure)
        entry = ComputedStructureEntry(structure, r.energy, entry_id=r.name, data={"name": r.name})
        if scheme == "mp2020" and r.parameters:
            entry.parameters = dict(r.parameters)  # what the DFT run used
        elif scheme == "mp2020":
            symbols = {el.symbol for el in structure.composition.elements}
            plus_u = bool(symbols & {"O", "F"}) and bool(symbols & set(MP_HUBBARD_U))
            hubbards = {s: MP_HUBBARD_U[s] for s in symbols & set(MP_HUBBARD_U)} if plus_u else {}
            entry.parameters = {
                "run_type": "GGA+U" if plus_u else "GGA",
                "is_hubbard": plus_u,
                "hubbards": hubbards,
            }
        entries.append(entry)
    if scheme != "mp2020":
        return entries
    from pymatgen.entries.compatibility import MaterialsProject2020Compatibility

    compat = MaterialsProject2020Compatibility(check_potcar=False)
    out = []
    for entry in entries:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            processed = compat.process_entry(entry)
        if processed is None:
            raise CryinError(f"{entry.entry_id}: MaterialsProject2020Compatibility refused it")
        out.append(processed)
    return out
