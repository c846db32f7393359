"""The whole CryinGAN study as one jobflow Flow, with the paper's numbers and a demo preset.

Stages (each a flow maker, usable alone):

1. dataset: random interfaces (with and without exchanges) -> reference labels (CHGNet, any ASE
   calculator, or two-stage VASP DFT+U) -> training frames;
2. potential: M3GNet learning rate x batch size sweep -> the lowest validation loss;
3. training set: many random interfaces relaxed with the potential -> γ̃ -> γ̃ <= 0 subset;
4. GAN: λ x variant x seed sweep -> generate -> clean -> relax -> γ̃ with the training e_ref;
5. evaluation: every generated set and the random set against the training set -> report.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jobflow import Flow, Job, Maker, Response, job
from pydantic import ConfigDict, Field

from cryin_flows.analysis.evaluate import EvaluationSettings
from cryin_flows.errors import ConfigurationError
from cryin_flows.flows.gan import GanSweepMaker, run_label
from cryin_flows.gan.config import GanConfig
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.random_fill import PAPER_EXCHANGES, RandomFillSettings
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.makers.evaluation import EvaluateMaker
from cryin_flows.makers.gan import GanGenerateMaker
from cryin_flows.makers.interfaces import InterfaceTemplateMaker, RandomInterfacesMaker
from cryin_flows.makers.potentials import (
    FramesMaker,
    InterfaceEnergyMaker,
    LabelMaker,
    PotentialSweepMaker,
    RelaxMaker,
)
from cryin_flows.potentials.labelling import LabelSettings
from cryin_flows.potentials.m3gnet import M3GNetSettings
from cryin_flows.potentials.relax import RelaxSettings
from cryin_flows.utils import SerializableModel, parse_key_value

STAGES = ("dataset", "potential", "training set", "gan", "evaluation")


class StudySettings(SerializableModel):
    """Every number of the study. Defaults are the paper's (SPEC.md); presets override some."""

    model_config = ConfigDict(extra="forbid")

    preset: str = Field("paper", description="Preset these settings started from")
    system: str = Field("lsc-lco", description="Interface system preset")
    seed: int = Field(0, description="Seed of every random stream (stages offset it)")
    reference: str = Field(
        "vasp",
        description="Reference labels: 'vasp' (two-stage DFT+U), 'chgnet', or an ASE "
        "calculator as 'package.module:Class'",
    )
    reference_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of an ASE reference calculator"
    )
    n_label: int = Field(350, ge=0, description="Labelled random interfaces without exchanges")
    n_label_exchanged: int = Field(
        600, ge=0, description="Labelled random interfaces with the paper's exchanges"
    )
    label: LabelSettings = Field(
        default_factory=LabelSettings, description="Two-stage reference relaxation (ASE)"
    )
    n_bulk_labels: int = Field(4, ge=0, description="Strained/rattled cells per bulk (ASE)")
    frame_fractions: tuple[float, float, float] = Field(
        (0.8, 0.1, 0.1), description="Train/val/test split of relaxations"
    )
    potential: M3GNetSettings = Field(
        default_factory=M3GNetSettings, description="M3GNet model and training"
    )
    learning_rates: tuple[float, ...] = Field((1e-3, 5e-4), description="Sweep (ESI Table S2)")
    batch_sizes: tuple[int, ...] = Field((2, 4, 6), description="Sweep (ESI Table S2)")
    n_random: int = Field(3200, ge=1, description="Random interfaces relaxed for the training set")
    relax: RelaxSettings = Field(
        default_factory=RelaxSettings, description="Batched FIRE with the potential"
    )
    relax_chunk: int = Field(500, ge=1, description="Structures per relaxation job")
    e_ref: float | None = Field(
        None, description="eV/atom; None = lowest training-candidate structure at −0.4 J/m²"
    )
    max_gamma: float = Field(0.0, description="γ̃ cut of the GAN training set, J/m²")
    training_set_size: int | None = Field(1500, description="Lowest-γ̃ structures kept")
    training_set_converged_only: bool = Field(
        True, description="Leave relaxations that hit max_steps out of the GAN training set"
    )
    gan: GanConfig = Field(
        default_factory=lambda: GanConfig(epochs=100_000), description="CryinGAN training"
    )
    bond_weights: tuple[float, ...] = Field((0.0, 0.01, 0.05, 0.1), description="λ sweep")
    variants: tuple[str, ...] = Field(("cryingan",), description="CryinGAN variants")
    gan_seeds: tuple[int, ...] = Field((0, 1, 2), description="Seeds per (variant, λ)")
    n_generate: int = Field(1000, ge=1, description="Structures generated per model")
    evaluation: EvaluationSettings = Field(
        default_factory=EvaluationSettings, description="Fingerprints, bootstrap, report"
    )
    categories: dict[str, str] = Field(
        default_factory=lambda: {"cpu": "cpu", "gpu": "gpu"},
        description="FireWorks categories of CPU jobs (DFT, labels, evaluation) and GPU jobs "
        "(potential training, batched relaxation, GAN); a worker with no category runs both",
    )


DEMO_PRESET: dict[str, Any] = {
    "preset": "demo",
    "reference": "chgnet",
    "n_label": 2,
    "n_label_exchanged": 1,
    "label": {"stage1_steps": 3, "stage2_max_steps": 10},
    "n_bulk_labels": 3,
    "frame_fractions": (0.5, 0.25, 0.25),
    "potential": {
        "units": 16,
        "nblocks": 1,
        "cutoff": 4.0,
        "threebody_cutoff": 3.0,
        "max_epochs": 15,
        "patience": 15,
        "accelerator": "cpu",
    },
    "learning_rates": (2e-3,),
    "batch_sizes": (2, 4),
    "n_random": 24,
    "relax": {"fmax": 0.1, "max_steps": 60},
    "relax_chunk": 12,
    "training_set_size": 12,
    "training_set_converged_only": False,
    "gan": {"epochs": 10, "batch_size": 8, "gen_interval": 1, "checkpoint_every": 5},
    "bond_weights": (0.0, 0.05),
    "gan_seeds": (0,),
    "n_generate": 12,
    "evaluation": {"n_resamples": 200},
}
PRESETS: dict[str, dict[str, Any]] = {"paper": {}, "demo": DEMO_PRESET}


def _merge(base: dict, update: dict) -> dict:
    """``base`` with ``update`` merged in, nested dicts key by key."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["gan.epochs=10", "bond_weights=[0.05]"]`` -> nested dict (values read as YAML)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, value = parse_key_value(pair, "override", "gan.epochs=10")
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def load_study_settings(
    preset: str = "demo",
    config_file: str | Path | None = None,
    overrides: list[str] | None = None,
) -> StudySettings:
    """A preset, then a YAML file of settings, then ``key=value`` overrides, validated."""
    if preset not in PRESETS:
        raise ConfigurationError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    values = copy.deepcopy(PRESETS[preset])
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigurationError(f"{path}: study settings file does not exist")
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, dict):
            raise ConfigurationError(f"{path}: expected a mapping of study settings")
        values = _merge(values, loaded)
    values = _merge(values, parse_overrides(overrides or []))
    try:
        return StudySettings.model_validate(values)
    except ValueError as exc:
        source = f" (from {config_file})" if config_file else ""
        raise ConfigurationError(f"invalid study settings{source}: {exc}") from None


def _categorise(flow: Flow | Job, category: str) -> None:
    """FireWorks category of every job in ``flow`` (jobflow passes manager_config through)."""
    if category:
        flow.update_config({"manager_config": {"_category": category}}, dynamic=True)


@job
def merge_sets(sets: list[InterfaceSet]) -> InterfaceSet:
    """One InterfaceSet of several (same template)."""
    return InterfaceSet.concatenate(sets)


@job
def dft_labels(structures: list[InterfaceSet], template: InterfaceTemplate) -> Response:
    """Two-stage VASP relaxations of the structures, built once they exist (one job each)."""
    from cryin_flows.vasp.makers import InterfacesDftMaker

    flow = InterfacesDftMaker().make(InterfaceSet.concatenate(structures), template)
    return Response(replace=flow)


@dataclass
class DatasetFlowMaker(Maker):
    """Random interfaces -> reference labels -> frames split by relaxation (SPEC §1-3)."""

    name: str = "dataset"
    n_label: int = 350
    n_label_exchanged: int = 600
    seed: int = 0
    reference: str = "vasp"
    reference_kwargs: dict = field(default_factory=dict)
    label: LabelSettings = field(default_factory=LabelSettings)
    n_bulk_labels: int = 4
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)

    def make(self, template: InterfaceTemplate) -> Flow:
        """The output is the FrameSetDoc."""
        jobs: list[Job | Flow] = []
        sets = []
        for n, exchanges, offset in (
            (self.n_label, None, 0),
            (self.n_label_exchanged, PAPER_EXCHANGES, 1),
        ):
            if n:
                fill = RandomFillSettings(exchanges=exchanges)
                name = "random interfaces (label" + (", exchanges)" if exchanges else ")")
                random = RandomInterfacesMaker(
                    name=name, n=n, seed=self.seed + offset, fill=fill
                ).make(template)
                jobs.append(random)
                sets.append(random.output.structures)
        if not sets:
            raise ConfigurationError("n_label + n_label_exchanged must be at least 1")
        if self.reference == "vasp":
            labels = dft_labels(sets, template)
        else:
            merged = merge_sets(sets)
            jobs.append(merged)
            labels = LabelMaker(
                reference=self.reference,
                calculator_kwargs=dict(self.reference_kwargs),
                settings=self.label,
                n_per_bulk=self.n_bulk_labels,
            ).make(merged.output, template)
        frames = FramesMaker(fractions=self.fractions, seed=self.seed).make(labels.output)
        jobs += [labels, frames]
        return Flow(jobs, output=frames.output, name=self.name)


@dataclass
class TrainingSetFlowMaker(Maker):
    """Random interfaces relaxed with the potential in chunks -> γ̃ -> low-energy subset."""

    name: str = "training set"
    n_random: int = 3200
    seed: int = 2
    relax: RelaxSettings = field(default_factory=RelaxSettings)
    results_dir: str | None = None
    chunk: int = 500
    e_ref: float | None = None
    max_gamma: float = 0.0
    training_set_size: int | None = 1500
    converged_only: bool = True
    gpu_category: str = ""

    def make(self, template: InterfaceTemplate, potential) -> Flow:
        """The output is the EnergyDoc (``training_set`` is the GAN's dataset)."""
        jobs: list[Job] = []
        relaxed = []
        for start in range(0, self.n_random, self.chunk):
            n = min(self.chunk, self.n_random - start)
            label = f"{start}-{start + n - 1}"
            random = RandomInterfacesMaker(
                name=f"random interfaces {label}", n=n, seed=self.seed
            ).make(template, start=start)
            relax = RelaxMaker(
                name=f"relax random {label}", settings=self.relax, results_dir=self.results_dir
            ).make(random.output.structures, potential)
            _categorise(relax, self.gpu_category)
            jobs += [random, relax]
            relaxed.append(relax.output)
        energy = InterfaceEnergyMaker(
            name="interface energy (random)",
            e_ref=self.e_ref,
            max_gamma=self.max_gamma,
            training_set_size=self.training_set_size,
            converged_only=self.converged_only,
        ).make(relaxed, template)
        return Flow([*jobs, energy], output=energy.output, name=self.name)


@dataclass
class CryinGanStudyMaker(Maker):
    """The study end to end; ``settings`` holds every number (see ``load_study_settings``)."""

    name: str = "cryingan study"
    settings: StudySettings = field(default_factory=StudySettings)
    report_dir: str | None = None
    cache_dir: str | None = None
    results_dir: str | None = None

    def stages(self) -> dict[str, Flow]:
        """The five stage flows, wired together, in running order."""
        s = self.settings
        cpu, gpu = s.categories.get("cpu", ""), s.categories.get("gpu", "")
        template = InterfaceTemplateMaker(system=s.system).make()
        dataset = DatasetFlowMaker(
            n_label=s.n_label,
            n_label_exchanged=s.n_label_exchanged,
            seed=s.seed,
            reference=s.reference,
            reference_kwargs=s.reference_kwargs,
            label=s.label,
            n_bulk_labels=s.n_bulk_labels,
            fractions=s.frame_fractions,
        ).make(template.output)
        dataset_flow = Flow([template, dataset], output=dataset.output, name="dataset")
        _categorise(dataset_flow, cpu)
        potential = PotentialSweepMaker(
            learning_rates=s.learning_rates, batch_sizes=s.batch_sizes, settings=s.potential
        ).make(dataset.output)
        _categorise(potential, gpu)
        training = TrainingSetFlowMaker(
            n_random=s.n_random,
            seed=s.seed + 2,
            relax=s.relax,
            results_dir=self.results_dir,
            chunk=s.relax_chunk,
            e_ref=s.e_ref,
            max_gamma=s.max_gamma,
            training_set_size=s.training_set_size,
            converged_only=s.training_set_converged_only,
            gpu_category=gpu,
        ).make(template.output, potential.output)
        sweep = GanSweepMaker(
            bond_weights=s.bond_weights,
            variants=s.variants,
            seeds=s.gan_seeds,
            config=s.gan,
            generate=GanGenerateMaker(n=s.n_generate, seed=s.seed),
            relax=RelaxMaker(settings=s.relax, results_dir=self.results_dir),
        )
        gan = sweep.make(
            training.output.training_set,
            potential=potential.output,
            template=template.output,
            e_ref=training.output.e_ref,
        )
        _categorise(gan, gpu)
        generated = {
            run_label(config): run["energy"].structures
            for config, run in zip(sweep.runs(), gan.output, strict=True)
        }
        evaluate = EvaluateMaker(
            settings=s.evaluation, report_dir=self.report_dir, cache_dir=self.cache_dir
        ).make(
            template.output,
            training.output.training_set,
            {"random": training.output.structures, **generated},
            requested=dict.fromkeys(generated, s.n_generate),
        )
        _categorise(evaluate, cpu)
        evaluation = Flow([evaluate], output=evaluate.output, name="evaluation")
        return dict(zip(STAGES, (dataset_flow, potential, training, gan, evaluation), strict=True))

    def make(self) -> Flow:
        """One Flow of the stages; its output names the documents people look up."""
        stages = self.stages()
        output = {
            "template": stages["dataset"].jobs[0].output,
            "frames": stages["dataset"].output,
            "potential": stages["potential"].output,
            "training_set": stages["training set"].output,
            "gan_runs": stages["gan"].output,
            "evaluation": stages["evaluation"].output,
        }
        return Flow(list(stages.values()), output=output, name=self.name)
