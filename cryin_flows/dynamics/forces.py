"""Forces for the batched integrators from the calculators the package knows: the study's
matgl potential with the relaxer's device-resident ``BatchedPotential`` (runs sharing a cell
and species, all on the device), or any ASE calculator through ``batch_evaluator`` (CHGNet
batches its graphs; others are called once per run)."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from ase import Atoms

from cryin_flows.dynamics.integrators import ForceFn
from cryin_flows.potentials.calculators import (
    STUDY_POTENTIAL,
    batch_evaluator,
    calculator_device,
    get_calculator,
)


def _wrapped(positions: torch.Tensor, lattice: torch.Tensor) -> torch.Tensor:
    """Unwrapped positions folded into the cell (forces do not change)."""
    frac = positions @ torch.linalg.inv(lattice)
    return (frac - torch.floor(frac)) @ lattice


def calculator_forces(calculator, atoms: list[Atoms]) -> ForceFn:
    """A ``ForceFn`` of one ASE calculator over runs that start as ``atoms`` (their cells
    and species stay; positions come from the integrator)."""
    evaluate = batch_evaluator(calculator, stress=False)
    copies = [a.copy() for a in atoms]
    cells = [torch.as_tensor(np.asarray(a.cell), dtype=torch.float64) for a in copies]

    def forces(positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        host = positions.detach().cpu()
        for a, p, cell in zip(copies, host, cells, strict=True):
            a.positions = _wrapped(p, cell).numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = evaluate(copies)
        kw = {"dtype": torch.float64, "device": positions.device}
        energies = torch.tensor([float(r["energy"]) for r in results], **kw)
        f = torch.as_tensor(np.stack([np.asarray(r["forces"]) for r in results]), **kw)
        return energies, f

    return forces


def potential_forces(potential, lattice, species: list[str]) -> ForceFn:
    """A ``ForceFn`` of a ``BatchedPotential`` for runs sharing one ``lattice`` and species
    order: graphs built and evaluated on its device."""
    device = potential.device
    cell = torch.as_tensor(np.asarray(lattice), dtype=torch.float64, device=device)

    def forces(positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return potential(_wrapped(positions.to(device), cell), cell, species)

    return forces


def force_backend(
    calculator: str, kwargs: dict, atoms: list[Atoms], device: str = "auto"
) -> tuple[ForceFn, str]:
    """The ``ForceFn`` for ``atoms`` with the calculator named ``calculator``
    (``get_calculator``) and where it computes. The study's potential goes to the device
    as a ``BatchedPotential`` when the runs share a cell and species; anything else is an
    ASE calculator."""
    same = all(
        np.allclose(a.cell, atoms[0].cell)
        and a.get_chemical_symbols() == atoms[0].get_chemical_symbols()
        for a in atoms
    )
    if calculator == STUDY_POTENTIAL and same:
        from cryin_flows.devices import describe_device
        from cryin_flows.potentials.m3gnet import load_potential
        from cryin_flows.potentials.relax import BatchedPotential

        model = BatchedPotential(load_potential(kwargs["path"]), device)
        fn = potential_forces(model, atoms[0].cell[:], atoms[0].get_chemical_symbols())
        return fn, describe_device(model.device)
    extra = {"device": device} if calculator == "chgnet" else {}
    ase_calculator = get_calculator(calculator, **(extra | dict(kwargs)))
    return calculator_forces(ase_calculator, atoms), calculator_device(ase_calculator)
