"""atomate2 VASP makers for the study: custodian runs VASP, TaskDocs go to the store.

VASP is started by atomate2's ``run_vasp`` (custodian with its default handlers and
validators); set the command in atomate2's settings (``VASP_CMD`` in ``~/.atomate2.yaml`` or
``ATOMATE2_VASP_CMD``) or per maker with ``run_vasp_kwargs={"vasp_cmd": ...}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from atomate2.vasp.jobs.base import BaseVaspMaker
from atomate2.vasp.run import DEFAULT_HANDLERS
from atomate2.vasp.sets.base import VaspInputGenerator
from custodian.vasp.handlers import UnconvergedErrorHandler
from jobflow import Flow, Maker, job
from pymatgen.core import Structure

from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.makers.common import assign_categories
from cryin_flows.potentials.labelling import LabelSettings
from cryin_flows.schemas.potentials import LabelDoc
from cryin_flows.vasp.frames import task_ionic_steps, trajectory_from_ionic_steps
from cryin_flows.vasp.sets import CryinVaspSetGenerator, with_region_dynamics

# the ionic steps leave the TaskDoc for a Trajectory in the data store (GridFS on MongoDB):
# inside the document a 264-atom relaxation takes ~58 kB per step, past MongoDB's 16 MB
# document limit at ~270 steps; frames are harvested from the Trajectory (vasp/frames.py)
TASK_DOCUMENT_KWARGS = {"store_trajectory": "partial"}


@dataclass
class CryinVaspMaker(BaseVaspMaker):
    """atomate2's VASP maker with the ionic steps kept as a data-store Trajectory."""

    name: str = "cryin vasp"
    task_document_kwargs: dict = field(default_factory=lambda: dict(TASK_DOCUMENT_KWARGS))


@dataclass
class BulkRelaxMaker(CryinVaspMaker):
    """Full relaxation of a bulk cell (ENCUT 520, 0.001 eV/Å, the paper's k-points)."""

    name: str = "bulk relax"
    input_set_generator: VaspInputGenerator = field(
        default_factory=lambda: CryinVaspSetGenerator(preset="bulk")
    )


def stage1_handlers() -> tuple:
    """atomate2's default custodian handlers without UnconvergedErrorHandler: stage 1 stops
    after its 50 steps by design, so an unconverged ending is not an error to correct."""
    return tuple(h for h in DEFAULT_HANDLERS if not isinstance(h, UnconvergedErrorHandler))


@dataclass
class InterfaceStage1Maker(CryinVaspMaker):
    """Stage 1: region atoms only (selective dynamics), ENCUT 374.3, 50 steps, Γ."""

    name: str = "interface stage 1"
    input_set_generator: VaspInputGenerator = field(
        default_factory=lambda: CryinVaspSetGenerator(preset="stage1")
    )
    run_vasp_kwargs: dict = field(default_factory=lambda: {"handlers": stage1_handlers()})
    # an unconverged end is expected: stage 2 continues from it
    stop_children_kwargs: dict = field(default_factory=lambda: {"handle_unsuccessful": False})


@dataclass
class InterfaceStage2Maker(CryinVaspMaker):
    """Stage 2: all atoms, ENCUT 450, 0.1 eV/Å, Γ, fixed cell."""

    name: str = "interface stage 2"
    input_set_generator: VaspInputGenerator = field(
        default_factory=lambda: CryinVaspSetGenerator(preset="stage2")
    )


@dataclass
class ReRelaxMaker(CryinVaspMaker):
    """Stage 2 alone, for structures already relaxed with the potential."""

    name: str = "interface re-relax"
    input_set_generator: VaspInputGenerator = field(
        default_factory=lambda: CryinVaspSetGenerator(preset="rerelax")
    )


@dataclass
class TwoStageInterfaceMaker(Maker):
    """Stage 1 then stage 2, the second starting from the first's CONTCAR (prev_dir)."""

    name: str = "two-stage interface relax"
    stage1: BaseVaspMaker = field(default_factory=InterfaceStage1Maker)
    stage2: BaseVaspMaker = field(default_factory=InterfaceStage2Maker)

    def make(self, structure: Structure, template: InterfaceTemplate) -> Flow:
        """Stage 1 moves the structure's interface region (found with ``template``)."""
        first = self.stage1.make(with_region_dynamics(structure, template))
        second = self.stage2.make(first.output.structure, prev_dir=first.output.dir_name)
        return assign_categories(Flow([first, second], output=second.output, name=self.name))


@job(data="trajectories")
def dft_trajectories(tasks: list, labels: list[str]) -> LabelDoc:
    """Stage-2 task documents as reference trajectories for ``FramesMaker``."""
    trajectories = [
        trajectory_from_ionic_steps(
            task_ionic_steps(task),
            label,
            converged=bool(task.calcs_reversed[0].has_vasp_completed),
        )
        for task, label in zip(tasks, labels, strict=True)
    ]
    return LabelDoc.from_trajectories(trajectories, len(trajectories), "vasp", LabelSettings())


@dataclass
class InterfacesDftMaker(Maker):
    """Two-stage DFT relaxations of many interfaces as separate jobs, then their trajectories."""

    name: str = "interfaces DFT"
    two_stage: TwoStageInterfaceMaker = field(default_factory=TwoStageInterfaceMaker)

    def make(self, structures: InterfaceSet, template: InterfaceTemplate) -> Flow:
        """One two-stage flow per structure; the output is a LabelDoc for ``FramesMaker``."""
        flows, labels = [], []
        for i in range(len(structures)):
            info = structures.infos[i]
            labels.append(f"dft-{info.get('seed', 's')}-{info.get('index', i)}")
            flows.append(
                self.two_stage.update_kwargs(
                    {"name": f"two-stage {labels[-1]}"}, nested=False
                ).make(structures.structure(i), template)
            )
        collect = dft_trajectories([f.output for f in flows], labels)
        return assign_categories(Flow([*flows, collect], output=collect.output, name=self.name))
