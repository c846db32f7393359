"""Makers of the Li-transport stages (paper 003): MD with any calculator the package knows,
the diffusion analysis of MD documents, and the frozen-framework percolation barrier."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from jobflow import Maker, job
from pymatgen.core import Structure

from cryin_flows.dynamics.analysis import (
    analyse_run,
    analyse_structure,
    pool_set,
)
from cryin_flows.dynamics.diffusion import TransportFit
from cryin_flows.dynamics.md import MDSettings, run_md, supercell_size
from cryin_flows.dynamics.percolation import PESSettings, li_landscape, percolation_barriers
from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.makers.common import job_folder
from cryin_flows.makers.potentials import checked_potential_dir
from cryin_flows.potentials.calculators import (
    DEFAULT_CALCULATOR,
    STUDY_POTENTIAL,
    calculator_device,
    get_calculator,
)
from cryin_flows.schemas.common import FileRef
from cryin_flows.schemas.dynamics import MDDoc, PercolationDoc, TransportDoc
from cryin_flows.schemas.potentials import PotentialDoc

Structures = Structure | list[Structure] | InterfaceSet


def lowest_structures(structures: Structures, n: int | None) -> tuple[list[Structure], list[str]]:
    """Structures and names: an InterfaceSet's ``n`` lowest by γ̃ (its info
    ``interface_energy``; in stored order without it), a list's first ``n``."""
    if isinstance(structures, Structure):
        return [structures], [structures.composition.reduced_formula]
    if isinstance(structures, InterfaceSet):
        gamma = [info.get("interface_energy") for info in structures.infos]
        order = (
            list(np.argsort(gamma, kind="stable"))
            if all(g is not None for g in gamma)
            else list(range(len(structures)))
        )[:n]
        return [structures.structure(int(i)) for i in order], [f"#{int(i)}" for i in order]
    chosen = list(structures)[:n]
    return chosen, [f"{s.composition.reduced_formula} #{i}" for i, s in enumerate(chosen)]


@dataclass
class MDMaker(Maker):
    """NVT MD of paper 003 (``MDSettings``: supercell, relaxation, Berendsen, then Nosé-Hoover
    or Langevin) of structures at every temperature, all runs side by side with one model
    call per step. ``calculator`` is CHGNet (offline) or any ASE calculator by
    ``module:Class``; a ``potential`` given to ``make`` (the study's M3GNet) replaces it and
    runs on the device. ``n_structures`` takes that many of a set (lowest γ̃ first). The job's
    folder keeps a checkpoint, so a killed job resumes from its last saved frame."""

    name: str = "md"
    calculator: str = DEFAULT_CALCULATOR
    calculator_kwargs: dict = field(default_factory=dict)
    settings: MDSettings = field(default_factory=MDSettings)
    n_structures: int | None = None
    label: str = ""
    work_dir: str | None = None
    node_kind: ClassVar[str] = "gpu"

    @job(data=["trajectories"])
    def make(self, structures: Structures, potential: PotentialDoc | None = None) -> MDDoc:
        """Every structure (or the ``n_structures`` lowest of a set) at every temperature."""
        chosen, names = lowest_structures(structures, self.n_structures)
        if not chosen:
            raise ConfigurationError(f"{self.name}: no structures to run")
        calculator, kwargs = self.calculator, dict(self.calculator_kwargs)
        if potential is not None:
            calculator, kwargs = STUDY_POTENTIAL, {"path": checked_potential_dir(potential)}
        folder = job_folder(self.work_dir, "md")
        start = time.perf_counter()
        trajectories, device = run_md(chosen, calculator, self.settings, folder, kwargs, names)
        size = supercell_size(chosen[0], self.settings.min_atoms, self.settings.sphere_diameter)
        return MDDoc(
            label=self.label,
            calculator=calculator if potential is None else f"study potential {kwargs['path']}",
            settings=self.settings,
            names=names,
            temperatures=list(self.settings.temperatures),
            n_atoms=len(trajectories[0].start),
            supercell=list(size),
            production_ps=trajectories[0].duration_ps,
            mean_temperatures=[float(np.mean(t.temperatures)) for t in trajectories],
            seconds=time.perf_counter() - start,
            folder=str(folder),
            trajectories=trajectories,
            device=device,
        )


@dataclass
class TransportMaker(Maker):
    """D, σ by Nernst-Einstein, Arrhenius E_a and σ(300 K), the framework and Li MSD checks of
    every structure in MD documents (``fit``: paper 003's 15 ps windows, 3-15 ps slopes); with
    the interface ``template``, Li D by region (substrate, region, film: the template's rule)
    and direction (in-plane, across), pooled per document (set) and temperature."""

    name: str = "transport"
    species: str = "Li"
    fit: TransportFit = field(default_factory=TransportFit)
    figures_dir: str | None = None

    @job
    def make(
        self, md: MDDoc | list[MDDoc], template: InterfaceTemplate | None = None
    ) -> TransportDoc:
        """Analyse each run of ``md``; a list is several sets (each document its label)."""
        from cryin_flows.dynamics.plots import transport_figures

        docs = md if isinstance(md, list) else [md]
        structures, sets = [], []
        for doc in docs:
            runs = [analyse_run(t, self.species, self.fit, template) for t in doc.trajectories]
            for name in dict.fromkeys(r.name for r in runs):
                own = [r for r in runs if r.name == name]
                start = next(t.start for t in doc.trajectories if t.name == name)
                structures.append(
                    analyse_structure(own, start, self.fit.activation_energy).model_copy(
                        update={"name": f"{doc.label} {name}".strip()}
                    )
                )
            sets += pool_set(doc.label or "structures", runs)
        folder = job_folder(self.figures_dir, "transport")
        paths = transport_figures(docs, structures, sets, folder, self.species)
        return TransportDoc(
            species=self.species,
            fit=self.fit,
            structures=structures,
            sets=sets,
            figures={kind: FileRef.of(path) for kind, path in paths.items()},
        )


@dataclass
class PercolationMaker(Maker):
    """The frozen-framework descriptor of paper 003: one Li on a grid in the framework without
    its Li (``settings.variant`` empty) or with it (interstitial), single points batched, and
    the percolation barrier per direction; passes below ``cut`` (0.5 eV)."""

    name: str = "percolation barrier"
    calculator: str = DEFAULT_CALCULATOR
    calculator_kwargs: dict = field(default_factory=dict)
    settings: PESSettings = field(default_factory=PESSettings)
    cut: float = 0.5
    figures_dir: str | None = None
    node_kind: ClassVar[str] = "gpu"

    @job
    def make(self, structure: Structure, potential: PotentialDoc | None = None) -> PercolationDoc:
        """The barrier of ``structure`` (its Li the mobile species)."""
        from cryin_flows.dynamics.plots import landscape_figure

        calculator, kwargs = self.calculator, dict(self.calculator_kwargs)
        if potential is not None:
            calculator, kwargs = STUDY_POTENTIAL, {"path": checked_potential_dir(potential)}
        ase_calculator = get_calculator(calculator, **kwargs)
        energies, _ = li_landscape(structure, ase_calculator, self.settings)
        barriers = percolation_barriers(energies)
        finite = [b for b in barriers if np.isfinite(b)]
        name = structure.composition.reduced_formula
        path = landscape_figure(
            energies, barriers, job_folder(self.figures_dir, "percolation"), name
        )
        return PercolationDoc(
            name=name,
            formula=name,
            calculator=calculator,
            settings=self.settings,
            grid=list(energies.shape),
            n_evaluated=int(np.isfinite(energies).sum()),
            barriers=[b if np.isfinite(b) else None for b in barriers],
            barrier=min(finite) if finite else None,
            passes=bool(finite) and min(finite) < self.cut,
            cut=self.cut,
            figure=FileRef.of(path),
            device=calculator_device(ase_calculator),
        )
