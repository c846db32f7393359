"""Reference calculators by name: the offline universal potential CHGNet, or any ASE calculator."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from functools import cache

from ase import Atoms, units
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
    one), as ``OneGradientCHGNet`` (``one_gradient_chgnet``). ``"package.module:ClassName"``:
    that ASE calculator class, instantiated with ``kwargs``. VASP labels come from the VASP
    makers, not from here.
    """
    if name == "chgnet":
        # CHGNet's stress code trips a torch warning on every call; it is harmless noise
        warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")

        device = str(resolve_device(kwargs.pop("device", "auto")))
        calculator_class = one_gradient_chgnet()
        return calculator_class(model=_chgnet_model(), use_device=device, **kwargs)
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


#: eV/Å³ in GPa as CHGNet converts its stresses (its ASE calculator's weight undoes it)
_CHGNET_GPA = 160.21766208

#: energies (and forces, stresses) of many structures from one call: ASE results dicts
Evaluate = Callable[[list[Atoms]], list[dict]]


def chgnet_results(
    model, atoms_list: list[Atoms], stress: bool = True, stress_weight: float = units.GPa
) -> list[dict]:
    """CHGNet's energies, forces (and stresses, eV/Å³ as its ASE calculator gives them) and
    magnetic moments of ``atoms_list`` from one batched forward pass.

    ``CHGNet.predict_graph`` takes forces and stresses as two gradients, each recording a
    graph of itself for training; here one gradient call without that graph gives both:
    the same numbers to float32 rounding in about half the time on a CPU
    (``benchmarks/bench_inference.py``; checked against CHGNet's own calculator in the tests).
    """
    import torch
    from chgnet.model.model import BatchedGraph

    device = next(model.parameters()).device
    graphs = [
        model.graph_converter(AseAtomsAdaptor.get_structure(a)).to(device) for a in atoms_list
    ]
    model.eval()
    with torch.enable_grad():
        batch = BatchedGraph.from_graphs(
            graphs,
            bond_basis_expansion=model.bond_basis_expansion,
            angle_basis_expansion=model.angle_basis_expansion,
            compute_stress=stress,
        )
        prediction = model._compute(batch, compute_magmom=True)
        n_atoms = prediction["atoms_per_graph"]
        total = prediction["e"] * n_atoms if model.is_intensive else prediction["e"]
        inputs = list(batch.atom_positions) + (list(batch.strains) if stress else [])
        gradients = torch.autograd.grad(total.sum(), inputs)
    energies = prediction["e"].detach()
    if model.composition_model is not None:
        energies = energies + model.composition_model(graphs).detach()
    energies = (energies * n_atoms if model.is_intensive else energies).cpu().numpy()
    k, out = len(graphs), []
    for i in range(k):
        energy = float(energies[i])
        result = {
            "energy": energy,
            "free_energy": energy,
            "forces": -gradients[i].detach().cpu().numpy(),
            "magmoms": prediction["m"][i].detach().cpu().numpy(),
        }
        if stress:  # dE/dε / V in GPa as CHGNet has it, times the calculator's weight
            gpa = gradients[k + i].detach() / batch.volumes[i].detach() * _CHGNET_GPA
            result["stress"] = (gpa * stress_weight).cpu().numpy()
        out.append(result)
    return out


@cache
def one_gradient_chgnet() -> type:
    """The class ``OneGradientCHGNet`` (made on first use: chgnet imports torch)."""
    from chgnet.model.dynamics import CHGNetCalculator

    class OneGradientCHGNet(CHGNetCalculator):
        """CHGNet's ASE calculator with energies, forces, stresses and magnetic moments from
        ``chgnet_results``: its numbers in about half its time."""

        def calculate(self, atoms=None, properties=None, system_changes=None, task=None):
            Calculator.calculate(self, atoms, properties or [], system_changes or [])
            (result,) = chgnet_results(self.model, [self.atoms], True, self.stress_weight)
            self.results.update(result)

    return OneGradientCHGNet


def batch_evaluator(calculator: Calculator, stress: bool = True) -> Evaluate:
    """How ``calculator`` evaluates many structures: CHGNet puts their graphs in one forward
    pass (``chgnet_results``); any other ASE calculator is called once per structure."""
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
    return lambda atoms_list: chgnet_results(model, atoms_list, stress, weight)
