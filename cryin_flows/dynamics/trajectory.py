"""One MD run's production frames, kept compact: positions as float32 arrays, serialised as
compressed base64 so that a document store (GridFS) holds megabytes, not JSON lists."""

from __future__ import annotations

import base64
import io

import numpy as np
from monty.json import MSONable
from pymatgen.core import Structure

_ARRAYS = ("positions", "temperatures", "energies")


class Trajectory(MSONable):
    """Unwrapped Cartesian ``positions`` (frames, atoms, 3), Å, one frame every ``frame_fs``
    from the start of production, with each frame's temperature (K) and potential energy
    (eV); ``structure`` (pymatgen dict) is the supercell the run started from. (A plain
    class, not a dataclass: pydantic would dump a dataclass field by field.)"""

    def __init__(
        self,
        name: str,
        temperature: float,
        structure: dict,
        frame_fs: float,
        positions: np.ndarray,
        temperatures: np.ndarray,
        energies: np.ndarray,
    ):
        if isinstance(structure, Structure):  # a store may hand the dict back decoded
            structure = structure.as_dict()
        self.name, self.temperature, self.structure = name, float(temperature), structure
        self.frame_fs = float(frame_fs)
        self.positions = np.asarray(positions, dtype=np.float32)
        self.temperatures, self.energies = np.asarray(temperatures), np.asarray(energies)

    @property
    def start(self) -> Structure:
        return Structure.from_dict(self.structure)

    @property
    def duration_ps(self) -> float:
        return (len(self.positions) - 1) * self.frame_fs / 1000

    def species_indices(self, species: str) -> np.ndarray:
        return np.array([i for i, s in enumerate(self.start) if s.specie.symbol == species])

    def as_dict(self) -> dict:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **{k: getattr(self, k) for k in _ARRAYS})
        return {
            "@module": type(self).__module__,
            "@class": type(self).__name__,
            "name": self.name,
            "temperature": float(self.temperature),
            "structure": self.structure,
            "frame_fs": float(self.frame_fs),
            "n_frames": len(self.positions),
            "arrays_npz_base64": base64.b64encode(buffer.getvalue()).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Trajectory:
        arrays = np.load(io.BytesIO(base64.b64decode(d["arrays_npz_base64"])))
        return cls(
            name=d["name"],
            temperature=d["temperature"],
            structure=d["structure"],
            frame_fs=d["frame_fs"],
            **{k: arrays[k] for k in _ARRAYS},
        )
