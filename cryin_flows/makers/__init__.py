"""jobflow Makers: thin wrappers that call the pure packages and return schemas."""

from cryin_flows.makers.evaluation import EvaluateMaker
from cryin_flows.makers.gan import GanGenerateMaker, GanTrainMaker
from cryin_flows.makers.interfaces import InterfaceTemplateMaker, RandomInterfacesMaker

__all__ = [
    "EvaluateMaker",
    "GanGenerateMaker",
    "GanTrainMaker",
    "InterfaceTemplateMaker",
    "RandomInterfacesMaker",
]
