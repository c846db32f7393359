"""jobflow Makers: thin wrappers that call the pure packages and return schemas."""

from cryin_flows.makers.evaluation import EvaluateMaker
from cryin_flows.makers.gan import GanGenerateMaker, GanTrainMaker
from cryin_flows.makers.interfaces import InterfaceTemplateMaker, RandomInterfacesMaker
from cryin_flows.makers.potentials import (
    FramesMaker,
    InterfaceEnergyMaker,
    LabelMaker,
    M3GNetTrainMaker,
    PotentialSweepMaker,
    RelaxMaker,
)

__all__ = [
    "EvaluateMaker",
    "FramesMaker",
    "GanGenerateMaker",
    "GanTrainMaker",
    "InterfaceEnergyMaker",
    "InterfaceTemplateMaker",
    "LabelMaker",
    "M3GNetTrainMaker",
    "PotentialSweepMaker",
    "RandomInterfacesMaker",
    "RelaxMaker",
]
