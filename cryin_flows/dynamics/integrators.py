"""Molecular dynamics of many runs at once: the positions, momenta and thermostat variables of
k runs of n atoms are tensors (k, n, ...) on the model's device, and one force call per step
serves them all. Each ensemble integrates step for step as its ASE counterpart does
(``VelocityVerlet``, ``NVTBerendsen``, ``NoseHooverChainNVT``, ``Langevin``), so a run here
and a run of ASE from the same state follow the same trajectory (deterministic ensembles) or
the same statistics (Langevin). Units are ASE's: Å, eV, amu, ``ase.units.fs``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from ase import units

#: energies (k,) and forces (k, n, 3) of positions (k, n, 3), float64 on the state's device
ForceFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]

# fourth-order Suzuki-Yoshida weights of the Nosé-Hoover chain integration (as ASE)
_SUZUKI_YOSHIDA = (
    1 / (2 - 2 ** (1 / 3)),
    -(2 ** (1 / 3)) / (2 - 2 ** (1 / 3)),
    1 / (2 - 2 ** (1 / 3)),
)


class MDState:
    """k runs of n atoms: positions (unwrapped, Å), momenta, masses (k, n, 1, amu), the
    forces and energies at the current positions, target temperatures (k,) and steps taken."""

    def __init__(
        self,
        force_fn: ForceFn,
        positions,
        masses,
        temperatures,
        momenta=None,
        device: torch.device | str = "cpu",
    ):
        kw = {"dtype": torch.float64, "device": device}
        self.force_fn = force_fn
        self.positions = torch.as_tensor(np.asarray(positions), **kw).clone()
        k, n = self.positions.shape[:2]
        self.masses = torch.as_tensor(np.asarray(masses), **kw).reshape(-1, n, 1).expand(k, n, 1)
        self.temperatures = torch.as_tensor(np.asarray(temperatures), **kw).reshape(k)
        self.momenta = (
            torch.zeros_like(self.positions)
            if momenta is None
            else torch.as_tensor(np.asarray(momenta), **kw).clone()
        )
        self.step = 0
        self.energies, self.forces = force_fn(self.positions)

    @property
    def n_atoms(self) -> int:
        return self.positions.shape[1]

    def update_forces(self) -> None:
        self.energies, self.forces = self.force_fn(self.positions)

    def kinetic_energy(self) -> torch.Tensor:
        """(k,) eV."""
        return 0.5 * (self.momenta.square() / self.masses).sum(dim=(1, 2))

    def temperature(self) -> torch.Tensor:
        """(k,) K, over 3n degrees of freedom (ASE's ``Atoms.get_temperature`` unconstrained)."""
        return 2 * self.kinetic_energy() / (3 * self.n_atoms * units.kB)

    def maxwell_boltzmann(self, seed: int) -> None:
        """Momenta drawn at each run's temperature, then the centre-of-mass momentum removed
        and scaled to the exact temperature (ASE's ``MaxwellBoltzmannDistribution`` with
        ``force_temp``, then ``Stationary``)."""
        rng = np.random.default_rng(seed)
        masses = self.masses.cpu().numpy()
        kt = (self.temperatures.cpu().numpy() * units.kB)[:, None, None]
        p = rng.standard_normal(self.positions.shape) * np.sqrt(masses * kt)
        p -= p.sum(axis=1, keepdims=True) / masses.sum(axis=1, keepdims=True) * masses
        self.momenta = torch.as_tensor(p, dtype=torch.float64, device=self.positions.device)
        scale = (self.temperatures / self.temperature().clamp_min(1e-300)).sqrt()
        self.momenta = self.momenta * scale[:, None, None]

    def half_kick(self, dt: float) -> None:
        self.momenta = self.momenta + 0.5 * dt * self.forces

    def drift(self, dt: float) -> None:
        self.positions = self.positions + dt * self.momenta / self.masses
        self.update_forces()


class _Stateless:
    """An ensemble whose whole state is the atoms' (nothing more to checkpoint)."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, data: dict) -> None:
        pass


@dataclass
class NVE(_Stateless):
    """Velocity Verlet (ASE's ``VelocityVerlet``)."""

    def step(self, state: MDState, dt: float) -> None:
        state.half_kick(dt)
        state.drift(dt)
        state.half_kick(dt)


@dataclass
class Berendsen(_Stateless):
    """Berendsen velocity scaling then velocity Verlet (ASE's ``NVTBerendsen``, its default
    ``fixcm``: the mean momentum removed after the first half kick)."""

    taut_fs: float = 1000.0
    fixcm: bool = True

    def step(self, state: MDState, dt: float) -> None:
        ratio = dt / (self.taut_fs * units.fs)
        scale = (1.0 + (state.temperatures / state.temperature() - 1.0) * ratio).sqrt()
        state.momenta = state.momenta * scale.clamp(0.9, 1.1)[:, None, None]
        state.half_kick(dt)
        if self.fixcm:
            state.momenta = state.momenta - state.momenta.mean(dim=1, keepdim=True)
        state.drift(dt)
        state.half_kick(dt)


@dataclass
class NoseHoover:
    """Nosé-Hoover chain (ASE's ``NoseHooverChainNVT``: ``tchain`` thermostats, ``tloop``
    Suzuki-Yoshida sub-loops), one chain per run."""

    tdamp_fs: float = 25.0
    tchain: int = 3
    tloop: int = 1
    eta: torch.Tensor | None = field(default=None, repr=False)
    p_eta: torch.Tensor | None = field(default=None, repr=False)

    def _setup(self, state: MDState) -> None:
        k, n, tdamp = state.positions.shape[0], state.n_atoms, self.tdamp_fs * units.fs
        kw = {"dtype": torch.float64, "device": state.positions.device}
        self.kt = (units.kB * state.temperatures)[:, None]
        self.q = self.kt * tdamp**2 * torch.ones(k, self.tchain, **kw)
        self.q[:, 0] *= 3 * n
        if self.eta is None:
            self.eta = torch.zeros(k, self.tchain, **kw)
            self.p_eta = torch.zeros(k, self.tchain, **kw)

    def _p_eta_j(self, state: MDState, p, j: int, d2: float, d4: float) -> None:
        pe, q, kt = self.p_eta, self.q, self.kt[:, 0]
        if j < self.tchain - 1:
            pe[:, j] = pe[:, j] * torch.exp(-d4 * pe[:, j + 1] / q[:, j + 1])
        if j == 0:
            g = (p.square() / state.masses).sum(dim=(1, 2)) - 3 * state.n_atoms * kt
        else:
            g = pe[:, j - 1].square() / q[:, j - 1] - kt
        pe[:, j] = pe[:, j] + d2 * g
        if j < self.tchain - 1:
            pe[:, j] = pe[:, j] * torch.exp(-d4 * pe[:, j + 1] / q[:, j + 1])

    def _chain(self, state: MDState, p: torch.Tensor, delta: float) -> torch.Tensor:
        for _ in range(self.tloop):
            for weight in _SUZUKI_YOSHIDA:
                d = weight * delta / self.tloop
                for j in reversed(range(self.tchain)):
                    self._p_eta_j(state, p, j, d / 2, d / 4)
                self.eta = self.eta + d * self.p_eta / self.q
                p = p * torch.exp(-d * self.p_eta[:, 0] / self.q[:, 0])[:, None, None]
                for j in range(self.tchain):
                    self._p_eta_j(state, p, j, d / 2, d / 4)
        return p

    def step(self, state: MDState, dt: float) -> None:
        if not hasattr(self, "q"):
            self._setup(state)
        state.momenta = self._chain(state, state.momenta, dt / 2)
        state.half_kick(dt)
        state.drift(dt)
        state.half_kick(dt)
        state.momenta = self._chain(state, state.momenta, dt / 2)

    def state_dict(self) -> dict:
        return {} if self.eta is None else {"eta": self.eta, "p_eta": self.p_eta}

    def load_state_dict(self, data: dict) -> None:
        if data:
            self.eta, self.p_eta = data["eta"].clone(), data["p_eta"].clone()


@dataclass
class Langevin:
    """Langevin dynamics (ASE's ``Langevin`` integrator, without its deprecated ``fixcm``);
    random forces from one torch generator per ensemble, seeded."""

    friction_per_fs: float = 0.01
    seed: int = 0
    generator: torch.Generator | None = field(default=None, repr=False)
    saved: torch.Tensor | None = field(default=None, repr=False)

    def step(self, state: MDState, dt: float) -> None:
        if self.generator is None:
            self.generator = torch.Generator(device=state.positions.device)
            self.generator.manual_seed(self.seed)
            if self.saved is not None:
                self.generator.set_state(self.saved)
        fr, m = self.friction_per_fs / units.fs, state.masses
        sigma = (2 * (units.kB * state.temperatures)[:, None, None] * fr / m).sqrt()
        c1 = dt / 2.0 - dt * dt * fr / 8.0
        c2 = dt * fr / 2 - dt * dt * fr * fr / 8.0
        c3 = np.sqrt(dt) * sigma / 2.0 - dt**1.5 * fr * sigma / 8.0
        c5 = dt**1.5 * sigma / (2 * np.sqrt(3))
        c4 = fr / 2.0 * c5
        shape, kw = state.positions.shape, {"dtype": torch.float64, "generator": self.generator}
        xi = torch.randn(shape, device=state.positions.device, **kw)
        eta = torch.randn(shape, device=state.positions.device, **kw)
        rnd_pos, rnd_vel = c5 * eta, c3 * xi - c4 * eta
        v = state.momenta / m
        v = v + c1 * state.forces / m - c2 * v + rnd_vel
        x = state.positions
        state.positions = x + dt * v + rnd_pos
        state.update_forces()
        v = v + c1 * state.forces / m - c2 * v + rnd_vel
        state.momenta = v * m

    def state_dict(self) -> dict:
        if self.generator is None:
            return {} if self.saved is None else {"rng": self.saved}
        return {"rng": self.generator.get_state()}

    def load_state_dict(self, data: dict) -> None:
        if data:
            self.generator, self.saved = None, data["rng"]


Ensemble = NVE | Berendsen | NoseHoover | Langevin


def run(
    state: MDState,
    ensemble: Ensemble,
    steps: int,
    timestep_fs: float,
    every: int = 1,
    on_frame: Callable[[MDState], None] | None = None,
) -> None:
    """``steps`` steps of ``ensemble``; ``on_frame(state)`` after each ``every``-th step."""
    dt = timestep_fs * units.fs
    for _ in range(steps):
        ensemble.step(state, dt)
        state.step += 1
        if on_frame is not None and state.step % every == 0:
            on_frame(state)
