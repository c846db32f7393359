"""Relaxation of phases and candidates (cell and positions) with a calculator, many structures
side by side: each with its own ASE FIRE on ``FrechetCellFilter``, their energies, forces and
stresses from one model call per step (CHGNet batches their graphs), finished ones replaced at
once; progress in a resumable JSON-lines log."""

from __future__ import annotations

import time
import warnings
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.filters import FrechetCellFilter
from ase.optimize import FIRE
from pydantic import BaseModel, Field, field_validator
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from cryin_flows.errors import CryinError
from cryin_flows.potentials.calculators import Evaluate, batch_evaluator
from cryin_flows.utils import SerializableModel


class PhaseRelaxSettings(SerializableModel):
    """Relaxation of phases and candidates before their energies are used (seed 003)."""

    fmax: float = Field(0.05, gt=0, description="Force convergence, eV/Å (cell and positions)")
    max_steps: int = Field(500, ge=1, description="Most FIRE steps per structure")
    relax_cell: bool = Field(True, description="Relax the cell with the positions")
    diverged_above: float | None = Field(
        0.0,
        description="eV/atom: a relaxation still above this after 50 steps is stopped as "
        "diverged (a potential's unphysical region; every compound here is below 0); None: never",
    )
    batch_size: int = Field(
        32,
        ge=1,
        description="Structures relaxed side by side, each with its own FIRE, their energies, "
        "forces and stresses from one model call per step (CHGNet batches their graphs; other "
        "calculators are called once per structure); a finished structure's place is taken "
        "by the next at once",
    )
    threads: int | None = Field(
        1,
        ge=1,
        description="torch CPU threads of a relaxing process; these cells are small and one "
        "thread measured fastest (benchmarks/bench_screen.py); None: torch's default",
    )


class RelaxedEnergy(BaseModel):
    """One relaxed structure's energy."""

    name: str = Field(description="Phase or candidate name")
    formula: str = Field(description="Reduced formula")
    energy: float = Field(description="Total energy of the relaxed cell, eV (uncorrected)")
    energy_per_atom: float = Field(description="eV/atom, as the calculator gives it")
    n_atoms: int = Field(description="Atoms in the cell")
    converged: bool = Field(description="Whether max force fell below fmax")
    steps: int = Field(description="FIRE steps taken")
    seconds: float = Field(
        description="Wall time from its start to its end (shared with the structures relaxed "
        "beside it)"
    )
    structure: dict = Field(description="The relaxed structure (pymatgen dict)")
    parameters: dict | None = Field(
        None,
        description="The run's settings as pymatgen entries carry them (run_type, is_hubbard, "
        "hubbards, potcar_spec) when a DFT code computed it; MP2020 reads them",
    )

    @field_validator("structure", mode="before")
    @classmethod
    def _plain(cls, value):
        # jobflow hands a stored dict back as the pymatgen object it describes
        return value.as_dict() if isinstance(value, Structure) else value


class _Held(Calculator):
    """The results the batched call computed for this structure at its current positions and
    cell; ASE's own state check drops them once the optimiser moves the atoms."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def hold(self, atoms: Atoms, results: dict) -> None:
        self.atoms = atoms.copy()
        self.results = dict(results)

    def calculate(self, atoms=None, properties=None, system_changes=None):
        raise RuntimeError("a property was asked for where the batch did not evaluate")


class _Relaxation:
    """One structure's FIRE (on ``FrechetCellFilter`` when the cell relaxes), stepped by the
    batch loop as ``Optimizer.irun`` steps it: convergence check, then one step."""

    def __init__(self, name: str, structure, settings: PhaseRelaxSettings):
        self.name, self.settings = name, settings
        self.start = time.perf_counter()
        self.atoms = AseAtomsAdaptor.get_atoms(structure)
        self.held = _Held()
        self.atoms.calc = self.held
        target = FrechetCellFilter(self.atoms) if settings.relax_cell else self.atoms
        self.opt = FIRE(target, logfile=None)
        self.opt.fmax = settings.fmax  # what Optimizer.run sets

    def advance(self, results: dict) -> RelaxedEnergy | None:
        """Take the batch's results for the current geometry; the relaxed energy when done,
        None while it goes on; a one-line ``CryinError`` when it diverges or is not finite."""
        energy = float(results["energy"])
        if not np.isfinite(energy) or not np.all(np.isfinite(results["forces"])):
            raise CryinError(f"{self.name}: relaxation gave a non-finite energy or force")
        self.held.hold(self.atoms, results)
        opt, limit = self.opt, self.settings.diverged_above
        converged = bool(opt.converged())
        if converged or opt.nsteps >= self.settings.max_steps:
            return self.result(energy, converged)
        if limit is not None and opt.nsteps >= 50 and energy / len(self.atoms) > limit:
            raise CryinError(
                f"{self.name}: relaxation diverged ({energy / len(self.atoms):+.2f} eV/atom "
                f"after {opt.nsteps} steps)"
            )
        opt.step()
        opt.nsteps += 1
        return None

    def result(self, energy: float, converged: bool) -> RelaxedEnergy:
        found = AseAtomsAdaptor.get_structure(self.atoms)
        relaxed = Structure(found.lattice, found.species, found.frac_coords)  # no float32 props
        return RelaxedEnergy(
            name=self.name,
            formula=relaxed.composition.reduced_formula,
            energy=energy,
            energy_per_atom=energy / len(self.atoms),
            n_atoms=len(self.atoms),
            converged=converged,
            steps=int(self.opt.nsteps),
            seconds=time.perf_counter() - self.start,
            structure=relaxed.as_dict(),
        )


def _evaluate(evaluate: Evaluate, runs: list[_Relaxation]) -> list[dict | str]:
    """The batch's results; when the call fails, each structure alone, so that the one the
    calculator refuses is named and the others go on."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return evaluate([run.atoms for run in runs])
    except Exception:
        if len(runs) == 1:
            raise
    out: list[dict | str] = []
    for run in runs:
        try:
            out.extend(_evaluate(evaluate, [run]))
        except Exception as exc:  # any calculator error: say which structure
            out.append(f"{run.name}: relaxation failed: {type(exc).__name__}: {exc}")
    return out


OnResult = Callable[[RelaxedEnergy | None, str, str | None], None]


def relax_batch(
    items: list[tuple[str, object]],
    calculator: Calculator,
    settings: PhaseRelaxSettings,
    on_result: OnResult,
) -> None:
    """Relax ``items`` (name, structure), ``settings.batch_size`` at a time with one
    calculator call per step for the whole batch (``batch_evaluator``); each structure keeps
    its own FIRE, stepped exactly as ``FIRE.run`` would. ``on_result(result, name, error)``
    is called as each finishes: a failure (calculator error, divergence, non-finite energy)
    is a one-line error naming the structure, and the others go on."""
    evaluate = batch_evaluator(calculator, settings.relax_cell)
    waiting, active = deque(items), []
    while waiting or active:
        while waiting and len(active) < settings.batch_size:
            name, structure = waiting.popleft()
            active.append(_Relaxation(name, structure, settings))
        try:
            results = _evaluate(evaluate, active)
        except Exception as exc:  # a lone structure the calculator refuses
            results = [f"{active[0].name}: relaxation failed: {type(exc).__name__}: {exc}"]
        going = []
        for run, result in zip(active, results, strict=True):
            if isinstance(result, str):
                on_result(None, run.name, result)
                continue
            try:
                relaxed = run.advance(result)
            except CryinError as exc:
                on_result(None, run.name, str(exc))
                continue
            if relaxed is None:
                going.append(run)
            else:
                on_result(relaxed, run.name, None)
        active = going


def relax_structure(
    structure, calculator: Calculator, settings: PhaseRelaxSettings, name: str
) -> RelaxedEnergy:
    """Relax one structure (``relax_batch`` of one); a one-line ``CryinError`` naming
    ``name`` when the calculator fails, the relaxation diverges or the energy is not finite."""
    found: list = []
    relax_batch([(name, structure)], calculator, settings, lambda *r: found.append(r))
    result, _, error = found[0]
    if result is None:
        raise CryinError(error)
    return result


@contextmanager
def torch_threads(threads: int | None):
    """torch's CPU threads set to ``threads`` for the block (None: left as they are)."""
    import torch

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


_WORKER: dict = {}


def _init_worker(name: str, kwargs: dict, threads: int) -> None:
    """A worker process's calculator, built once, and its share of the torch threads."""
    import torch

    from cryin_flows.potentials.calculators import get_calculator

    torch.set_num_threads(threads)
    _WORKER["calculator"] = get_calculator(name, **kwargs)


def _relax_in_worker(args: tuple) -> list[tuple[RelaxedEnergy | None, str, str | None]]:
    items, settings = args
    found: list = []
    relax_batch(items, _WORKER["calculator"], settings, lambda *r: found.append(r))
    return found


def relax_many(
    items: list[tuple[str, object]],
    calculator: str,
    settings: PhaseRelaxSettings,
    calculator_kwargs: dict | None = None,
    workers: int = 1,
    done: dict[str, RelaxedEnergy] | None = None,
    on_result: OnResult | None = None,
) -> tuple[dict[str, RelaxedEnergy], dict[str, str]]:
    """Relax ``items`` (name, structure) with the calculator named ``calculator``
    (``get_calculator``) in batches (``relax_batch``), skipping names in ``done``. A structure
    whose relaxation fails is recorded in the second dict (name -> error) and the rest go on.
    ``on_result(result, name, error)`` is called after each (to save progress).
    ``workers`` > 1 hands batches to that many spawned processes, each with
    ``settings.threads`` torch threads (or an equal share): for many-core nodes; on the
    2-core test machine two processes measured slower than one."""
    from cryin_flows.potentials.calculators import get_calculator

    results = dict(done or {})
    failed: dict[str, str] = {}
    todo = [(name, structure) for name, structure in items if name not in results]

    def record(result, name, error):
        if result is not None:
            results[name] = result
        else:
            failed[name] = error
        if on_result is not None:
            on_result(result, name, error)

    kwargs = dict(calculator_kwargs or {})
    size = settings.batch_size
    if workers <= 1 or len(todo) <= size:
        if todo:
            with torch_threads(settings.threads):
                relax_batch(todo, get_calculator(calculator, **kwargs), settings, record)
        return results, failed
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import torch

    threads = settings.threads or max(1, torch.get_num_threads() // workers)
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    context = multiprocessing.get_context("spawn")  # torch's thread pools do not survive fork
    with ProcessPoolExecutor(
        min(workers, len(batches)), context, _init_worker, (calculator, kwargs, threads)
    ) as pool:
        futures = [pool.submit(_relax_in_worker, (batch, settings)) for batch in batches]
        for future in as_completed(futures):
            for found in future.result():
                record(*found)
    return results, failed


class RelaxationLog:
    """Relaxed energies appended one JSON line each to ``path`` as they finish, so a killed or
    failed job resumes where it stopped (the makers keep it in the job's folder)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def load(self) -> dict[str, RelaxedEnergy]:
        if not self.path.is_file():
            return {}
        done = {}
        for line in self.path.read_text().splitlines():
            if line.strip():
                try:
                    result = RelaxedEnergy.model_validate_json(line)
                except ValueError:
                    continue  # a line cut by a kill: that structure is relaxed again
                done[result.name] = result
        return done

    def append(self, result: RelaxedEnergy | None, name: str, error: str | None) -> None:
        if result is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as handle:
            handle.write(result.model_dump_json() + "\n")


def relax_logged(
    items: list[tuple[str, object]],
    calculator: str,
    settings: PhaseRelaxSettings,
    log_path: str | Path,
    what: str,
    calculator_kwargs: dict | None = None,
    workers: int = 1,
    echo: Callable[[str], None] | None = None,
) -> tuple[dict[str, RelaxedEnergy], dict[str, str]]:
    """``relax_many`` with a ``RelaxationLog`` at ``log_path`` (resumed when present) and one
    progress line per structure through ``echo`` (flushed, so a log file shows it)."""
    echo = echo or partial(print, flush=True)
    log = RelaxationLog(log_path)
    done = {k: v for k, v in log.load().items() if k in dict(items)}
    if done:
        echo(f"{what}: {len(done)} of {len(items)} already relaxed ({log.path}), resuming")
    count = [len(done)]

    def on_result(result, name, error):
        log.append(result, name, error)
        count[0] += 1
        state = (
            f"{result.energy_per_atom:.4f} eV/atom, {result.steps} steps, {result.seconds:.1f} s"
            + ("" if result.converged else ", NOT converged")
            if result is not None
            else f"FAILED: {error}"
        )
        echo(f"{what} {count[0]}/{len(items)}: {name}: {state}")

    return relax_many(
        items, calculator, settings, calculator_kwargs, workers, done=done, on_result=on_result
    )
