"""Stage 2b: active learning. Relax new random interfaces with the potential, label where they
ended with a short reference relaxation, fine-tune on all frames so far; ``rounds`` times.

The paper has no such stage: 950 DFT relaxations cover the space its potential relaxes in. A
small data set does not: a potential trained on a few reference relaxation paths can relax into
minima the reference does not have, with a small test error all the same (issue 15, demo
scale: CHGNet put such minima 109 meV/atom above the potential's energy for them after the
first training, 2-10 meV/atom after two rounds of this; docs/getting-started.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from jobflow import Flow, Maker

from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.makers.common import assign_categories
from cryin_flows.makers.interfaces import RandomInterfacesMaker
from cryin_flows.makers.potentials import FramesMaker, LabelMaker, M3GNetTrainMaker, RelaxMaker
from cryin_flows.potentials.calculators import DEFAULT_CALCULATOR
from cryin_flows.potentials.labelling import LabelSettings
from cryin_flows.potentials.m3gnet import M3GNetSettings


def _refine_label() -> LabelMaker:
    # where the potential's relaxation ended, and a few reference steps on from there
    settings = LabelSettings(stage1_steps=0, stage2_max_steps=8)
    return LabelMaker(calculator=DEFAULT_CALCULATOR, settings=settings, n_per_bulk=0)


def _refine_train() -> M3GNetTrainMaker:
    settings = M3GNetSettings(learning_rate=1e-3, max_epochs=8, patience=8)
    return M3GNetTrainMaker(settings=settings)


@dataclass
class RefineFlowMaker(Maker):
    """``rounds`` of: ``n`` new random interfaces -> ``relax`` with the current potential ->
    ``label`` their end points (a short reference relaxation from each) -> ``frames`` added to
    the frame set so far -> ``train`` fine-tunes the current potential on them.

    By default the new frames all go to the training split, so the test error stays measured
    on the first frame set's held-out relaxations; the reference check judges the minima.
    ``rounds`` 0 (the paper) adds nothing to the study.
    """

    name: str = "refine"
    rounds: int = 0
    n: int = 12
    seed: int = 3
    relax: RelaxMaker = field(default_factory=RelaxMaker)
    label: LabelMaker = field(default_factory=_refine_label)
    frames: FramesMaker = field(
        default_factory=lambda: FramesMaker(first_step=1, every=1, fractions=(1.0, 0.0, 0.0))
    )
    train: M3GNetTrainMaker = field(default_factory=_refine_train)

    def make(self, template: InterfaceTemplate, frames, potential) -> Flow:
        """``frames`` and ``potential``: the first training's FrameSetDoc and PotentialDoc.
        The output is ``{"frames": ..., "potential": ...}`` of the last round."""
        if self.rounds < 1 or self.n < 1:
            raise ConfigurationError(
                f"refine: rounds ({self.rounds}) and n ({self.n}) must be >= 1 to make a flow"
            )
        if self.label.calculator == "vasp":
            raise ConfigurationError(
                "refine.label.calculator: 'vasp' is not supported here; use an ASE calculator "
                "(chgnet or package.module:Class)"
            )
        jobs = []
        for r in range(1, self.rounds + 1):
            random = RandomInterfacesMaker(
                name=f"random interfaces (refine {r})", n=self.n, seed=self.seed
            ).make(template, start=(r - 1) * self.n)
            relax = replace(self.relax, name=f"relax (refine {r})").make(
                random.output.structures, potential
            )
            labels = replace(self.label, name=f"label (refine {r})").make(
                relax.output.structures, template
            )
            harvest = replace(self.frames, name=f"frames (refine {r})").make(
                labels.output, base=frames
            )
            train = replace(self.train, name=f"potential (refine {r})").make(
                harvest.output, init_from=potential
            )
            jobs += [random, relax, labels, harvest, train]
            frames, potential = harvest.output, train.output
        return assign_categories(
            Flow(jobs, output={"frames": frames, "potential": potential}, name=self.name)
        )
