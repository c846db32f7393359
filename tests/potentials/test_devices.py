"""Devices follow the node: ``auto`` picks CUDA when torch says the node has it (mocked at
``torch.cuda.is_available``, the boundary this machine cannot cross) and the CPU otherwise;
output documents record where the model ran."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import bulk
from jobflow import run_locally

from cryin_flows.devices import describe_device, resolve_device
from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.makers.potentials import RelaxMaker
from cryin_flows.potentials.calculators import calculator_device, get_calculator
from cryin_flows.potentials.relax import RelaxSettings
from cryin_flows.settings import get_settings


def rattled_licl(n: int = 2) -> InterfaceSet:
    atoms = bulk("LiCl", "rocksalt", a=5.2, cubic=True)
    frames = []
    for i in range(n):
        copy = atoms.copy()
        copy.rattle(0.05, seed=i)
        frames.append(copy.get_scaled_positions())
    return InterfaceSet(np.array(atoms.cell), atoms.get_chemical_symbols(), np.array(frames))


def test_auto_follows_torch_cuda_availability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")  # a pinned device stays pinned
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ConfigurationError, match="'cuda' requested but CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(ConfigurationError, match="unknown device 'gpu0'"):
        resolve_device("gpu0")


def test_describe_device_names_the_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: f"Mock GPU {index}")
    assert describe_device(torch.device("cuda")) == "cuda:0 (Mock GPU 0)"
    assert describe_device("cuda:1") == "cuda:1 (Mock GPU 1)"
    assert describe_device("cpu") == "cpu"


def test_relaxation_job_on_auto_runs_on_the_cpu_and_records_it(tiny_potential, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    maker = RelaxMaker(settings=RelaxSettings(max_steps=3))
    assert maker.settings.device == "auto"
    job = maker.make(rattled_licl(), tiny_potential)
    store = get_job_store(get_settings())
    run_locally(job, store=store, log=False, ensure_success=True)
    doc = load_output(job.uuid, store)
    assert doc.device == "cpu" and doc.n_structures == 2


def test_relaxation_job_on_auto_picks_cuda_when_the_node_has_it(tiny_potential, monkeypatch):
    """With CUDA reported, the job moves the model to CUDA: on this CPU-only torch build that
    move is where it stops, with torch's own error."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    moved_to = []
    original = torch.nn.Module.to

    def spy(self, *args, **kwargs):
        moved_to.append(args[0] if args else kwargs.get("device"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "to", spy)
    with pytest.raises((AssertionError, RuntimeError), match=r"CUDA|cuda"):
        RelaxMaker(settings=RelaxSettings(max_steps=3)).make.original(
            RelaxMaker(settings=RelaxSettings(max_steps=3)), rattled_licl(), tiny_potential
        )
    assert torch.device("cuda") in moved_to
    # pinned to the CPU, the same job runs where it is told, whatever the node has
    doc = RelaxMaker(settings=RelaxSettings(max_steps=3, device="cpu")).make.original(
        RelaxMaker(settings=RelaxSettings(max_steps=3, device="cpu")),
        rattled_licl(),
        tiny_potential,
    )
    assert doc.device == "cpu"


def test_reference_calculators_record_their_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert calculator_device(get_calculator("chgnet")) == "cpu"
    lj = get_calculator("ase.calculators.lj:LennardJones")
    assert calculator_device(lj) == "cpu"
