"""Batched fixed-cell relaxation of many structures with one matgl potential (SPEC.md §4).

Everything a step needs stays on the model's device: positions and every structure's FIRE
state (velocity, dt, mixing, step counter, as ``ase.optimize.FIRE`` keeps them) are tensors,
and the graph is built there each step from a ``vesin`` neighbour list. Structures are relaxed
in slots: when one converges (or runs out of steps), a waiting structure takes its slot, so
model calls stay full (in-flight batching). The host sees one small tensor per step, the
per-slot largest force, for the convergence bookkeeping. Finished structures are appended to
a JSON-lines file at once, so a killed job resumes without redoing them and without
duplicates.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from pydantic import Field

from cryin_flows.devices import DeviceName, resolve_device
from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.utils import SerializableModel, retain_freed_memory

# atoms per model call when RelaxSettings.max_atoms is None
DEFAULT_MAX_ATOMS = {"cuda": 16 * 264, "cpu": 264}


class RelaxSettings(SerializableModel):
    """FIRE on positions only (fixed cell), ASE's FIRE defaults."""

    fmax: float = Field(0.05, gt=0, description="Force threshold, eV/Å (SPEC §4)")
    max_steps: int = Field(1000, ge=0, description="Most FIRE steps per structure")
    max_atoms: int | None = Field(
        None,
        ge=1,
        description="Atoms per model call: as many whole structures as fit (at least one) "
        "share a call; None = 4,224 on CUDA (16 paper-size interfaces), 264 on CPU (one: "
        "batching measured no faster there, benchmarks/bench_relax.py)",
    )
    dt: float = Field(0.1, description="FIRE initial time step")
    maxstep: float = Field(0.2, description="Largest step (norm over the structure), Å")
    dtmax: float = Field(1.0, description="FIRE largest time step")
    n_min: int = Field(5, description="FIRE steps before dt may grow")
    finc: float = Field(1.1, description="FIRE dt growth")
    fdec: float = Field(0.5, description="FIRE dt cut")
    astart: float = Field(0.1, description="FIRE mixing start")
    fa: float = Field(0.99, description="FIRE mixing decay")
    device: DeviceName = Field(
        "auto",
        description="Torch device of the model: auto (CUDA when the node has one), cpu, cuda",
    )

    def slots(self, n_atoms: int, device: torch.device) -> int:
        """Structures per model call for structures of ``n_atoms`` atoms."""
        limit = self.max_atoms or DEFAULT_MAX_ATOMS.get(device.type, DEFAULT_MAX_ATOMS["cpu"])
        return max(1, limit // n_atoms)


class FireState:
    """FIRE of many structures at once, step for step as ``ase.optimize.FIRE`` does it.

    One row per slot: velocity (slot, atom, 3), dt, mixing ``a`` and the steps since the last
    uphill move; ``fresh`` marks slots whose next step is their first (ASE's ``v is None``).
    """

    def __init__(self, n_slots: int, n_atoms: int, settings: RelaxSettings, device):
        self.s = settings
        kw = {"dtype": torch.float64, "device": device}
        self.vel = torch.zeros(n_slots, n_atoms, 3, **kw)
        self.dt = torch.full((n_slots,), settings.dt, **kw)
        self.a = torch.full((n_slots,), settings.astart, **kw)
        self.n_steps = torch.zeros(n_slots, dtype=torch.long, device=device)
        self.fresh = torch.ones(n_slots, dtype=torch.bool, device=device)

    def reset(self, slot: int) -> None:
        """A new structure starts in ``slot``."""
        self.vel[slot] = 0.0
        self.dt[slot] = self.s.dt
        self.a[slot] = self.s.astart
        self.n_steps[slot] = 0
        self.fresh[slot] = True

    def step(self, slots: torch.Tensor, positions: torch.Tensor, forces: torch.Tensor):
        """New positions (k, atoms, 3) of ``slots`` from their positions and forces."""
        s = self.s
        v, dt, a, n = self.vel[slots], self.dt[slots], self.a[slots], self.n_steps[slots]
        fresh = self.fresh[slots]
        vf = (forces * v).sum(dim=(1, 2))
        f_norm = forces.square().sum(dim=(1, 2)).sqrt()
        v_norm = v.square().sum(dim=(1, 2)).sqrt()
        up = (vf > 0) & ~fresh
        down = (vf <= 0) & ~fresh
        scale = (a * v_norm / f_norm.clamp_min(1e-300))[:, None, None]
        mixed = (1.0 - a)[:, None, None] * v + scale * forces
        v = torch.where(up[:, None, None], mixed, v)
        grow = up & (n > s.n_min)
        dt = torch.where(grow, (dt * s.finc).clamp_max(s.dtmax), dt)
        a = torch.where(grow, a * s.fa, a)
        n = torch.where(up, n + 1, n)
        v = torch.where(down[:, None, None], torch.zeros_like(v), v)
        a = torch.where(down, torch.full_like(a, s.astart), a)
        dt = torch.where(down, dt * s.fdec, dt)
        n = torch.where(down, torch.zeros_like(n), n)
        v = v + dt[:, None, None] * forces
        dr = dt[:, None, None] * v
        norm = dr.square().sum(dim=(1, 2)).sqrt()
        dr = (
            dr
            * torch.where(norm > s.maxstep, s.maxstep / norm, torch.ones_like(norm))[:, None, None]
        )
        self.vel[slots], self.dt[slots], self.a[slots], self.n_steps[slots] = v, dt, a, n
        self.fresh[slots] = False
        return positions + dr


class BatchedPotential:
    """Energies and forces of same-cell, same-species structures from one matgl potential.

    The graph of a call is built on the device. Each slot keeps a Verlet list: the pairs
    within cutoff + ``SKIN`` from a ``vesin`` neighbour list, rebuilt only when an atom of the
    slot has moved more than ``SKIN / 2`` since (a new structure in the slot, or several FIRE
    steps of at most 0.2 Å). Each call measures the listed pairs of all slots in one tensor
    operation and keeps those within the cutoff. ``model_seconds`` adds up the time spent in
    the model's forward and force (backward) pass, so that a caller can tell host overhead
    from model time.
    """

    SKIN = 1.0  # Å

    def __init__(self, potential, device: str = "auto"):
        self.device = resolve_device(device)
        from cryin_flows.potentials.m3gnet import tensor_threebody_indices

        tensor_threebody_indices()
        self.potential = potential.to(self.device).eval()  # no graph of the force's graph
        model = potential.model
        self.element_types = set(model.element_types)
        self._index = {e: i for i, e in enumerate(model.element_types)}
        self.cutoff = float(model.cutoff)
        self.model_seconds = 0.0
        self.rebuilds = 0
        self._pairs: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        self._reference: dict[int, torch.Tensor] = {}
        self._types: tuple[tuple[str, ...], torch.Tensor] | None = None
        self._joined: tuple[tuple[int, ...], tuple, torch.Tensor] | None = None
        self._cell: tuple[torch.Tensor, int] | None = None

    def _forget_other_cells(self, lattice: torch.Tensor, n_atoms: int) -> None:
        """Verlet lists hold image shifts of one cell and atom count: drop them for another
        (a second ``relax_batch`` call with the same instance, on another set)."""
        if self._cell is not None and (
            self._cell[1] == n_atoms and torch.equal(self._cell[0], lattice)
        ):
            return
        self._pairs, self._reference, self._joined = {}, {}, None
        self._cell = (lattice.clone(), n_atoms)

    def _verlet_pairs(self, positions, lattice, slots):
        """Listed pairs of the slots, concatenated with atom offsets: (src, dst, image shift,
        Cartesian shift). Stale lists are rebuilt; the concatenation is reused while the
        slots and their lists stay the same."""
        from vesin_torch import NeighborList

        if self._joined is not None and self._joined[0] == tuple(slots):
            reference = self._joined[2]  # the same slots as the last call: one comparison
            moved = (positions - reference).norm(dim=-1).amax(dim=-1) > self.SKIN / 2
            stale = [slot for slot, m in zip(slots, moved.tolist(), strict=True) if m]
        else:
            stale = [slot for slot in slots if slot not in self._reference]
            known = [(row, slot) for row, slot in enumerate(slots) if slot in self._reference]
            if known:
                rows = torch.tensor([row for row, _ in known], device=self.device)
                reference = torch.stack([self._reference[slot] for _, slot in known])
                moved = (positions[rows] - reference).norm(dim=-1).amax(dim=-1) > self.SKIN / 2
                stale += [slot for (_, slot), m in zip(known, moved.tolist(), strict=True) if m]
        if stale:
            finder = NeighborList(cutoff=self.cutoff + self.SKIN, full_list=True)
            for row, slot in enumerate(slots):
                if slot in stale:
                    i, j, shift = finder.compute(positions[row], lattice, True, "ijS")
                    # in source order, as M3GNet's three-body indexer pairs each atom's bonds
                    # by position (vesin's order is not; rows and the filter keep it)
                    order = torch.argsort(i, stable=True)
                    self._pairs[slot] = (
                        i[order].long(),
                        j[order].long(),
                        shift[order].to(lattice.dtype),
                    )
                    self._reference[slot] = positions[row].clone()
                    self.rebuilds += 1
        if stale or self._joined is None or self._joined[0] != tuple(slots):
            n_atoms = positions.shape[1]
            pairs = [self._pairs[slot] for slot in slots]
            src = torch.cat([p[0] + row * n_atoms for row, p in enumerate(pairs)])
            dst = torch.cat([p[1] + row * n_atoms for row, p in enumerate(pairs)])
            shifts = torch.cat([p[2] for p in pairs])
            cartesian = (shifts @ lattice).float()  # the filter runs in float32: half the traffic
            reference = torch.stack([self._reference[slot] for slot in slots])
            self._joined = (tuple(slots), (src, dst, shifts, cartesian), reference)
        return self._joined[1]

    def __call__(
        self,
        positions: torch.Tensor,
        lattice: torch.Tensor,
        species: list[str],
        slots: list[int] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(energies (k,), forces (k, atoms, 3)), float64 on the device, for Cartesian
        ``positions`` (k, atoms, 3) in one ``lattice`` (3, 3). ``slots`` names the Verlet
        list of each row (default: rows 0..k-1)."""
        from torch_geometric.data import Batch

        k, n_atoms = positions.shape[:2]
        slots = list(range(k)) if slots is None else slots
        lattice = lattice.to(self.device, torch.float64)
        self._forget_other_cells(lattice, n_atoms)
        src, dst, shifts, cartesian = self._verlet_pairs(positions, lattice, slots)
        flat = positions.reshape(-1, 3).float()
        length = (flat.index_select(0, dst) - flat.index_select(0, src) + cartesian).norm(dim=-1)
        keep = torch.nonzero(length < self.cutoff).squeeze(1)
        src, dst, shifts = src[keep], dst[keep], shifts[keep]
        if self._types is None or self._types[0] != tuple(species):
            index = [self._index[e] for e in species]
            self._types = (tuple(species), torch.tensor(index, device=self.device))
        types = self._types[1]
        frac = positions.reshape(-1, 3) @ torch.linalg.inv(lattice)
        dtype = self.potential.data_mean.dtype
        graph = Batch(
            edge_index=torch.stack([src, dst]),
            node_type=types.repeat(k),
            frac_coords=frac.to(dtype),
            pbc_offset=shifts.to(dtype),
            batch=torch.arange(k, device=self.device).repeat_interleave(n_atoms),
            ptr=torch.arange(k + 1, device=self.device) * n_atoms,
            num_nodes=k * n_atoms,
        )
        graph._num_graphs = k
        state = torch.zeros(k, 2, dtype=dtype, device=self.device)
        start = time.perf_counter()
        out = self.potential(graph, lattice.to(dtype).expand(k, 3, 3), state)
        energies, forces = out[0].detach().reshape(-1), out[1].detach().reshape(k, n_atoms, 3)
        del out, graph  # the autograd graph is freed here, inside the timed model call
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.model_seconds += time.perf_counter() - start
        return energies.double(), forces.double()


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
    retain_freed_memory()
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
    path = Path(results_path) if results_path else None
    done = _load_done(path) if path else {}
    if progress and done:
        progress(len(done))
    waiting = deque(i for i in range(len(structures)) if i not in done)
    device = model.device
    n_atoms = len(structures.species)
    n_slots = min(settings.slots(n_atoms, device), max(len(waiting), 1))
    lattice = torch.as_tensor(np.asarray(structures.lattice), dtype=torch.float64, device=device)
    positions = torch.zeros(n_slots, n_atoms, 3, dtype=torch.float64, device=device)
    fire = FireState(n_slots, n_atoms, settings, device)
    owner = [-1] * n_slots  # structure index in each slot, -1 when empty
    steps = [0] * n_slots
    initial = [0.0] * n_slots

    def fill(slot: int) -> None:
        owner[slot] = waiting.popleft() if waiting else -1
        if owner[slot] >= 0:
            frac = torch.as_tensor(np.asarray(structures.frac_coords[owner[slot]]), device=device)
            positions[slot] = frac.to(torch.float64) @ lattice
            fire.reset(slot)
            steps[slot] = 0

    for slot in range(n_slots):
        fill(slot)
    handle = open(path, "a") if path else None  # noqa: SIM115 - kept open across the loop
    inverse = torch.linalg.inv(lattice)
    try:
        while any(o >= 0 for o in owner):
            active = [slot for slot in range(n_slots) if owner[slot] >= 0]
            index = torch.tensor(active, device=device)
            energies, forces = model(positions[index], lattice, structures.species, active)
            fmax = forces.norm(dim=-1).amax(dim=-1)
            host = torch.stack([energies, fmax]).cpu().numpy()  # the one sync per step
            moving = []
            for row, slot in enumerate(active):
                energy, largest = float(host[0, row]), float(host[1, row])
                if steps[slot] == 0:
                    initial[slot] = energy
                if largest < settings.fmax or steps[slot] >= settings.max_steps:
                    frac = (positions[slot] @ inverse).cpu().numpy()
                    record = {
                        "index": owner[slot],
                        "steps": steps[slot],
                        "initial_energy": initial[slot],
                        "final_energy": energy,
                        "max_force": largest,
                        "converged": largest < settings.fmax,
                        "frac_coords": frac.tolist(),
                    }
                    done[owner[slot]] = record
                    if handle:
                        handle.write(json.dumps(record) + "\n")
                        handle.flush()
                        os.fsync(handle.fileno())
                    if progress:
                        progress(1)
                    fill(slot)
                else:
                    moving.append(row)
                    steps[slot] += 1
            if moving:
                rows = torch.tensor(moving, device=device)
                chosen = index[rows]
                positions[chosen] = fire.step(chosen, positions[chosen], forces[rows])
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
