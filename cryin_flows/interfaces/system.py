"""The parameters that define an interface system, and the bundled presets."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator
from pymatgen.core import Structure

from cryin_flows.data import load_bulk
from cryin_flows.errors import ConfigurationError
from cryin_flows.utils import SerializableModel


class SlabSpec(BaseModel):
    """One side of the interface: which crystal, which plane, how thick, which supercell."""

    bulk: str = Field(description="Bundled bulk name (e.g. 'LiCoO2') or a structure file path")
    miller: tuple[int, int, int] = Field(description="Miller index in the bulk's given cell")
    layers: int = Field(ge=1, description="Atomic planes in the slab before any Tasker move")
    supercell: list[list[int]] | None = Field(
        None, description="2x2 in-plane supercell of the reduced surface cell; None = ZSL search"
    )
    termination: int | None = Field(
        None, description="Index of the bottom plane within one bulk period; None = automatic"
    )
    tasker2b: bool = Field(False, description="Move half the bottom plane to the top (polar fix)")

    def load_structure(self) -> Structure:
        """The bulk structure, from a file if ``bulk`` is a path, else from the bundled data."""
        path = Path(self.bulk)
        if path.suffix and path.exists():
            try:
                return Structure.from_file(path)
            except Exception as exc:
                raise ConfigurationError(f"cannot read bulk structure file {path}: {exc}") from exc
        if path.suffix:
            raise ConfigurationError(f"bulk structure file {path} does not exist")
        return load_bulk(self.bulk)


class InterfaceSystem(SerializableModel):
    """A substrate|film interface with a disordered region of given composition between them."""

    name: str = Field("custom", description="Label recorded in every output")
    substrate: SlabSpec = Field(description="The lower slab (stiff side: its lattice is kept)")
    film: SlabSpec = Field(description="The upper slab, strained onto the substrate's lattice")
    region_composition: dict[str, int] = Field(
        description="Atoms placed at random between the slabs, e.g. {'Li': 9, 'Sc': 3, 'Cl': 18}"
    )
    region_thickness: tuple[float, float] = Field(
        (4.0, 6.0), description="Range (Å) of the plane-to-plane gap that holds the region"
    )
    vacuum: float = Field(
        14.0, gt=0, description="Vacuum (Å) above the film at the thickest region"
    )
    lateral_lattice: tuple[float, float, float] | None = Field(
        None,
        description="In-plane cell (a, b in Å, gamma in degrees) to strain both slabs onto; "
        "None = the substrate supercell as built",
    )
    species_order: list[str] | None = Field(
        None, description="Order of the contiguous species blocks; None = by electronegativity"
    )
    oxidation_states: dict[str, float] | None = Field(
        None, description="Ionic charges for slab dipoles and distance defaults; None = guessed"
    )
    max_length_strain: float = Field(0.03, gt=0, description="Largest film length strain allowed")
    max_angle_strain: float = Field(0.05, gt=0, description="Largest relative angle strain allowed")
    max_match_area: float = Field(400.0, gt=0, description="Largest area (Å²) the search tries")
    layer_tolerance: float = Field(0.3, gt=0, description="Height tolerance (Å) of one plane")

    @field_validator("region_thickness")
    @classmethod
    def _ordered_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1]:
            raise ValueError(f"region_thickness must satisfy 0 < low <= high, got {value}")
        return value

    @field_validator("region_composition")
    @classmethod
    def _positive_counts(cls, value: dict[str, int]) -> dict[str, int]:
        if not value or any(n < 0 for n in value.values()) or sum(value.values()) == 0:
            raise ValueError(f"region_composition needs positive counts, got {value}")
        return {k: int(v) for k, v in value.items() if v > 0}

    @model_validator(mode="after")
    def _supercells_together(self) -> InterfaceSystem:
        if (self.substrate.supercell is None) != (self.film.supercell is None):
            raise ValueError("give both supercell matrices, or neither to search for a match")
        return self


LSC_LCO = InterfaceSystem(
    name="lsc-lco",
    substrate=SlabSpec(bulk="LiCoO2", miller=(1, 1, 0), layers=4, supercell=[[1, 2], [-3, 3]]),
    film=SlabSpec(
        bulk="Li3ScCl6", miller=(1, 0, 0), layers=6, supercell=[[1, 1], [-2, 1]], tasker2b=True
    ),
    region_composition={"Li": 9, "Sc": 3, "Cl": 18},
    region_thickness=(4.0, 6.0),
    vacuum=14.0,
    species_order=["Li", "Sc", "Co", "Cl", "O"],
    oxidation_states={"Li": 1, "Sc": 3, "Co": 3, "Cl": -1, "O": -2},
)

# A small companion oxide|halide interface (80 atoms: Li48 O16 Cl16, 60 Å²) with the same
# kind of disordered region (Li4Cl4), for runs that must show physics in minutes on a CPU.
LI2O_LICL = InterfaceSystem(
    name="li2o-licl",
    substrate=SlabSpec(bulk="Li2O", miller=(1, 1, 0), layers=4),
    film=SlabSpec(bulk="LiCl", miller=(1, 1, 0), layers=4),
    region_composition={"Li": 4, "Cl": 4},
    region_thickness=(3.0, 4.0),
    max_length_strain=0.05,
    max_match_area=80.0,
)

PRESETS: dict[str, InterfaceSystem] = {
    "lsc-lco": LSC_LCO,
    "li2o-licl": LI2O_LICL,
    # The paper's DFT-relaxed LCO lateral cell (SPEC §1): both slabs strained onto it.
    "lsc-lco-paper-cell": LSC_LCO.model_copy(
        update={"name": "lsc-lco-paper-cell", "lateral_lattice": (12.46997, 17.19967, 75.6674)}
    ),
    # LSC|LCO with the supercells found by pymatgen's ZSL search instead of given.
    "lsc-lco-search": LSC_LCO.model_copy(
        update={
            "name": "lsc-lco-search",
            "substrate": LSC_LCO.substrate.model_copy(update={"supercell": None}),
            "film": LSC_LCO.film.model_copy(update={"supercell": None}),
        }
    ),
}

DEFAULT_PRESET = "lsc-lco"


def get_preset(name: str) -> InterfaceSystem:
    """A bundled interface system by name."""
    if name not in PRESETS:
        raise ConfigurationError(f"unknown preset {name!r}; available: {', '.join(PRESETS)}")
    return PRESETS[name].model_copy(deep=True)
