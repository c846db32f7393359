"""Which torch device a computation runs on: ``auto`` follows the node (CUDA when the node has
one, else the CPU), so one setting serves CPU and GPU workers alike; ``cpu``/``cuda`` pin it."""

from __future__ import annotations

from typing import Literal

import torch

from cryin_flows.errors import ConfigurationError

DeviceName = Literal["auto", "cpu", "cuda"]


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' -> CUDA when ``torch.cuda.is_available()``, else CPU; 'cuda' without CUDA is an
    error (a GPU job on a node without one), not a silent fall-back."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigurationError(f"device {name!r} requested but CUDA is not available here")
    try:
        return torch.device(name)
    except RuntimeError:
        raise ConfigurationError(f"unknown device {name!r}: use auto, cpu or cuda") from None


def describe_device(device: torch.device | str) -> str:
    """What an output document records: 'cpu', or 'cuda:0 (<GPU name>)'."""
    device = torch.device(device)
    if device.type != "cuda":
        return device.type
    index = device.index if device.index is not None else torch.cuda.current_device()
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
