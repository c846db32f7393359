"""Output documents of the Li-transport stages: MD runs (trajectories in the data store),
their analysis, and the frozen-framework percolation barrier."""

from __future__ import annotations

from pydantic import ConfigDict, Field, computed_field

from cryin_flows.dynamics.analysis import SetTransport, StructureTransport
from cryin_flows.dynamics.diffusion import TransportFit
from cryin_flows.dynamics.md import MDSettings
from cryin_flows.dynamics.percolation import PESSettings
from cryin_flows.dynamics.trajectory import Trajectory
from cryin_flows.schemas.common import FileRef, OutputDoc


class MDDoc(OutputDoc):
    """MD of one or more structures at several temperatures, run side by side."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    task_label: str = "md"
    label: str = Field("", description="Which structures (a set name in the study)")
    calculator: str = Field(description="Calculator (name, or the study's potential)")
    settings: MDSettings = Field(description="MD settings")
    names: list[str] = Field(description="Structures run")
    temperatures: list[float] = Field(description="K")
    n_atoms: int = Field(description="Atoms of each run's supercell")
    supercell: list[int] = Field(description="Repeats of the input cell along a, b, c")
    production_ps: float = Field(description="Production of each run, ps")
    mean_temperatures: list[float] = Field(description="Mean production temperature per run")
    seconds: float = Field(description="Wall time of this job's MD (a resumed job: its part)")
    folder: str = Field(description="Where the checkpoint and frames are (a rerun resumes)")
    trajectories: list[Trajectory] = Field(description="Production frames per run, data store")


class TransportDoc(OutputDoc):
    """D, σ, E_a and the MD checks of the structures of MD documents; per set, Li D by region
    and direction (interfaces)."""

    task_label: str = "transport"
    species: str = Field(description="Diffusing species")
    fit: TransportFit = Field(description="Windows and MSD fit range")
    structures: list[StructureTransport] = Field(description="Per structure, over temperatures")
    sets: list[SetTransport] = Field(
        default_factory=list, description="Per set and temperature, pooled over structures"
    )
    figures: dict[str, FileRef] = Field(default_factory=dict, description="PNG figures by kind")

    @computed_field
    @property
    def summary(self) -> str:
        """One line per structure: σ(300 K) and E_a."""
        parts = []
        for s in self.structures:
            a = s.arrhenius
            ea = "" if a.activation_energy is None else f", E_a {a.activation_energy:.2f} eV"
            parts.append(
                f"{s.name}: σ(300 K) {a.sigma_room:.3g} ± {a.sigma_room_sem:.2g} mS/cm{ea}"
            )
        return "; ".join(parts)


class PercolationDoc(OutputDoc):
    """One Li in the frozen framework on a grid: the percolation barrier per direction."""

    task_label: str = "percolation barrier"
    name: str = Field(description="Structure")
    formula: str = Field(description="Reduced formula")
    calculator: str = Field(description="Calculator of the single points")
    settings: PESSettings = Field(description="Grid and framework")
    grid: list[int] = Field(description="Points along a, b, c")
    n_evaluated: int = Field(description="Grid points evaluated (the rest too close to atoms)")
    barriers: list[float | None] = Field(description="eV along a, b, c; None: no path")
    barrier: float | None = Field(description="Lowest over directions, eV (None: none)")
    passes: bool = Field(description="barrier below the cut (paper 003: 0.5 eV)")
    cut: float = Field(description="The cut, eV")
    figure: FileRef | None = Field(None, description="Landscape slice and path (PNG)")
