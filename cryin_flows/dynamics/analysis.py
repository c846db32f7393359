"""From MD trajectories to what paper 003 decides on: D and σ per temperature, the Arrhenius
extrapolation to 300 K, framework and Li MSD checks, and for interfaces Li D resolved by region
(the template's rule, per structure) and by direction."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from cryin_flows.dynamics.diffusion import (
    Arrhenius,
    Diffusivity,
    TransportFit,
    arrhenius,
    conductivity,
    framework_msd,
    max_msd,
    resolved_diffusivity,
    windowed_diffusivity,
)
from cryin_flows.dynamics.trajectory import Trajectory
from cryin_flows.interfaces.template import InterfaceTemplate

#: paper 003's MD cuts (SPEC §9)
SIGMA_MIN = 1e-3  # mS/cm (1e-6 S/cm), σ(300 K) − 1 s.e.m. above it
FRAMEWORK_MSD_MAX = 2.0  # Å², at 1000 K over the production run
LI_MSD_MIN = 4.0  # Å², largest Li MSD at 500 K


class RunTransport(BaseModel):
    """One MD run (a structure at one temperature) analysed."""

    name: str = Field(description="Structure")
    temperature: float = Field(description="Thermostat target, K")
    mean_temperature: float = Field(description="Mean over production frames, K")
    duration_ps: float = Field(description="Production analysed, ps")
    diffusivity: Diffusivity = Field(description="D of the species over all its atoms")
    sigma: float = Field(description="σ by Nernst-Einstein, mS/cm")
    sigma_sem: float = Field(description="Its standard error, mS/cm")
    framework_msd: float = Field(description="Framework MSD first to last frame, Å²")
    max_msd: float = Field(description="Largest MSD of the species at any frame, Å²")
    resolved: list[Diffusivity] = Field(
        default_factory=list, description="By region and direction (interfaces)"
    )


def interface_regions(
    template: InterfaceTemplate, start: np.ndarray, positions: np.ndarray, atoms: np.ndarray
) -> dict[str, np.ndarray]:
    """Masks (frames, len(atoms)) of ``atoms`` in the substrate slab, the interface region and
    the film slab at every frame. The planes that bound the region are found once, from the
    run's starting structure, by the template's rule (``locate_region``); an atom belongs to
    the slab or region its height (along the stack, across the vacuum as the rule unwraps it)
    falls in."""
    geometry = template.locate_region(start)
    c = float(template.lattice_matrix[2, 2])
    ranked = np.sort(geometry.heights)
    n_sub, n_region = len(template.substrate_coords), sum(template.region_composition.values())
    # boundaries midway between the last atom of one part and the first of the next, so the
    # starting structure is split exactly as the rule splits it
    low = (ranked[n_sub - 1] + ranked[n_sub]) / 2
    high = (ranked[n_sub + n_region - 1] + ranked[n_sub + n_region]) / 2
    cut = ranked[0] - (c - (ranked[-1] - ranked[0])) / 2  # the middle of the vacuum
    heights = (positions[:, atoms, 2] - cut) % c + cut
    return {
        "substrate": heights < low,
        "region": (heights >= low) & (heights < high),
        "film": heights >= high,
    }


def analyse_run(
    trajectory: Trajectory,
    species: str = "Li",
    fit: TransportFit | None = None,
    template: InterfaceTemplate | None = None,
) -> RunTransport:
    """D, σ and the MSD checks of one run; by region and direction when ``template`` says
    the run is an interface of it (supercells of the template are not: their regions repeat
    along a and b only, and the rule is applied to the template's cell)."""
    fit = fit or TransportFit()
    start = trajectory.start
    atoms = trajectory.species_indices(species)
    framework = np.setdiff1d(np.arange(len(start)), atoms)
    positions = trajectory.positions.astype(float)
    d = windowed_diffusivity(
        start, positions, trajectory.frame_fs, trajectory.temperature, species, fit
    )
    sigma, sigma_sem = conductivity(start, d)
    resolved = []
    if template is not None and len(start) == template.n_atoms:
        masks = interface_regions(template, start.cart_coords, positions, atoms)
        resolved = resolved_diffusivity(
            start.lattice.matrix, positions, trajectory.frame_fs, trajectory.temperature,
            atoms, masks, species, fit,
        )  # fmt: skip
    return RunTransport(
        name=trajectory.name,
        temperature=trajectory.temperature,
        mean_temperature=float(np.mean(trajectory.temperatures)),
        duration_ps=trajectory.duration_ps,
        diffusivity=d,
        sigma=sigma,
        sigma_sem=sigma_sem,
        framework_msd=framework_msd(positions, framework),
        max_msd=max_msd(positions, atoms, framework),
        resolved=resolved,
    )


class StructureTransport(BaseModel):
    """One structure over its temperatures, and paper 003's MD cuts where the runs allow."""

    name: str = Field(description="Structure")
    runs: list[RunTransport] = Field(description="One per temperature")
    arrhenius: Arrhenius = Field(description="Fit over temperatures and σ(300 K)")
    checks: dict[str, bool] = Field(
        default_factory=dict,
        description="paper 003's cuts that the temperatures allow: sigma_300K (σ − s.e.m. > "
        "1e-6 S/cm), framework_1000K (MSD < 2 Å²), li_500K (largest MSD > 4 Å²)",
    )


def analyse_structure(
    runs: list[RunTransport], structure, fixed_ea: float = 0.5
) -> StructureTransport:
    """Arrhenius over ``runs`` (one structure's temperatures) and the cuts they allow."""
    fitted = arrhenius(structure, [r.diffusivity for r in runs], fixed_ea)
    checks = {"sigma_300K": fitted.sigma_room_fixed_ea - fitted.sigma_room_fixed_ea_sem > SIGMA_MIN}
    by_t = {round(r.temperature): r for r in runs}
    if 1000 in by_t:
        checks["framework_1000K"] = by_t[1000].framework_msd < FRAMEWORK_MSD_MAX
    if 500 in by_t:
        checks["li_500K"] = by_t[500].max_msd > LI_MSD_MIN
    return StructureTransport(name=runs[0].name, runs=runs, arrhenius=fitted, checks=checks)


class SetTransport(BaseModel):
    """Li D of one structure set (training, random, a GAN run) at one temperature, pooled over
    its structures' windows, by region and direction."""

    label: str = Field(description="Set name")
    temperature: float = Field(description="K")
    n_structures: int = Field(description="Structures run")
    D: dict[str, float] = Field(description="'all' and '<region> <direction>' -> mean D, cm²/s")
    D_sem: dict[str, float] = Field(description="Standard error over all windows, cm²/s")
    framework_msd: float = Field(
        description="Mean framework MSD over the runs, Å² (above 2 Å²: the framework flows, "
        "paper 003's stability cut)"
    )


def pool_set(label: str, runs: list[RunTransport]) -> list[SetTransport]:
    """Per temperature, each D of the set's runs pooled: the mean of every window of every
    structure and its standard error (windows treated as independent samples)."""
    out = []
    for temperature in sorted({r.temperature for r in runs}):
        chosen = [r for r in runs if r.temperature == temperature]
        windows: dict[str, list[float]] = {"all": []}
        for r in chosen:
            windows["all"] += r.diffusivity.windows
            for d in r.resolved:
                windows.setdefault(d.what, []).extend(d.windows)
        mean = {k: float(np.mean(v)) for k, v in windows.items()}
        sem = {
            k: float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0
            for k, v in windows.items()
        }
        out.append(
            SetTransport(
                label=label,
                temperature=temperature,
                n_structures=len(chosen),
                D=mean,
                D_sem=sem,
                framework_msd=float(np.mean([r.framework_msd for r in chosen])),
            )
        )
    return out
