"""The study's stability stage: the substrate's and film's bulks on the hull of their
chemistry, their electrochemical windows and their mixing energy (seed 003, stage ii)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from jobflow import Flow, Maker

from cryin_flows.interfaces.system import InterfaceSystem, get_preset
from cryin_flows.makers.common import assign_categories
from cryin_flows.makers.stability import PhaseEnergiesMaker, StabilityMaker


@dataclass
class StabilityFlowMaker(Maker):
    """Phase energies of the interface's chemistry (the elements of both bulks), then the
    windows of both bulks (by formula: a bulk given as a file need not be in the library) and
    the film|substrate mixing energy. ``enabled`` False leaves the
    stage out of the study."""

    name: str = "stability"
    enabled: bool = True
    energies: PhaseEnergiesMaker = field(default_factory=PhaseEnergiesMaker)
    assess: StabilityMaker = field(default_factory=StabilityMaker)

    def make(self, system: InterfaceSystem | str) -> Flow:
        """The stage for ``system`` (a preset name or an InterfaceSystem)."""
        system = get_preset(system) if isinstance(system, str) else system
        film, substrate = (
            spec.load_structure().composition for spec in (system.film, system.substrate)
        )
        chemistry = sorted({el.symbol for el in film.elements + substrate.elements})
        film, substrate = film.reduced_formula, substrate.reduced_formula
        energies = self.energies.make(chemistry)
        assess = replace(
            self.assess,
            phases=self.assess.phases or (film, substrate),
            pairs=self.assess.pairs or ((film, substrate),),
        ).make(energies.output)
        return assign_categories(Flow([energies, assess], output=assess.output, name=self.name))
