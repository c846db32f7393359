"""Batched fixed-cell relaxation of many structures with one matgl potential (SPEC.md §4).

Unconverged structures are evaluated in batched model calls (one PyG batch per
``batch_size`` structures: 16 on a GPU; 1 on a CPU, where batching measured slower); each
structure runs its own FIRE, written to match
``ase.optimize.FIRE`` step for step, and stops when its largest force is below ``fmax``
while the others go on. Finished structures are appended to a JSON-lines file at once, so a
killed job resumes without redoing them and without duplicates.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from pydantic import Field

from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.utils import SerializableModel


class RelaxSettings(SerializableModel):
    """FIRE on positions only (fixed cell), ASE's FIRE defaults."""

    fmax: float = Field(0.05, gt=0, description="Force threshold, eV/Å (SPEC §4)")
    max_steps: int = Field(1000, ge=0, description="Most FIRE steps per structure")
    batch_size: int | None = Field(
        None,
        ge=1,
        description="Structures per model call; None = 1 on CPU (measured fastest: batching "
        "264-atom M3GNet graphs is slower there), 16 on CUDA",
    )
    dt: float = Field(0.1, description="FIRE initial time step")
    maxstep: float = Field(0.2, description="Largest step (norm over the structure), Å")
    dtmax: float = Field(1.0, description="FIRE largest time step")
    n_min: int = Field(5, description="FIRE steps before dt may grow")
    finc: float = Field(1.1, description="FIRE dt growth")
    fdec: float = Field(0.5, description="FIRE dt cut")
    astart: float = Field(0.1, description="FIRE mixing start")
    fa: float = Field(0.99, description="FIRE mixing decay")
    device: str = Field("cpu", description="Torch device of the model")


class _Fire:
    """The state of one structure's FIRE, as ase.optimize.FIRE keeps it."""

    def __init__(self, settings: RelaxSettings):
        self.s = settings
        self.vel: np.ndarray | None = None
        self.dt = settings.dt
        self.a = settings.astart
        self.n_steps = 0

    def step(self, positions: np.ndarray, forces: np.ndarray) -> np.ndarray:
        s = self.s
        if self.vel is None:
            self.vel = np.zeros_like(forces)
        else:
            vf = np.vdot(forces, self.vel)
            if vf > 0.0:
                self.vel = (1.0 - self.a) * self.vel + self.a * forces / np.sqrt(
                    np.vdot(forces, forces)
                ) * np.sqrt(np.vdot(self.vel, self.vel))
                if self.n_steps > s.n_min:
                    self.dt = min(self.dt * s.finc, s.dtmax)
                    self.a *= s.fa
                self.n_steps += 1
            else:
                self.vel[:] *= 0.0
                self.a = s.astart
                self.dt *= s.fdec
                self.n_steps = 0
        self.vel = self.vel + self.dt * forces
        dr = self.dt * self.vel
        norm = np.sqrt(np.vdot(dr, dr))
        if norm > s.maxstep:
            dr = s.maxstep * dr / norm
        return positions + dr


class BatchedPotential:
    """Energies and forces of many structures from one matgl potential, in batched calls."""

    def __init__(self, potential, device: str = "cpu"):
        from matgl.ext.ase import Atoms2Graph

        self.potential = potential.to(device)
        self.device = torch.device(device)
        model = potential.model
        self.converter = Atoms2Graph(model.element_types, model.cutoff)
        self.element_types = set(model.element_types)

    def __call__(self, atoms_list: list) -> tuple[np.ndarray, list[np.ndarray]]:
        """(energies (B,), forces per structure) for ASE Atoms."""
        from torch_geometric.data import Batch

        graphs, lattices, states = [], [], []
        for atoms in atoms_list:
            graph, lattice, state = self.converter.get_graph(atoms)
            graphs.append(graph)
            lattices.append(torch.as_tensor(lattice).reshape(3, 3))
            states.append(torch.as_tensor(np.asarray(state, dtype=float)).reshape(1, -1))
        batch = Batch.from_data_list(graphs).to(self.device)
        lat = torch.stack(lattices).to(self.device)
        state = torch.cat(states).to(self.device)
        energies, forces, *_ = self.potential(batch, lat, state)
        forces = forces.detach().cpu().numpy()
        sizes = np.cumsum([0] + [len(a) for a in atoms_list])
        return (
            energies.detach().cpu().numpy().reshape(-1),
            [forces[sizes[i] : sizes[i + 1]] for i in range(len(atoms_list))],
        )


def _load_done(path: Path) -> dict[int, dict]:
    """Finished records of an earlier run; a line cut short by a kill is dropped (and redone),
    and the file is rewritten without it so new records start on a clean line."""
    done: dict[int, dict] = {}
    if not path.exists():
        return done
    kept = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if int(record["index"]) not in done:
            done[int(record["index"])] = record
            kept.append(line)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text("".join(f"{line}\n" for line in kept))
    os.replace(tmp, path)
    return done


def relax_batch(
    structures: InterfaceSet,
    potential,
    settings: RelaxSettings | None = None,
    results_path: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[InterfaceSet, list[dict]]:
    """Relax every structure; returns relaxed structures and one record per structure.

    Records: index, steps, initial_energy, final_energy (eV), max_force (eV/Å), converged.
    Non-converged structures are kept and marked. With ``results_path`` (JSON lines), finished
    structures are written as they finish and skipped when the call is repeated.
    """
    settings = settings or RelaxSettings()
    model = (
        potential
        if isinstance(potential, BatchedPotential)
        else BatchedPotential(potential, settings.device)
    )
    missing = set(structures.species) - model.element_types
    if missing:
        raise ConfigurationError(
            f"the potential has no parameters for {sorted(missing)} (it knows "
            f"{sorted(model.element_types)})"
        )
    batch_size = settings.batch_size or (16 if model.device.type == "cuda" else 1)
    path = Path(results_path) if results_path else None
    done = _load_done(path) if path else {}
    if progress and done:
        progress(len(done))
    todo = [i for i in range(len(structures)) if i not in done]
    atoms = {i: structures.atoms(i) for i in todo}
    fire = {i: _Fire(settings) for i in todo}
    steps = dict.fromkeys(todo, 0)
    initial: dict[int, float] = {}
    active = list(todo)
    handle = open(path, "a") if path else None  # noqa: SIM115 - kept open across the loop
    try:
        while active:
            still = []
            for start in range(0, len(active), batch_size):
                chunk = active[start : start + batch_size]
                energies, forces = model([atoms[i] for i in chunk])
                for i, energy, f in zip(chunk, energies, forces, strict=True):
                    initial.setdefault(i, float(energy))
                    fmax = float(np.sqrt((f**2).sum(axis=1)).max())
                    if fmax < settings.fmax or steps[i] >= settings.max_steps:
                        record = {
                            "index": i,
                            "steps": steps[i],
                            "initial_energy": initial[i],
                            "final_energy": float(energy),
                            "max_force": fmax,
                            "converged": fmax < settings.fmax,
                            "frac_coords": atoms[i].get_scaled_positions(wrap=False).tolist(),
                        }
                        done[i] = record
                        if handle:
                            handle.write(json.dumps(record) + "\n")
                            handle.flush()
                            os.fsync(handle.fileno())
                        if progress:
                            progress(1)
                        continue
                    atoms[i].positions = fire[i].step(atoms[i].get_positions(), f)
                    steps[i] += 1
                    still.append(i)
            active = still
    finally:
        if handle:
            handle.close()
    records = [done[i] for i in range(len(structures))]
    infos = []
    for i, record in enumerate(records):
        info = dict(structures.infos[i])
        info.update({k: v for k, v in record.items() if k not in ("frac_coords", "index")})
        info["energy"] = record["final_energy"]
        infos.append(info)
    relaxed = InterfaceSet(
        structures.lattice,
        structures.species,
        [r["frac_coords"] for r in records],
        infos,
        structures.template_hash,
    )
    return relaxed, [{k: v for k, v in r.items() if k != "frac_coords"} for r in records]
