"""The whole CryinGAN study as one jobflow Flow, composed of its stage flow makers.

Stages (each a flow maker, usable alone):

1. ``dataset``: random interfaces (with and without exchanges) -> reference labels (two-stage
   VASP DFT+U, CHGNet or any ASE calculator) -> training frames;
2. ``potential``: M3GNet learning rate x batch size sweep -> the lowest validation loss;
   ``refine`` (active learning, not in the paper; ``refine.rounds`` 0 leaves it out): relax with
   it, label the end points, fine-tune, repeat;
3. ``training_set``: many random interfaces relaxed with the potential -> γ̃ -> γ̃ <= 0 subset;
4. ``gan_sweep``: λ x variant x seed -> train -> generate -> clean -> relax -> γ̃ (training e_ref);
5. ``stability`` (seed 003, not in the paper; ``stability.enabled`` False leaves it out): the
   two bulks on the hull of their chemistry, their windows and their mixing energy;
6. ``transport`` (seed 003, not in the paper; off unless ``transport.enabled``): MD of the
   lowest-γ̃ structures of each set with the potential, Li D by region and direction;
7. ``evaluation``: every generated set and the random set against the training set -> report
   (with the stability and transport sections when those stages run).

Every number is a field of one of these makers (the paper's value is its default); presets,
YAML files and ``--set`` address them by path (``gan_sweep.train.config.epochs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from jobflow import Flow, Maker

from cryin_flows.flows.dataset import DatasetFlowMaker
from cryin_flows.flows.gan import GanSweepMaker, run_name
from cryin_flows.flows.refine import RefineFlowMaker
from cryin_flows.flows.stability import StabilityFlowMaker
from cryin_flows.flows.training_set import TrainingSetFlowMaker
from cryin_flows.flows.transport import TransportFlowMaker
from cryin_flows.makers.common import assign_categories
from cryin_flows.makers.evaluation import EvaluateMaker
from cryin_flows.makers.interfaces import InterfaceTemplateMaker
from cryin_flows.makers.potentials import (
    PotentialSweepMaker,
    ReferenceCheckMaker,
    RelaxMaker,
)

STAGES = (
    "dataset", "potential", "refine", "training set", "gan", "stability", "transport",
    "evaluation",
)  # fmt: skip


@dataclass
class CryinGanStudyMaker(Maker):
    """The study end to end, from its stage makers (see ``flows.presets.load_study``).

    ``categories`` names the FireWorks categories of CPU jobs (DFT, labels, energies,
    evaluation) and GPU jobs (potential training, batched relaxation, GAN): every job has one
    (``makers.common.assign_categories``).
    ``report_dir``, ``cache_dir`` and ``results_dir`` are where a run writes its files.
    """

    name: str = "cryingan study"
    preset: str = "paper"
    template: InterfaceTemplateMaker = field(default_factory=InterfaceTemplateMaker)
    dataset: DatasetFlowMaker = field(default_factory=DatasetFlowMaker)
    potential: PotentialSweepMaker = field(default_factory=PotentialSweepMaker)
    refine: RefineFlowMaker = field(default_factory=RefineFlowMaker)
    training_set: TrainingSetFlowMaker = field(default_factory=TrainingSetFlowMaker)
    gan_sweep: GanSweepMaker = field(default_factory=GanSweepMaker)
    stability: StabilityFlowMaker = field(default_factory=StabilityFlowMaker)
    transport: TransportFlowMaker = field(default_factory=TransportFlowMaker)
    evaluation: EvaluateMaker = field(default_factory=EvaluateMaker)
    categories: dict[str, str] = field(default_factory=lambda: {"cpu": "cpu", "gpu": "gpu"})
    report_dir: str | None = None
    cache_dir: str | None = None
    results_dir: str | None = None

    def stages(self) -> dict[str, Flow]:
        """The stage flows, wired together, in running order (``refine`` only with rounds)."""
        template = self.template.make()
        dataset = self.dataset.make(template.output)
        dataset_flow = Flow([template, dataset], output=dataset.output, name="dataset")
        potential = self.potential.make(dataset.output)
        flows = {"dataset": dataset_flow, "potential": potential}
        chosen = potential.output
        if self.refine.rounds:
            refine = replace(self.refine, relax=self._with_results_dir(self.refine.relax)).make(
                template.output, dataset.output, potential.output
            )
            flows["refine"] = refine
            chosen = refine.output["potential"]
        training = replace(
            self.training_set, relax=self._with_results_dir(self.training_set.relax)
        ).make(template.output, chosen)
        sweep = replace(self.gan_sweep, relax=self._with_results_dir(self.gan_sweep.relax))
        gan = sweep.make(
            training.output.training_set,
            potential=chosen,
            template=template.output,
            e_ref=training.output.e_ref,
        )
        generated = {
            run_name(config): run["energy"].structures
            for config, run in zip(sweep.runs(), gan.output, strict=True)
        }
        if self.stability.enabled:
            flows["stability"] = self.stability.make(self.template.system)
        sets = {"training": training.output.training_set, "random": training.output.structures}
        if self.transport.enabled:
            flows["transport"] = self.transport.make(template.output, chosen, sets | generated)
        evaluate = replace(
            self.evaluation,
            report_dir=self.report_dir or self.evaluation.report_dir,
            cache_dir=self.cache_dir or self.evaluation.cache_dir,
        ).make(
            template.output,
            training.output.training_set,
            {"random": training.output.structures, **generated},
            requested=dict.fromkeys(generated, sweep.generate.n),
            stability=flows["stability"].output if "stability" in flows else None,
            transport=flows["transport"].output if "transport" in flows else None,
        )
        evaluation = Flow([evaluate], output=evaluate.output, name="evaluation")
        flows.update({"training set": training, "gan": gan, "evaluation": evaluation})
        for stage in flows.values():
            assign_categories(stage, self.categories)
        return {name: flows[name] for name in STAGES if name in flows}

    def _with_results_dir(self, relax: RelaxMaker) -> RelaxMaker:
        return replace(relax, results_dir=self.results_dir or relax.results_dir)

    def make(self) -> Flow:
        """One Flow of the stages; its output names the documents people look up."""
        stages = self.stages()
        refined = stages.get("refine")
        output = {
            "template": stages["dataset"].jobs[0].output,
            "frames": refined.output["frames"] if refined else stages["dataset"].output,
            "potential": refined.output["potential"] if refined else stages["potential"].output,
            "training_set": stages["training set"].output,
            "gan_runs": stages["gan"].output,
            "evaluation": stages["evaluation"].output,
        }
        if refined:
            output["initial_potential"] = stages["potential"].output
        for name in ("stability", "transport"):
            if name in stages:
                output[name] = stages[name].output
        for job, _ in stages["training set"].iterflow():
            if isinstance(job.maker, ReferenceCheckMaker):
                output["reference_check"] = job.output
        return Flow(list(stages.values()), output=output, name=self.name)
