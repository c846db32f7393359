"""Output documents of the interface-construction jobs."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from cryin_flows.analysis.statistics import Stats
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.schemas.common import OutputDoc


class RandomInterfacesDoc(OutputDoc):
    """A batch of random interfaces: a summary here, the structures in the ``data`` store."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    task_label: str = Field("random interfaces", description="What kind of job made this")
    system: str = Field(description="Name of the interface system")
    template_hash: str = Field(description="Hash of the InterfaceTemplate the structures fit")
    n_structures: int = Field(description="Structures generated")
    n_atoms: int = Field(description="Atoms per structure")
    composition: dict[str, int] = Field(description="Atoms per element, block order")
    seed: int = Field(description="Seed of the random stream")
    start_index: int = Field(description="Index of the first structure in the stream")
    region_thickness: Stats = Field(description="Gap thickness drawn, Å")
    min_region_distance: Stats = Field(description="Closest distance of a region atom, Å")
    min_distances: dict[str, float] = Field(description="Per-pair minimum distances used, Å")
    exchanges_limits: dict[str, int] | None = Field(description="Most exchanges per structure")
    exchanges_performed: dict[str, int] = Field(
        default_factory=dict, description="Total exchanges of each kind over the batch"
    )
    restarts: int = Field(description="Structures restarted because the region did not fit")
    structures: InterfaceSet = Field(description="The structures (stored in the data store)")
