"""Stage 1: random interfaces -> reference labels -> training frames (SPEC §1-3)."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Flow, Job, Maker, Response, job

from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.random_fill import PAPER_EXCHANGES, RandomFillSettings
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.makers.common import assign_categories
from cryin_flows.makers.interfaces import RandomInterfacesMaker
from cryin_flows.makers.potentials import FramesMaker, LabelMaker
from cryin_flows.makers.vasp import InterfacesDftMaker


@job
def merge_sets(sets: list[InterfaceSet]) -> InterfaceSet:
    """One InterfaceSet of several (same template)."""
    return InterfaceSet.concatenate(sets)


@job
def dft_labels(
    structures: list[InterfaceSet], template: InterfaceTemplate, maker: InterfacesDftMaker
) -> Response:
    """Two-stage VASP relaxations of the structures, built once they exist (one job each)."""
    return Response(replace=maker.make(InterfaceSet.concatenate(structures), template))


@dataclass
class DatasetFlowMaker(Maker):
    """Random interfaces (with and without the paper's exchanges) -> labels -> frames.

    ``label.calculator`` picks the labels: ``"vasp"`` (the paper's two-stage DFT+U, run by
    ``dft``), ``"chgnet"``, or any ASE calculator as ``"package.module:Class"`` (run by
    ``label``). Frames are split by relaxation (``frames``).
    """

    name: str = "dataset"
    n_label: int = 350
    n_label_exchanged: int = 600
    seed: int = 0
    label: LabelMaker = field(default_factory=lambda: LabelMaker(calculator="vasp"))
    dft: InterfacesDftMaker = field(default_factory=InterfacesDftMaker)
    frames: FramesMaker = field(default_factory=FramesMaker)

    def make(self, template: InterfaceTemplate) -> Flow:
        """The output is the FrameSetDoc."""
        if min(self.n_label, self.n_label_exchanged) < 0:
            raise ConfigurationError("dataset: n_label and n_label_exchanged must be >= 0")
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
        if self.label.calculator == "vasp":
            labels = dft_labels(sets, template, self.dft)
        else:
            merged = merge_sets(sets)
            jobs.append(merged)
            labels = self.label.make(merged.output, template)
        frames = self.frames.make(labels.output)
        jobs += [labels, frames]
        return assign_categories(Flow(jobs, output=frames.output, name=self.name))
