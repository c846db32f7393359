"""Reference labels: the paper's two-stage fixed-cell relaxation, recorded step by step.

Stage 1 moves only the region atoms for a set number of steps; stage 2 moves all atoms until
the largest force is below 0.1 eV/Å (SPEC.md §2, with any ASE calculator standing in for DFT).
Every ionic step's energy, forces and stress are kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.constraints import FixAtoms
from ase.optimize import BFGS, FIRE
from monty.json import MSONable
from pydantic import Field

from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.potentials.calculators import get_calculator
from cryin_flows.utils import SerializableModel, retain_freed_memory

OPTIMIZERS = {"FIRE": FIRE, "BFGS": BFGS}
# close-contact distances, Å: from well inside the 1.5 Å close-pair cut to the 2-3 Å where an
# anion-anion contact of a potential trained on relaxations alone can sit in a false minimum
CONTACT_DISTANCES = (1.2, 3.0)


class LabelSettings(SerializableModel):
    """Two-stage relaxation of a random interface with a reference calculator."""

    stage1_steps: int = Field(50, ge=0, description="Region-only steps (the paper: 50)")
    stage2_fmax: float = Field(0.1, gt=0, description="Stage-2 force threshold, eV/Å")
    stage2_max_steps: int = Field(500, ge=1, description="Stage-2 step limit")
    optimizer: str = Field("FIRE", description="ASE optimiser: FIRE or BFGS")


class RelaxationTrajectory(MSONable):
    """Positions, energies, forces and stresses of every ionic step of one relaxation.

    Stresses are ASE's (eV/Å³, Voigt order xx yy zz yz xz xy, tensile positive). ``stage``
    says which stage produced each step; step 0 is the starting structure.
    """

    def __init__(
        self,
        species: list[str],
        lattice: Any,
        positions: Any,
        energies: Any,
        forces: Any,
        stresses: Any,
        stage: Any,
        converged: bool,
        label: str = "",
        calculator: str = "",
    ):
        self.species = list(species)
        self.lattice = np.asarray(lattice, dtype=float)
        self.positions = np.asarray(positions, dtype=float)
        self.energies = np.asarray(energies, dtype=float)
        self.forces = np.asarray(forces, dtype=float)
        self.stresses = np.asarray(stresses, dtype=float)
        self.stage = np.asarray(stage, dtype=int)
        self.converged = bool(converged)
        self.label = label
        self.calculator = calculator

    def __len__(self) -> int:
        return len(self.energies)

    def atoms(self, step: int) -> Atoms:
        """Step ``step`` as ASE Atoms with its energy, forces and stress attached."""
        from ase.calculators.singlepoint import SinglePointCalculator

        atoms = Atoms(self.species, positions=self.positions[step], cell=self.lattice, pbc=True)
        atoms.calc = SinglePointCalculator(
            atoms,
            energy=float(self.energies[step]),
            forces=self.forces[step].copy(),
            stress=self.stresses[step].copy(),
        )
        atoms.info.update(
            {"trajectory": self.label, "step": int(step), "stage": int(self.stage[step])}
        )
        return atoms

    def as_dict(self) -> dict:
        return {
            "@module": type(self).__module__,
            "@class": type(self).__name__,
            "species": self.species,
            "lattice": self.lattice.tolist(),
            "positions": self.positions.tolist(),
            "energies": self.energies.tolist(),
            "forces": self.forces.tolist(),
            "stresses": self.stresses.tolist(),
            "stage": self.stage.tolist(),
            "converged": self.converged,
            "label": self.label,
            "calculator": self.calculator,
        }

    @classmethod
    def from_dict(cls, d: dict) -> RelaxationTrajectory:
        return cls(**{k: v for k, v in d.items() if not k.startswith("@")})


def relax_two_stage(
    atoms: Atoms,
    calculator: Calculator,
    region: np.ndarray | list[int],
    settings: LabelSettings | None = None,
    label: str = "",
    calculator_name: str = "",
) -> RelaxationTrajectory:
    """Relax ``atoms`` (fixed cell) in two stages and record every step."""
    settings = settings or LabelSettings()
    if settings.optimizer not in OPTIMIZERS:
        raise ConfigurationError(
            f"optimizer {settings.optimizer!r} unknown; choose from {sorted(OPTIMIZERS)}"
        )
    atoms = atoms.copy()
    atoms.calc = calculator
    region = np.asarray(region, dtype=int)
    record: dict[str, list] = {k: [] for k in ("pos", "e", "f", "s", "stage")}
    current_stage = [1]

    def observe() -> None:
        record["pos"].append(atoms.get_positions())
        record["e"].append(atoms.get_potential_energy())
        record["f"].append(atoms.get_forces(apply_constraint=False))
        record["s"].append(atoms.get_stress(voigt=True))
        record["stage"].append(current_stage[0])

    optimizer = OPTIMIZERS[settings.optimizer]
    if settings.stage1_steps > 0:
        fixed = np.setdiff1d(np.arange(len(atoms)), region)
        atoms.set_constraint(FixAtoms(indices=fixed))
        opt = optimizer(atoms, logfile=None)
        opt.attach(observe, interval=1)
        opt.run(fmax=1e-6, steps=settings.stage1_steps)  # a set number of steps, as the paper
        atoms.set_constraint()
    current_stage[0] = 2
    opt = optimizer(atoms, logfile=None)
    opt.attach(observe, interval=1)
    converged = bool(opt.run(fmax=settings.stage2_fmax, steps=settings.stage2_max_steps))
    return RelaxationTrajectory(
        species=atoms.get_chemical_symbols(),
        lattice=np.asarray(atoms.cell),
        positions=record["pos"],
        energies=record["e"],
        forces=record["f"],
        stresses=record["s"],
        stage=record["stage"],
        converged=converged,
        label=label,
        calculator=calculator_name,
    )


def _single_point(atoms: Atoms, calculator: Calculator, label: str, name: str):
    """A one-step stage-2 "trajectory" of ``atoms`` labelled by ``calculator``."""
    atoms.calc = calculator
    return RelaxationTrajectory(
        species=atoms.get_chemical_symbols(),
        lattice=np.asarray(atoms.cell),
        positions=[atoms.get_positions()],
        energies=[atoms.get_potential_energy()],
        forces=[atoms.get_forces()],
        stresses=[atoms.get_stress(voigt=True)],
        stage=[2],
        converged=True,
        label=label,
        calculator=name,
    )


def label_bulk_cells(
    calculator: Calculator,
    bulks: dict[str, Atoms],
    n_per_bulk: int = 4,
    strain: float = 0.02,
    rattle: float = 0.03,
    seed: int = 0,
    calculator_name: str = "",
) -> list[RelaxationTrajectory]:
    """Single-point labels of bulk cells (as-is, then strained and rattled copies).

    They pin down the per-element reference energies that interface frames of a single
    stoichiometry cannot. Each is a one-step stage-2 "trajectory" labelled ``bulk-<name>-<k>``.
    """
    rng = np.random.default_rng(seed)
    out = []
    for name, bulk in bulks.items():
        for k in range(n_per_bulk):
            atoms = bulk.copy()
            if k:
                scale = 1.0 + rng.uniform(-strain, strain, 3)
                atoms.set_cell(np.asarray(atoms.cell) * scale[:, None], scale_atoms=True)
                atoms.positions += rng.normal(0.0, rattle, atoms.positions.shape)
            out.append(_single_point(atoms, calculator, f"bulk-{name}-{k}", calculator_name))
    return out


def label_contacts(
    calculator: Calculator,
    trajectories: list[RelaxationTrajectory],
    n_per_relaxation: int,
    distances: tuple[float, float] = CONTACT_DISTANCES,
    neighbour_cutoff: float = 4.0,
    seed: int = 0,
    calculator_name: str = "",
) -> list[RelaxationTrajectory]:
    """Single-point labels of close contacts, labelled ``contact-<relaxation>-<k>``.

    Each is the last structure of a relaxation with one atom moved along the line to one of
    its neighbours, to a distance drawn uniformly from ``distances`` (Å). The species pair is
    drawn uniformly among those present within ``neighbour_cutoff``, so anion-anion contacts
    are as common as Li-anion ones. Relaxation trajectories never visit this repulsive wall;
    a potential trained without it can let a relaxation fall through it (pairs at ~1 Å).
    """
    lo, hi = distances
    if not 0 < lo <= hi:
        raise ConfigurationError(f"contact distances must satisfy 0 < low <= high, got {distances}")
    rng = np.random.default_rng(seed)
    out = []
    for trajectory in trajectories:
        base = trajectory.atoms(len(trajectory) - 1)
        base.calc = None
        species = np.asarray(base.get_chemical_symbols())
        dist = base.get_all_distances(mic=True)
        i_idx, j_idx = np.nonzero((dist < neighbour_cutoff) & (dist > 0))
        kinds = np.array(
            ["-".join(sorted(p)) for p in zip(species[i_idx], species[j_idx], strict=True)]
        )
        names = np.unique(kinds)
        for k in range(n_per_relaxation):
            pairs = np.flatnonzero(kinds == names[rng.integers(len(names))])
            pick = pairs[rng.integers(len(pairs))]
            i, j = int(i_idx[pick]), int(j_idx[pick])
            atoms = base.copy()
            direction = atoms.get_distance(j, i, mic=True, vector=True)
            direction /= np.linalg.norm(direction)
            atoms.positions[i] = atoms.positions[j] + direction * rng.uniform(lo, hi)
            label = f"contact-{trajectory.label}-{k}"
            out.append(_single_point(atoms, calculator, label, calculator_name))
    return out


_WORKER: dict[str, Any] = {}


def _init_label_worker(name: str, kwargs: dict, threads: int) -> None:
    """A worker process's calculator, built once, and its share of the torch threads."""
    import torch

    torch.set_num_threads(threads)
    retain_freed_memory()
    _WORKER["calculator"] = get_calculator(name, **kwargs)
    _WORKER["name"] = name


def _label_one(args: tuple) -> RelaxationTrajectory:
    atoms, region, settings, label = args
    return relax_two_stage(atoms, _WORKER["calculator"], region, settings, label, _WORKER["name"])


def label_interfaces(
    structures,
    template: InterfaceTemplate,
    calculator: str,
    settings: LabelSettings | None = None,
    calculator_kwargs: dict | None = None,
    workers: int = 1,
    progress=None,
) -> list[RelaxationTrajectory]:
    """Two-stage relaxations of every frame of an InterfaceSet with the reference calculator
    named ``calculator`` (``get_calculator``); stage 1 moves each frame's interface region
    (``InterfaceTemplate.locate_region``). Labels are ``<seed>-<index>`` from each frame's
    provenance.

    ``workers`` > 1 runs the relaxations in that many spawned processes, each with its own
    calculator and an equal share of the cores as torch threads (issue 14: on CPU, processes
    beat threads for these small graphs); the order of the output is the input's.
    """
    if workers < 1:
        raise ConfigurationError(f"label workers must be >= 1, got {workers}")
    retain_freed_memory()
    kwargs = dict(calculator_kwargs or {})
    tasks = []
    for i in range(len(structures)):
        atoms = structures.atoms(i)
        info = structures.infos[i]
        label = f"{info.get('seed', 's')}-{info.get('index', i)}"
        tasks.append((atoms, template.region_indices(atoms.positions), settings, label))
    workers = min(workers, len(tasks))
    if workers <= 1:
        reference = get_calculator(calculator, **kwargs)
        trajectories = []
        for atoms, region, task_settings, label in tasks:
            trajectories.append(
                relax_two_stage(atoms, reference, region, task_settings, label, calculator)
            )
            if progress is not None:
                progress(1)
        return trajectories
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import torch

    threads = max(1, torch.get_num_threads() // workers)
    results: list[RelaxationTrajectory | None] = [None] * len(tasks)
    context = multiprocessing.get_context("spawn")  # torch's thread pools do not survive fork
    with ProcessPoolExecutor(
        workers, context, _init_label_worker, (calculator, kwargs, threads)
    ) as pool:
        futures = {pool.submit(_label_one, task): k for k, task in enumerate(tasks)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(1)
    return results  # type: ignore[return-value]
