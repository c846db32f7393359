"""A set of structures sharing one cell and atom order, stored compactly, read/written as extxyz."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.io import read as ase_read
from ase.io import write as ase_write
from monty.json import MSONable
from pymatgen.core import Lattice, Structure

from cryin_flows.errors import ConfigurationError, TemplateMismatchError


def wrap_fractional(frac: np.ndarray) -> np.ndarray:
    """Fractional coordinates wrapped into [0, 1), 1.0 itself included (``x % 1`` can give 1.0)."""
    wrapped = np.asarray(frac, dtype=float) % 1.0
    wrapped[wrapped >= 1.0] = 0.0
    return wrapped


class InterfaceSet(MSONable):
    """Structures of one system: a shared lattice and species order, per-frame coordinates.

    Fractional coordinates are kept wrapped into [0, 1).
    Stored as one (n_frames, n_atoms, 3) array of fractional coordinates plus a metadata dict
    per frame, which is far smaller in a database than a list of pymatgen structures.
    """

    def __init__(
        self,
        lattice: list | np.ndarray,
        species: list[str],
        frac_coords: list | np.ndarray,
        infos: list[dict[str, Any]] | None = None,
        template_hash: str = "",
    ) -> None:
        self.lattice = np.asarray(lattice, dtype=float).reshape(3, 3)
        self.species = list(species)
        coords = np.asarray(frac_coords, dtype=float).reshape(-1, len(self.species), 3)
        self.frac_coords = wrap_fractional(coords)
        self.infos = (
            list(infos) if infos is not None else [{} for _ in range(len(self.frac_coords))]
        )
        if len(self.infos) != len(self.frac_coords):
            raise ValueError(f"{len(self.infos)} infos for {len(self.frac_coords)} frames")
        self.template_hash = template_hash

    def __len__(self) -> int:
        return len(self.frac_coords)

    def __iter__(self) -> Iterator[Structure]:
        return (self.structure(i) for i in range(len(self)))

    def content_hash(self) -> str:
        """sha256 of coordinates and lattice (rounded to 1e-6) and species: one identity for a
        set of structures wherever it is checked (GAN checkpoints, evaluation summaries)."""
        digest = hashlib.sha256()
        digest.update(np.round(np.asarray(self.frac_coords, dtype=np.float64), 6).tobytes())
        digest.update(np.round(np.asarray(self.lattice, dtype=np.float64), 6).tobytes())
        digest.update(",".join(self.species).encode())
        return digest.hexdigest()

    def cart_coords(self) -> np.ndarray:
        """Cartesian coordinates of all frames, (n_frames, n_atoms, 3)."""
        return self.frac_coords @ self.lattice

    def structure(self, index: int) -> Structure:
        """Frame ``index`` as a pymatgen Structure, with its info as ``properties``."""
        return Structure(
            Lattice(self.lattice),
            self.species,
            self.frac_coords[index],
            properties=dict(self.infos[index]),
        )

    def atoms(self, index: int) -> Atoms:
        """Frame ``index`` as an ASE Atoms object, with its info in ``atoms.info``."""
        atoms = Atoms(
            symbols=self.species,
            scaled_positions=self.frac_coords[index],
            cell=self.lattice,
            pbc=True,
        )
        atoms.info.update(self.infos[index])
        return atoms

    def write_extxyz(self, path: str | Path) -> Path:
        """Write all frames to one extended-XYZ file (the published CryinGAN format)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        ase_write(tmp, [self.atoms(i) for i in range(len(self))], format="extxyz")
        tmp.replace(path)
        return path

    @classmethod
    def read_extxyz(cls, path: str | Path, lattice_tol: float = 1e-4) -> InterfaceSet:
        """Read a multi-frame extxyz; every frame must share the first frame's cell and order.

        Fractional coordinates are wrapped to [0, 1). Errors name the file, frame and field.
        """
        path = Path(path)
        if not path.exists():
            raise ConfigurationError(f"{path}: file does not exist")
        try:
            frames = ase_read(path, index=":", format="extxyz")
        except Exception as exc:
            raise ConfigurationError(f"{path}: not a readable extxyz file ({exc})") from exc
        if not frames:
            raise ConfigurationError(f"{path}: contains no frames")
        first = frames[0]
        species = first.get_chemical_symbols()
        lattice = np.asarray(first.cell)
        coords = np.empty((len(frames), len(species), 3))
        infos = []
        for i, atoms in enumerate(frames):
            label = f"{path}, frame {i}"
            if len(atoms) != len(species):
                raise TemplateMismatchError(
                    f"{label}: atom count {len(atoms)} != {len(species)} in frame 0"
                )
            symbols = atoms.get_chemical_symbols()
            if symbols != species:
                j = next(k for k, (a, b) in enumerate(zip(symbols, species, strict=True)) if a != b)
                raise TemplateMismatchError(
                    f"{label}: species order differs at atom {j}: {symbols[j]} where frame 0 "
                    f"has {species[j]}"
                )
            diff = np.abs(np.asarray(atoms.cell) - lattice).max()
            if diff > lattice_tol:
                raise TemplateMismatchError(
                    f"{label}: lattice differs from frame 0 by {diff:.2e} Å"
                )
            coords[i] = wrap_fractional(atoms.get_scaled_positions(wrap=False))
            info = {k: _plain(v) for k, v in atoms.info.items()}
            if atoms.calc is not None:  # ASE reads "energy" etc. into a calculator
                for key in ("energy", "free_energy"):
                    if key in atoms.calc.results:
                        info.setdefault(key, float(atoms.calc.results[key]))
            infos.append(info)
        template_hash = str(infos[0].get("template_hash", ""))
        return cls(lattice, species, coords, infos, template_hash=template_hash)

    @classmethod
    def concatenate(cls, sets: list[InterfaceSet]) -> InterfaceSet:
        """One set of all frames of ``sets``, which must share lattice, species and template."""
        if not sets:
            raise ValueError("nothing to concatenate")
        first = sets[0]
        for i, other in enumerate(sets[1:], start=1):
            if (
                other.species != first.species
                or not np.allclose(other.lattice, first.lattice, atol=1e-6)
                or other.template_hash != first.template_hash
            ):
                raise TemplateMismatchError(
                    f"set {i} differs from set 0 in lattice, species order or template"
                )
        return cls(
            first.lattice,
            first.species,
            np.concatenate([s.frac_coords for s in sets]),
            [info for s in sets for info in s.infos],
            first.template_hash,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (coordinates rounded to 1e-8, far below any structural meaning)."""
        return {
            "@module": type(self).__module__,
            "@class": type(self).__name__,
            "lattice": self.lattice.tolist(),
            "species": self.species,
            "frac_coords": np.round(self.frac_coords, 8).tolist(),
            "infos": [{k: _plain(v) for k, v in info.items()} for info in self.infos],
            "template_hash": self.template_hash,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InterfaceSet:
        """Inverse of ``as_dict``."""
        return cls(d["lattice"], d["species"], d["frac_coords"], d["infos"], d["template_hash"])


def _plain(value: Any) -> Any:
    """numpy scalars and arrays to built-in types, for JSON and extxyz."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
