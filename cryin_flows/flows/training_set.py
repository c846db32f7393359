"""Stage 3: many random interfaces relaxed with the potential -> γ̃ -> the GAN training set."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from jobflow import Flow, Maker

from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.energy import TRAINING_SET_ENERGY_JOB
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.makers.common import assign_categories
from cryin_flows.makers.interfaces import RandomInterfacesMaker
from cryin_flows.makers.potentials import InterfaceEnergyMaker, ReferenceCheckMaker, RelaxMaker


@dataclass
class TrainingSetFlowMaker(Maker):
    """``n_random`` interfaces, relaxed ``chunk`` per job; ``energy`` keeps the low-γ̃ subset.

    ``check`` (None in the paper, whose potential is checked on DFT frames) re-scores relaxed
    structures by the reference calculator, to show whether their minima are the reference's.
    """

    name: str = "training set"
    n_random: int = 3200
    chunk: int = 500
    seed: int = 2
    relax: RelaxMaker = field(default_factory=RelaxMaker)
    energy: InterfaceEnergyMaker = field(
        default_factory=lambda: InterfaceEnergyMaker(name=TRAINING_SET_ENERGY_JOB)
    )
    check: ReferenceCheckMaker | None = None

    def make(self, template: InterfaceTemplate, potential) -> Flow:
        """The output is the EnergyDoc (``training_set`` is the GAN's dataset)."""
        if self.n_random < 1 or self.chunk < 1:
            raise ConfigurationError(
                f"training_set: n_random ({self.n_random}) and chunk ({self.chunk}) must be >= 1"
            )
        jobs = []
        relaxed = []
        for start in range(0, self.n_random, self.chunk):
            n = min(self.chunk, self.n_random - start)
            label = f"{start}-{start + n - 1}"
            random = RandomInterfacesMaker(
                name=f"random interfaces {label}", n=n, seed=self.seed
            ).make(template, start=start)
            relax = replace(self.relax, name=f"relax random {label}").make(
                random.output.structures, potential
            )
            jobs += [random, relax]
            relaxed.append(relax.output)
        energy = self.energy.make(relaxed, template)
        jobs.append(energy)
        if self.check is not None:
            jobs.append(self.check.make(energy.output))
        return assign_categories(Flow(jobs, output=energy.output, name=self.name))
