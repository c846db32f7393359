"""jobflow Makers: thin wrappers that call the pure packages and return schemas."""

from cryin_flows.makers.interfaces import InterfaceTemplateMaker, RandomInterfacesMaker

__all__ = ["InterfaceTemplateMaker", "RandomInterfacesMaker"]
