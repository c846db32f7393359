"""The paper's GAN sweep: λ x variant x seed, each trained then sampled."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from jobflow import Flow, Maker

from cryin_flows.gan.config import GanConfig
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.makers.common import assign_categories
from cryin_flows.makers.gan import GanGenerateMaker, GanTrainMaker
from cryin_flows.makers.potentials import InterfaceEnergyMaker, RelaxMaker


def run_name(config: GanConfig) -> str:
    """Name of one GAN run, used in job names and as its dataset name in evaluations."""
    return f"{config.variant} λ={config.bond_weight:g} seed={config.seed}"


@dataclass
class GanSweepMaker(Maker):
    """One train + generate pair per (variant, λ, seed); the comb variant ignores λ.

    Defaults are the paper's sweep: λ in {0, 0.01, 0.05, 0.1}, 3 seeds, CryinGAN; every other
    hyperparameter is ``train.config``'s. Given a potential, each run's structures are also
    relaxed (``relax``) and their γ̃ computed (``energy``, with the training set's e_ref).
    """

    name: str = "gan sweep"
    bond_weights: tuple[float, ...] = (0.0, 0.01, 0.05, 0.1)
    variants: tuple[str, ...] = ("cryingan",)
    seeds: tuple[int, ...] = (0, 1, 2)
    train: GanTrainMaker = field(default_factory=GanTrainMaker)
    generate: GanGenerateMaker = field(default_factory=GanGenerateMaker)
    relax: RelaxMaker = field(default_factory=RelaxMaker)
    energy: InterfaceEnergyMaker = field(
        default_factory=lambda: InterfaceEnergyMaker(training_set_size=None)
    )

    def runs(self) -> list[GanConfig]:
        """The configurations of the sweep, in order."""
        configs = []
        for variant in self.variants:
            weights = (0.0,) if variant == "comb" else self.bond_weights
            for weight in weights:
                for seed in self.seeds:
                    configs.append(
                        self.train.config.model_copy(
                            update={"variant": variant, "bond_weight": weight, "seed": seed}
                        )
                    )
        return configs

    def make(
        self,
        dataset: InterfaceSet | str,
        potential=None,
        template=None,
        e_ref: float | None = None,
    ) -> Flow:
        """The sweep flow; its output lists, per run, the train and generate documents, and
        with ``potential`` and ``template`` the relax and energy documents (γ̃ with ``e_ref``)."""
        if (potential is None) != (template is None):
            raise ValueError("relaxing generated structures needs both potential and template")
        jobs, outputs = [], []
        for config in self.runs():
            run_id = run_name(config)
            train = replace(self.train, name=f"gan train {run_id}", config=config).make(dataset)
            gen = replace(self.generate, name=f"gan generate {run_id}").make(train.output)
            jobs += [train, gen]
            run = {
                "variant": config.variant,
                "bond_weight": config.bond_weight,
                "seed": config.seed,
                "train": train.output,
                "generate": gen.output,
            }
            if potential is not None:
                relax = replace(self.relax, name=f"relax generated {run_id}").make(
                    gen.output.structures, potential
                )
                energy = replace(self.energy, name=f"interface energy {run_id}").make(
                    relax.output, template, e_ref=e_ref
                )
                jobs += [relax, energy]
                run.update(relax=relax.output, energy=energy.output)
            outputs.append(run)
        return assign_categories(Flow(jobs, output=outputs, name=self.name))
