"""The study's transport stage (seed 003, stage iii, not in the paper): does Li cross the
generated interfaces as it crosses the structures they learned from? MD of the lowest-γ̃
structures of each set with the study's potential (all runs of a set side by side on the
device), then Li D by region and direction, pooled per set."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from jobflow import Flow, Maker

from cryin_flows.dynamics.md import MDSettings
from cryin_flows.errors import ConfigurationError
from cryin_flows.makers.common import assign_categories
from cryin_flows.makers.dynamics import MDMaker, TransportMaker


def _interface_md() -> MDMaker:
    # the template's own cell (its region rule is defined on it), 800 K for crossings within
    # reach of 100 ps, the paper's thermalisation and production otherwise
    settings = MDSettings(temperatures=[800.0], min_atoms=1, sphere_diameter=0.0)
    return MDMaker(name="md", settings=settings, n_structures=4)


@dataclass
class TransportFlowMaker(Maker):
    """MD of the ``md.n_structures`` lowest-γ̃ structures of every set (training set, random
    set, each GAN run; ``sets`` picks some), then one analysis of them all by region and
    direction (``analysis``). ``enabled`` False (the paper preset) leaves the stage out."""

    name: str = "transport"
    enabled: bool = False
    md: MDMaker = field(default_factory=_interface_md)
    analysis: TransportMaker = field(default_factory=TransportMaker)
    sets: tuple[str, ...] | None = None

    def make(self, template, potential, sets: dict) -> Flow:
        """``sets``: name -> InterfaceSet (or a reference to one) of ``template``'s cell."""
        unknown = sorted(set(self.sets or ()) - set(sets))
        if unknown:
            raise ConfigurationError(
                f"transport.sets names {unknown}, which the study does not make; its sets: "
                f"{', '.join(sets)}"
            )
        chosen = {k: v for k, v in sets.items() if self.sets is None or k in self.sets}
        runs = []
        for label, structures in chosen.items():
            md = replace(self.md, label=label).make(structures, potential)
            md.name = f"{self.md.name} {label}"
            runs.append(md)
        analysis = self.analysis.make([md.output for md in runs], template)
        return assign_categories(Flow([*runs, analysis], output=analysis.output, name=self.name))
