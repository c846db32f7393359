"""Reference calculators by name: the offline universal potential CHGNet, or any ASE calculator."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from functools import cache

from ase import Atoms
from ase.calculators.calculator import Calculator
from pymatgen.io.ase import AseAtomsAdaptor

from cryin_flows.devices import describe_device, resolve_device
from cryin_flows.errors import ConfigurationError

DEFAULT_CALCULATOR = "chgnet"
#: the study's own potential as a calculator name (``get_calculator``; kwargs ``path``)
STUDY_POTENTIAL = "cryin_flows.potentials.m3gnet:ase_calculator"


@cache
def _chgnet_model():
    from chgnet.model import CHGNet

    return CHGNet.load(verbose=False)


def get_calculator(name: str = DEFAULT_CALCULATOR, **kwargs) -> Calculator:
    """An ASE calculator.

    ``"chgnet"``: CHGNet with the weights shipped in the package (runs offline; the model is
    loaded once per process), on ``device`` (default ``auto``: the GPU when the node has
    one). ``"package.module:ClassName"``: that ASE calculator class,
    instantiated with ``kwargs``. VASP labels come from the VASP makers, not from here.
    """
    if name == "chgnet":
        from chgnet.model.dynamics import CHGNetCalculator

        # CHGNet's stress code trips a torch warning on every call; it is harmless noise
        warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")

        device = str(resolve_device(kwargs.pop("device", "auto")))
        return CHGNetCalculator(model=_chgnet_model(), use_device=device, **kwargs)
    if name == "vasp":
        raise ConfigurationError(
            "VASP reference labels come from the VASP makers (DFT+U relaxations), not from an "
            "ASE calculator; use 'chgnet' or 'module:Class' here"
        )
    module_name, sep, class_name = name.partition(":")
    if not sep or not module_name or not class_name:
        raise ConfigurationError(
            f"unknown reference calculator {name!r}: use 'chgnet' or 'package.module:ClassName'"
        )
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot import calculator {name!r}: {exc}") from None
    return cls(**kwargs)


def calculator_device(calculator: Calculator) -> str:
    """Where a calculator computes, as documents record it (``describe_device``): its torch
    ``device`` when it has one (CHGNet), else 'cpu' (classical ASE calculators)."""
    return describe_device(getattr(calculator, "device", None) or "cpu")


#: energies (and forces, stresses) of many structures from one call: ASE results dicts
Evaluate = Callable[[list[Atoms]], list[dict]]


def batch_evaluator(calculator: Calculator, stress: bool = True) -> Evaluate:
    """How ``calculator`` evaluates many structures: CHGNet puts their graphs in one forward
    pass (results as its ASE calculator gives them); any other ASE calculator is called once
    per structure."""
    try:
        from chgnet.model.dynamics import CHGNetCalculator
    except ImportError:  # pragma: no cover - chgnet is a dependency
        CHGNetCalculator = ()
    if not isinstance(calculator, CHGNetCalculator):

        def one(atoms: Atoms) -> dict:
            atoms = atoms.copy()
            atoms.calc = calculator
            result = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces()}
            return result | ({"stress": atoms.get_stress()} if stress else {})

        return lambda atoms_list: [one(atoms) for atoms in atoms_list]
    model, weight = calculator.model, calculator.stress_weight

    def batched(atoms_list: list[Atoms]) -> list[dict]:
        graphs = [model.graph_converter(AseAtomsAdaptor.get_structure(a)) for a in atoms_list]
        predictions = model.predict_graph(
            graphs, task="efs" if stress else "ef", batch_size=len(graphs)
        )
        if isinstance(predictions, dict):  # CHGNet hands one graph's back unwrapped
            predictions = [predictions]
        out = []
        for atoms, p in zip(atoms_list, predictions, strict=True):
            energy = float(p["e"]) * (len(atoms) if model.is_intensive else 1)
            result = {"energy": energy, "free_energy": energy, "forces": p["f"]}
            if stress:
                result["stress"] = p["s"] * weight
            out.append(result)
        return out

    return batched
