"""The phase library: crystal structures of the competing phases that decide the convex hulls.

The Materials Project cannot be reached from the clusters this package runs on, so the phases
travel with the package (``cryin_flows/data/phases.yaml``, each with its literature source) and
a user adds more with a folder of YAML files (the same format) or CIFs (one phase per file,
named by the file's stem). Every phase is relaxed by the chosen calculator before its energy is
used (``cryin_flows.stability.energies``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

import yaml
from pymatgen.core import Composition, Structure
from pymatgen.transformations.standard_transformations import (
    OrderDisorderedStructureTransformation,
)

from cryin_flows.data import expand_record, load_bulk
from cryin_flows.errors import ConfigurationError

PHASES_FILE = "phases.yaml"


@dataclass(frozen=True)
class Phase:
    """One competing phase: its name, structure (unrelaxed) and where the structure is from."""

    name: str
    structure: Structure
    source: str

    @property
    def elements(self) -> frozenset[str]:
        return frozenset(el.symbol for el in self.structure.composition.elements)

    @property
    def is_element(self) -> bool:
        return len(self.elements) == 1


def _build(name: str, rec: dict, label: str) -> Structure:
    if "bulk" in rec:
        structure = load_bulk(rec["bulk"])
    else:
        structure = expand_record(rec, label)
        if rec.get("order") != "ewald" and not structure.is_ordered:
            raise ConfigurationError(f"{label}: partial occupancies need 'order: ewald'")
        if not rec.get("conventional"):
            structure = structure.get_primitive_structure()
    if rec.get("supercell"):
        structure = structure.make_supercell(rec["supercell"], in_place=False)
    if rec.get("order") == "ewald":
        structure = _lowest_ewald_ordering(structure, rec.get("oxidation_states"), label)
    if "formula" in rec and Composition(rec["formula"]).reduced_formula != (
        structure.composition.reduced_formula
    ):
        raise ConfigurationError(
            f"{label}: expanded to {structure.composition.reduced_formula}, "
            f"the record says {rec['formula']}"
        )
    return structure


def _lowest_ewald_ordering(structure: Structure, oxidation_states, label: str) -> Structure:
    if not oxidation_states:
        raise ConfigurationError(f"{label}: 'order: ewald' needs 'oxidation_states'")
    charged = structure.copy()
    charged.add_oxidation_state_by_element(oxidation_states)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranked = OrderDisorderedStructureTransformation().apply_transformation(
            charged, return_ranked_list=1
        )
    ordered = ranked[0]["structure"]
    ordered.remove_oxidation_states()
    return ordered


def _phases_from_yaml(path: Path | None, text: str) -> tuple[list[Phase], dict[str, list[str]]]:
    where = str(path) if path else f"bundled {PHASES_FILE}"
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("phases", {}), dict):
        raise ConfigurationError(f"{where}: expected a mapping 'phases: {{name: record}}'")
    phases = []
    for name, rec in data.get("phases", {}).items():
        if not isinstance(rec, dict) or not rec.get("source"):
            raise ConfigurationError(f"{where}: phase {name!r} needs a 'source'")
        structure = _build(name, rec, f"{where}: phase {name!r}")
        phases.append(Phase(name=str(name), structure=structure, source=rec["source"]))
    return phases, {k: list(v) for k, v in (data.get("chemistries") or {}).items()}


def _phase_from_cif(path: Path) -> Phase:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            structure = Structure.from_file(path)
    except Exception as exc:  # pymatgen raises many kinds for a bad CIF
        raise ConfigurationError(f"{path}: not a readable CIF: {exc}") from None
    if not structure.is_ordered:
        raise ConfigurationError(f"{path}: partial occupancies; give an ordered structure")
    return Phase(name=path.stem, structure=structure, source=f"user CIF {path}")


@dataclass
class PhaseLibrary:
    """Phases by name, and named chemistries (the phases their hulls need)."""

    phases: dict[str, Phase] = field(default_factory=dict)
    chemistries: dict[str, list[str]] = field(default_factory=dict)

    def add(self, phases: list[Phase], chemistries: dict[str, list[str]] | None = None) -> None:
        for phase in phases:
            self.phases[phase.name] = phase  # a user's phase of the same name replaces ours
        self.chemistries.update(chemistries or {})

    def elements_of(self, chemistry: str | list[str]) -> frozenset[str]:
        """The elements of a named chemistry, or of a list of element symbols / formulas."""
        if isinstance(chemistry, str) and chemistry in self.chemistries:
            items = [
                "-".join(self.phases[p].elements) if p in self.phases else p
                for p in self.chemistries[chemistry]
            ]
            return self.elements_of(items)
        items = chemistry.replace("|", "-").split("-") if isinstance(chemistry, str) else chemistry
        out = set()
        for item in (part for entry in items for part in entry.split("-")):
            try:
                out |= {el.symbol for el in Composition(item).elements}
            except (ValueError, KeyError):
                raise ConfigurationError(
                    f"unknown chemistry {item!r}: give element symbols (Li-Y-Cl) or one of "
                    f"{', '.join(sorted(self.chemistries))}"
                ) from None
        return frozenset(out)

    def __getitem__(self, name: str) -> Phase:
        if name not in self.phases:
            raise ConfigurationError(
                f"phase {name!r} is not in the phase library "
                f"({len(self.phases)} phases: {', '.join(sorted(self.phases))})"
            )
        return self.phases[name]

    def select(self, chemistry: str | list[str]) -> list[Phase]:
        """Every phase whose elements lie in ``chemistry`` (named, or element symbols). Raises
        a one-line error naming what is missing: an element without its elemental reference,
        or a phase a named chemistry lists."""
        elements = self.elements_of(chemistry)
        chosen = [p for p in self.phases.values() if p.elements <= elements]
        references = {next(iter(p.elements)) for p in chosen if p.is_element}
        missing = sorted(elements - references)
        if isinstance(chemistry, str) and chemistry in self.chemistries:
            missing += [n for n in self.chemistries[chemistry] if n not in self.phases]
        if missing:
            label = chemistry if isinstance(chemistry, str) else "-".join(sorted(elements))
            raise ConfigurationError(
                f"phase library lacks for {label}: {', '.join(missing)} (elemental references "
                "are named by their element); add them with a folder of YAML/CIF files "
                "(--phases DIR)"
            )
        return sorted(chosen, key=lambda p: (len(p.elements), p.name))


@cache
def _bundled() -> tuple[tuple[Phase, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    phases, chemistries = _phases_from_yaml(
        None, files("cryin_flows.data").joinpath(PHASES_FILE).read_text()
    )
    return tuple(phases), tuple((k, tuple(v)) for k, v in chemistries.items())


def load_library(folder: str | Path | None = None) -> PhaseLibrary:
    """The bundled library, plus the phases of ``folder`` (``*.yaml``/``*.yml`` in the bundled
    format, ``*.cif`` one phase each) when given."""
    phases, chemistries = _bundled()
    library = PhaseLibrary()
    library.add(list(phases), {k: list(v) for k, v in chemistries})
    if folder is not None:
        folder = Path(folder)
        if not folder.is_dir():
            raise ConfigurationError(f"phase folder {folder} does not exist")
        found = sorted(folder.glob("*.y*ml")) + sorted(folder.glob("*.cif"))
        if not found:
            raise ConfigurationError(f"phase folder {folder} has no *.yaml or *.cif files")
        for path in found:
            if path.suffix == ".cif":
                library.add([_phase_from_cif(path)])
            else:
                library.add(*_phases_from_yaml(path, path.read_text()))
    return library
