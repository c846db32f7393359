"""NVT molecular dynamics as paper 003 runs it, for several structures or temperatures at once:
a supercell of at least ``min_atoms`` atoms that holds a sphere of ``sphere_diameter``,
positions relaxed to 0.005 eV/Å, Berendsen thermalisation, then Nosé-Hoover (or Langevin)
production with unwrapped positions saved every ``frame_fs``. The run checkpoints into its
folder (the frames so far and the integrator state), so a killed run resumes from its last
checkpoint and ends with the same frames as an uninterrupted one."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from pydantic import Field, model_validator
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from cryin_flows.devices import DeviceName
from cryin_flows.dynamics.forces import force_backend
from cryin_flows.dynamics.integrators import Berendsen, Langevin, MDState, NoseHoover, run
from cryin_flows.dynamics.trajectory import Trajectory
from cryin_flows.errors import CryinError
from cryin_flows.utils import SerializableModel


class MDSettings(SerializableModel):
    """NVT MD of paper 003 (SPEC §9); every length in fs or ps as the paper gives it."""

    temperatures: list[float] = Field(
        [500.0, 1000.0],
        min_length=1,
        description="K; paper 003 reads Li diffusion at 500 K and framework stability at 1000 K",
    )
    timestep_fs: float = Field(2.0, gt=0, description="Integration time step, fs")
    thermalise_ps: float = Field(10.0, ge=0, description="Berendsen thermalisation, ps")
    berendsen_tau_fs: float = Field(1000.0, gt=0, description="Berendsen time constant, fs")
    production_ps: float = Field(
        100.0, gt=0, description="Production run, ps (a longer one continues a checkpointed run)"
    )
    thermostat: Literal["nose-hoover", "langevin"] = Field(
        "nose-hoover", description="Production thermostat (ASE's NoseHooverChainNVT or Langevin)"
    )
    nose_tdamp_fs: float = Field(25.0, gt=0, description="Nosé-Hoover time constant, fs")
    langevin_friction_per_ps: float = Field(10.0, gt=0, description="Langevin friction, 1/ps")
    frame_fs: float = Field(20.0, gt=0, description="Positions saved every this many fs")
    checkpoint_ps: float = Field(1.0, gt=0, description="Frames and state saved every, ps")
    min_atoms: int = Field(100, ge=1, description="Supercell holds at least this many atoms")
    sphere_diameter: float = Field(
        10.0, ge=0, description="Supercell holds a sphere this wide, Å (perpendicular widths)"
    )
    relax_fmax: float = Field(0.005, gt=0, description="Positions relaxed to this, eV/Å")
    relax_max_steps: int = Field(1000, ge=0, description="Most FIRE steps of the relaxation")
    seed: int = Field(0, description="Initial velocities and Langevin noise")
    device: DeviceName = Field("auto", description="Where the model runs (auto: CUDA if any)")

    @model_validator(mode="after")
    def _whole_frames(self) -> MDSettings:
        self.frame_every  # noqa: B018 - raises on a frame interval that is not whole steps
        return self

    def steps(self, ps: float) -> int:
        return round(ps * 1000 / self.timestep_fs)

    @property
    def frame_every(self) -> int:
        every = self.frame_fs / self.timestep_fs
        if abs(every - round(every)) > 1e-9 or round(every) < 1:
            raise ValueError(
                f"frame_fs {self.frame_fs} must be a whole number of {self.timestep_fs} fs steps"
            )
        return round(every)


def supercell_size(structure: Structure, min_atoms: int, diameter: float) -> tuple[int, int, int]:
    """The diagonal supercell with fewest atoms whose perpendicular widths all reach
    ``diameter`` and that holds at least ``min_atoms`` atoms (paper 003: 100 atoms, 10 Å)."""
    m = structure.lattice.matrix
    volume = abs(np.linalg.det(m))
    widths = [volume / np.linalg.norm(np.cross(m[(i + 1) % 3], m[(i + 2) % 3])) for i in range(3)]
    least = [max(1, int(np.ceil(diameter / w - 1e-9))) for w in widths]
    best = None
    for extra in itertools.product(range(6), repeat=3):
        size = tuple(n + e for n, e in zip(least, extra, strict=True))
        n_atoms = len(structure) * int(np.prod(size))
        key = (n_atoms, -min(w * n for w, n in zip(widths, size, strict=True)))
        if n_atoms >= min_atoms and (best is None or key < best[0]):
            best = (key, size)
    return best[1]


def _save(path: Path, **arrays) -> None:
    """np.savez to ``path`` through a temporary file, so a kill leaves the old or the new."""
    tmp = path.with_name(path.name + ".part.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _relaxed(structures, calculator, kwargs, settings: MDSettings, folder: Path, echo):
    """Positions relaxed at fixed cell (stability's batched FIRE), kept in the folder."""
    from cryin_flows.stability.relaxation import PhaseRelaxSettings, relax_many

    path = folder / "relaxed.npz"
    if path.is_file():
        return list(np.load(path)["positions"])
    relax = PhaseRelaxSettings(
        fmax=settings.relax_fmax,
        max_steps=max(settings.relax_max_steps, 1),
        relax_cell=False,
        diverged_above=None,
    )
    if settings.relax_max_steps == 0:
        found = [s.cart_coords for s in structures]
    else:
        items = [(str(i), s) for i, s in enumerate(structures)]
        done, failed = relax_many(items, calculator, relax, kwargs)
        if failed:
            raise CryinError(f"relaxation before MD failed: {next(iter(failed.values()))}")
        found = [Structure.from_dict(done[str(i)].structure).cart_coords for i in range(len(items))]
        steps = [done[str(i)].steps for i in range(len(items))]
        echo(f"md: positions relaxed to {settings.relax_fmax} eV/Å ({max(steps)} steps at most)")
    _save(path, positions=np.array(found))
    return found


def run_md(
    structures: list[Structure],
    calculator: str,
    settings: MDSettings,
    folder: str | Path,
    calculator_kwargs: dict | None = None,
    names: list[str] | None = None,
    echo: Callable[[str], None] | None = None,
) -> tuple[list[Trajectory], str]:
    """MD of every structure at every temperature of ``settings``, all runs side by side
    (one force call per step), in supercells built here; resumes from ``folder``'s
    checkpoint. Returns one ``Trajectory`` per (structure, temperature), production only,
    and where the model ran."""
    echo = echo or (lambda line: print(line, flush=True))
    folder = Path(folder)
    (folder / "frames").mkdir(parents=True, exist_ok=True)
    kwargs = dict(calculator_kwargs or {})
    names = names or [f"structure {i}" for i in range(len(structures))]
    cells = []
    for s in structures:
        size = supercell_size(s, settings.min_atoms, settings.sphere_diameter)
        cells.append(s * size)
    if len({len(c) for c in cells}) != 1:
        raise CryinError("structures of one MD batch must give supercells of one size")
    relaxed = _relaxed(cells, calculator, kwargs, settings, folder, echo)
    temps = settings.temperatures
    runs = [(i, t) for i in range(len(cells)) for t in temps]
    atoms = []
    for i, _ in runs:
        a = AseAtomsAdaptor.get_atoms(cells[i])
        a.positions = relaxed[i]
        atoms.append(a)
    force_fn, device = force_backend(calculator, kwargs, atoms, settings.device)
    state = MDState(
        force_fn,
        [a.positions for a in atoms],
        [a.get_masses() for a in atoms],
        [t for _, t in runs],
        device=device.split(" ")[0],
    )
    n_therm, n_prod = settings.steps(settings.thermalise_ps), settings.steps(settings.production_ps)
    every = settings.frame_every
    chunk = max(every, round(settings.checkpoint_ps * 1000 / settings.timestep_fs) // every * every)
    production = (
        NoseHoover(tdamp_fs=settings.nose_tdamp_fs)
        if settings.thermostat == "nose-hoover"
        else Langevin(friction_per_fs=settings.langevin_friction_per_ps / 1000, seed=settings.seed)
    )
    thermalise = Berendsen(taut_fs=settings.berendsen_tau_fs)
    checkpoint = folder / "checkpoint.pt"
    # what a resumed run must share with the run it continues; a longer production extends it
    signature = settings.model_dump(exclude={"device", "checkpoint_ps", "production_ps"}) | {
        "calculator": calculator,
        "atoms": [len(a) for a in atoms],
    }
    if checkpoint.is_file():
        saved = torch.load(checkpoint, weights_only=False)
        saved.get("settings", {}).pop("production_ps", None)
        if saved.get("settings") != signature:
            raise CryinError(
                f"{checkpoint} was written by a run with other settings or structures: use "
                "the same ones to resume, or another folder"
            )
        state.positions = saved["positions"].to(state.positions.device)
        state.momenta = saved["momenta"].to(state.positions.device)
        state.step = saved["step"]
        state.update_forces()
        production.load_state_dict(saved["production"])
        echo(f"md: resuming at step {state.step} of {n_therm + n_prod} ({checkpoint})")
    else:
        state.maxwell_boltzmann(settings.seed)
    for stale in (folder / "frames").glob("*.npz"):
        if int(stale.stem) > state.step:  # written after the last checkpoint: redone
            stale.unlink()
    frames: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    start, started = state.step, time.perf_counter()

    def record(s: MDState) -> None:
        if s.step >= n_therm and (s.step - n_therm) % every == 0:
            frames.append(
                (
                    s.positions.cpu().numpy().astype(np.float32),
                    s.temperature().cpu().numpy(),
                    s.energies.cpu().numpy(),
                )
            )

    def save() -> None:
        bad = ~torch.isfinite(state.energies) | ~torch.isfinite(state.positions).all(dim=(1, 2))
        if bool(bad.any()):
            k = int(torch.nonzero(bad)[0])
            raise CryinError(
                f"MD of {names[runs[k][0]]} at {runs[k][1]:.0f} K gave non-finite energies or "
                f"positions by step {state.step}; the last checkpoint ({checkpoint}) is kept"
            )
        if frames:
            _save(
                folder / "frames" / f"{state.step:09d}.npz",
                positions=np.stack([f[0] for f in frames]),
                temperature=np.stack([f[1] for f in frames]),
                energy=np.stack([f[2] for f in frames]),
            )
            frames.clear()
        torch.save(
            {
                "positions": state.positions.cpu(),
                "momenta": state.momenta.cpu(),
                "step": state.step,
                "production": production.state_dict(),
                "settings": signature,
            },
            checkpoint.with_suffix(".part"),
        )
        os.replace(checkpoint.with_suffix(".part"), checkpoint)
        rate = (time.perf_counter() - started) / max(state.step - start, 1)
        stage = "thermalising" if state.step <= n_therm else "production"
        t_now = ", ".join(f"{t:.0f}" for t in state.temperature().cpu().numpy())
        echo(
            f"md: {stage} {state.step * settings.timestep_fs / 1000:.1f}/"
            f"{(n_therm + n_prod) * settings.timestep_fs / 1000:.1f} ps, T = {t_now} K, "
            f"{rate:.3f} s/step for {len(runs)} runs"
        )

    if state.step == n_therm == 0:
        record(state)
    while state.step < n_therm + n_prod:
        target = min(state.step + chunk, n_therm + n_prod)
        if state.step < n_therm:
            target = min(target, n_therm)
            run(state, thermalise, target - state.step, settings.timestep_fs)
            if state.step == n_therm:
                record(state)  # production's first frame
        else:
            run(state, production, target - state.step, settings.timestep_fs, 1, record)
        save()
    return _collect(folder, cells, runs, names, settings, n_therm), device


def _collect(folder, cells, runs, names, settings, n_therm) -> list[Trajectory]:
    parts = [np.load(p) for p in sorted((folder / "frames").glob("*.npz"))]
    keep = settings.steps(settings.production_ps) // settings.frame_every + 1
    positions = np.concatenate([p["positions"] for p in parts])[:keep]
    temperature = np.concatenate([p["temperature"] for p in parts])[:keep]
    energy = np.concatenate([p["energy"] for p in parts])[:keep]
    return [
        Trajectory(
            name=names[i],
            temperature=t,
            structure=cells[i].as_dict(),
            frame_fs=settings.frame_fs,
            positions=positions[:, k],
            temperatures=temperature[:, k],
            energies=energy[:, k],
        )
        for k, (i, t) in enumerate(runs)
    ]
