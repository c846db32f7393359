"""Training data of a GAN: one lattice, one atom order in contiguous species blocks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from cryin_flows.errors import TemplateMismatchError
from cryin_flows.interfaces.interface_set import InterfaceSet


def species_blocks(species: list[str], label: str = "dataset") -> tuple[list[str], list[int]]:
    """Block order and block sizes; raises if a species appears in two separate blocks."""
    order: list[str] = []
    sizes: list[int] = []
    for i, el in enumerate(species):
        if order and el == order[-1]:
            sizes[-1] += 1
            continue
        if el in order:
            raise TemplateMismatchError(
                f"{label}: species are not in contiguous blocks: {el} at atom {i} after "
                f"{order[-1]} (blocks so far {'-'.join(order)})"
            )
        order.append(el)
        sizes.append(1)
    return order, sizes


@dataclass
class GanDataset:
    """Fractional coordinates (n, N, 3) in [0, 1) with the shared lattice and species."""

    frac: torch.Tensor
    lattice: torch.Tensor
    species: list[str]
    species_order: list[str]
    block_sizes: list[int]
    template_hash: str = ""
    source: str = ""

    @classmethod
    def from_interface_set(cls, structures: InterfaceSet, source: str = "") -> GanDataset:
        """From structures already validated to share a lattice and order."""
        if len(structures) == 0:
            raise TemplateMismatchError(f"{source or 'dataset'}: contains no structures")
        order, sizes = species_blocks(structures.species, source or "dataset")
        return cls(
            frac=torch.tensor(structures.frac_coords, dtype=torch.float32),
            lattice=torch.tensor(structures.lattice, dtype=torch.float32),
            species=list(structures.species),
            species_order=order,
            block_sizes=sizes,
            template_hash=structures.template_hash,
            source=source,
        )

    @classmethod
    def from_extxyz(cls, path: str | Path) -> GanDataset:
        """Read and validate every frame (lattice, count, order; errors name frame and field)."""
        return cls.from_interface_set(InterfaceSet.read_extxyz(path), source=str(path))

    def __len__(self) -> int:
        return int(self.frac.shape[0])

    @property
    def n_atoms(self) -> int:
        """Atoms per structure."""
        return int(self.frac.shape[1])

    def content_hash(self) -> str:
        """The training data's identity (``InterfaceSet.content_hash``)."""
        return self.to_interface_set().content_hash()

    def to_interface_set(self) -> InterfaceSet:
        """Back to an InterfaceSet (e.g. to write extxyz)."""
        return InterfaceSet(
            self.lattice.double().numpy(),
            self.species,
            self.frac.double().numpy(),
            template_hash=self.template_hash,
        )
