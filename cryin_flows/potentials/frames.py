"""Training frames for the potential, harvested from relaxation trajectories (SPEC.md §3).

From each stage-2 relaxation: ionic steps 5, 15, 25, ... (1-based) plus the final structure.
Splits are made by relaxation, never by frame, so near-duplicate frames of one relaxation
cannot sit on both sides. Single-point labels join the training split: bulk cells (with one
stoichiometry in every interface frame, per-element reference energies cannot be told apart
without them) and close contacts (the repulsive wall no relaxation visits).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import write as ase_write

from cryin_flows.errors import ConfigurationError
from cryin_flows.potentials.labelling import RelaxationTrajectory

SPLITS = ("train", "val", "test")
# labels of single-point frames that always go to the training split
TRAIN_ONLY_PREFIXES = ("bulk-", "contact-")


def harvest_indices(n_steps: int, first: int = 5, every: int = 10) -> list[int]:
    """0-based indices of ionic steps ``first``, ``first + every``, ... (1-based) and the last."""
    if n_steps < 1:
        return []
    picked = list(range(first - 1, n_steps, every))
    if not picked or picked[-1] != n_steps - 1:
        picked.append(n_steps - 1)
    return picked


def harvest(trajectory: RelaxationTrajectory, first: int = 5, every: int = 10) -> list[Atoms]:
    """Frames of the stage-2 part of a relaxation, with energy, forces and stress attached."""
    stage2 = np.flatnonzero(trajectory.stage == 2)
    if len(stage2) == 0:
        raise ConfigurationError(f"trajectory {trajectory.label!r} has no stage-2 steps")
    if trajectory.forces.shape != trajectory.positions.shape:
        raise ConfigurationError(f"trajectory {trajectory.label!r} has no forces for every step")
    frames = []
    for k in harvest_indices(len(stage2), first, every):
        atoms = trajectory.atoms(int(stage2[k]))
        atoms.info["ionic_step"] = k + 1
        frames.append(atoms)
    return frames


def split_labels(
    labels: list[str], fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
) -> dict[str, list[str]]:
    """Assign whole relaxations to train / val / test in the given proportions, seeded."""
    if not np.isclose(sum(fractions), 1.0) or min(fractions) < 0:
        raise ConfigurationError(f"split fractions must be >= 0 and sum to 1, got {fractions}")
    unique = sorted(set(labels))
    order = np.random.default_rng(seed).permutation(len(unique))
    n = len(unique)
    n_val = round(fractions[1] * n)
    n_test = round(fractions[2] * n)
    if n >= 3:  # keep every split non-empty when there is anything to split
        n_val, n_test = max(n_val, 1 if fractions[1] else 0), max(n_test, 1 if fractions[2] else 0)
    n_train = n - n_val - n_test
    parts = np.split(order, [n_train, n_train + n_val])
    return {name: [unique[i] for i in part] for name, part in zip(SPLITS, parts, strict=True)}


def frames_hash(frames: list[Atoms]) -> str:
    """Content hash of frames (species, positions, cell, energy)."""
    digest = hashlib.sha256()
    for atoms in frames:
        digest.update(",".join(atoms.get_chemical_symbols()).encode())
        digest.update(np.round(atoms.positions, 6).tobytes())
        digest.update(np.round(np.asarray(atoms.cell), 6).tobytes())
        digest.update(np.float64(atoms.get_potential_energy()).tobytes())
    return digest.hexdigest()


def write_frames(frames: list[Atoms], path: str | Path) -> Path:
    """Frames to extxyz with energy, forces and stress (eV, eV/Å, eV/Å³ as matgl reads them)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for i, atoms in enumerate(frames):
        if atoms.calc is None or "forces" not in atoms.calc.results:
            raise ConfigurationError(f"{path}: frame {i} has no forces")
    tmp = path.with_name(path.name + ".part")
    ase_write(tmp, frames, format="extxyz")
    tmp.replace(path)
    return path


def write_frame_splits(
    trajectories: list[RelaxationTrajectory],
    out_dir: str | Path,
    first: int = 5,
    every: int = 10,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    base: dict[str, list[Atoms]] | None = None,
) -> tuple[dict[str, list[str]], dict[str, int], dict[str, Path]]:
    """Harvest, split by relaxation (``bulk-*`` and ``contact-*`` labels always train), write
    extxyz. ``base`` frames per split (an earlier frame set) come first in each file.

    Returns (relaxation labels per split, frames per split, file per split); the labels are
    the new trajectories', the counts and files include ``base``.
    """
    out_dir = Path(out_dir)
    by_label = {t.label: harvest(t, first, every) for t in trajectories}
    single = [label for label in by_label if label.startswith(TRAIN_ONLY_PREFIXES)]
    split = split_labels([label for label in by_label if label not in single], fractions, seed)
    split["train"] = [*split["train"], *single]
    base = base or {}
    counts, paths = {}, {}
    for name, members in split.items():
        frames = [*base.get(name, []), *(f for label in members for f in by_label[label])]
        counts[name] = len(frames)
        if frames:
            paths[name] = write_frames(frames, out_dir / f"{name}.extxyz")
    return split, counts, paths
