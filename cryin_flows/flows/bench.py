"""The Dismai-Bench flow: a dataset -> {generator x seed} -> generate -> score -> one table."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from jobflow import Flow, Maker

from cryin_flows.gan.config import GanConfig
from cryin_flows.makers.bench import BenchScoreMaker, BenchTableMaker, TranslationAugmentMaker
from cryin_flows.makers.gan import GanGenerateMaker, GanTrainMaker


def _cryingan_for_alloys() -> GanTrainMaker:
    # the paper's alloy settings (§4.2): λ = 0.1, batch 32, 1,500 epochs
    return GanTrainMaker(config=GanConfig(bond_weight=0.1, epochs=1500))


@dataclass
class BenchmarkFlowMaker(Maker):
    """Train the generator once per seed on a system's training set, generate ``generate.n``
    structures from each run, score them with the system's metrics and gather one table
    beside the published rows (Dismai-Bench: 3 seeds, 1,000 structures each).

    ``augment`` applies CryinGAN's alloy augmentation (63 whole-cell translations per
    structure) to what the generator trains on; scoring is always against the set itself.
    The generator is CryinGAN through its train and generate makers; another generator plugs
    in as a pair of makers with the same inputs and outputs.
    """

    name: str = "dismai benchmark"
    system: str = "alloy"
    dataset: str = "alloy 300K narrow"
    seeds: tuple[int, ...] = (0, 1, 2)
    augment: bool = True
    train: GanTrainMaker = field(default_factory=_cryingan_for_alloys)
    generate: GanGenerateMaker = field(default_factory=lambda: GanGenerateMaker(n=1000))
    score: BenchScoreMaker = field(default_factory=BenchScoreMaker)
    table: BenchTableMaker = field(default_factory=BenchTableMaker)

    def make(self, training: str) -> Flow:
        """The flow for the extxyz training set ``training``; its output is the table."""
        jobs, scores = [], []
        data = training
        if self.augment:
            augment = TranslationAugmentMaker().make(training)
            jobs.append(augment)
            data = augment.output.path
        score_maker = replace(self.score, system=self.system)
        for seed in self.seeds:
            config = self.train.config.model_copy(update={"seed": seed})
            train = replace(self.train, config=config, name=f"{self.train.name} seed={seed}")
            trained = train.make(data)
            sampled = replace(self.generate, name=f"{self.generate.name} seed={seed}").make(
                trained.output
            )
            scored = replace(score_maker, name=f"{score_maker.name} seed={seed}").make(
                training, sampled.output
            )
            jobs += [trained, sampled, scored]
            scores.append(scored)
        table = replace(self.table, system=self.system, dataset=self.dataset).make(
            [s.output for s in scores], [s.uuid for s in scores]
        )
        return Flow([*jobs, table], output=table.output, name=self.name)
