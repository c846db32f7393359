"""Makers for the stability stages: phase energies, stability of phases and pairs, candidate
sets and the screening funnel (seed 003, stage ii)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

from atomate2.vasp.jobs.base import BaseVaspMaker
from atomate2.vasp.jobs.mp import MPGGARelaxMaker
from jobflow import Flow, Maker, job
from pymatgen.core import Structure

from cryin_flows.errors import ConfigurationError
from cryin_flows.makers.common import assign_categories, job_folder
from cryin_flows.potentials.calculators import (
    DEFAULT_CALCULATOR,
    STUDY_POTENTIAL,
    calculator_device,
    get_calculator,
)
from cryin_flows.schemas.common import FileRef
from cryin_flows.schemas.potentials import PotentialDoc
from cryin_flows.schemas.stability import (
    CandidatesDoc,
    PhaseEnergiesDoc,
    ScreenDoc,
    StabilityDoc,
)
from cryin_flows.stability.candidates import random_candidates, read_structures
from cryin_flows.stability.energies import scheme_of
from cryin_flows.stability.funnel import ScreenCriteria
from cryin_flows.stability.library import load_library
from cryin_flows.stability.pipeline import (
    PhaseEnergies,
    assemble_phase_energies,
    assess_phases,
    compute_phase_energies,
    run_screen,
    structure_stability,
)
from cryin_flows.stability.plots import funnel_figure, hull_figure, mixing_figure, window_figure
from cryin_flows.stability.relaxation import PhaseRelaxSettings, RelaxedEnergy


@dataclass
class PhaseEnergiesMaker(Maker):
    """Relax a chemistry's library phases (cell and positions, 0.05 eV/Å) with a calculator
    and store their energies: the input of every hull, window and mixing energy.

    ``calculator`` is CHGNet (offline) or any ASE calculator by ``module:Class``; a
    ``potential`` given to ``make`` (the study's M3GNet) replaces it. ``energy_scheme`` says how
    the energies relate to MP2020 (``ENERGY_SCHEMES``; known for CHGNet and the study's
    potential). ``phases_dir`` adds a folder of YAML/CIF phases to the bundled library.
    Relaxations are saved as they finish in the job's folder, so a rerun resumes.
    """

    name: str = "phase energies"
    calculator: str = DEFAULT_CALCULATOR
    calculator_kwargs: dict = field(default_factory=dict)
    energy_scheme: str | None = None
    settings: PhaseRelaxSettings = field(default_factory=PhaseRelaxSettings)
    phases_dir: str | None = None
    workers: int = 1
    work_dir: str | None = None
    node_kind: ClassVar[str] = "gpu"

    def calculator_of(self, potential: PotentialDoc | None) -> tuple[str, dict]:
        """The calculator name and arguments: the study's potential when given."""
        if potential is not None:
            return STUDY_POTENTIAL, {"path": potential.potential_dir}
        return self.calculator, dict(self.calculator_kwargs)

    @job
    def make(
        self, chemistry: str | list[str], potential: PotentialDoc | None = None
    ) -> PhaseEnergiesDoc:
        """Every library phase of ``chemistry`` (a named chemistry or element symbols)."""
        calculator, kwargs = self.calculator_of(potential)
        energies = compute_phase_energies(
            load_library(self.phases_dir),
            chemistry,
            calculator,
            scheme_of(calculator, self.energy_scheme),
            self.settings,
            job_folder(self.work_dir, "phases"),
            kwargs,
            self.workers,
        )
        return PhaseEnergiesDoc(
            **energies.model_dump(),
            n_converged=sum(p.converged for p in energies.phases),
            device=calculator_device(get_calculator(calculator, **kwargs)),
        )


@dataclass
class VaspPhaseEnergiesMaker(Maker):
    """Phase energies from VASP with the Materials Project's settings (atomate2's
    ``MPGGARelaxMaker``: MP's input set, U values and POTCARs), each phase relaxed by custodian
    on a cluster (a CPU job each), then collected with pymatgen's
    ``MaterialsProject2020Compatibility`` applied (energy scheme ``mp2020``, the entries
    carrying each run's own settings). Candidates for the funnel need the same route: the
    screen refuses to relax them with an ASE calculator against VASP phases."""

    name: str = "vasp phase energies"
    relax_maker: BaseVaspMaker = field(default_factory=MPGGARelaxMaker)
    phases_dir: str | None = None

    def make(self, chemistry: str | list[str]) -> Flow:
        """One relaxation per library phase of ``chemistry``, then the collecting job."""
        library = load_library(self.phases_dir)
        phases = library.select(chemistry)
        relaxations = []
        for phase in phases:
            relax = self.relax_maker.make(phase.structure)
            relax.name = f"{self.relax_maker.name} {phase.name}"
            relaxations.append(relax)
        collect = collect_vasp_phase_energies(
            chemistry if isinstance(chemistry, str) else "-".join(chemistry),
            sorted(library.elements_of(chemistry)),
            [phase.name for phase in phases],
            self.phases_dir,
            self.relax_maker.name,
            [relax.output for relax in relaxations],
        )
        collect.name = f"{self.name} (collect)"
        return assign_categories(
            Flow([*relaxations, collect], output=collect.output, name=self.name)
        )


def mp2020_parameters(parameters: dict) -> dict:
    """An emmet entry's parameters as MP2020 reads them: emmet names the run type by the
    functional (PBE, PBE+U), the compatibility by the older GGA, GGA+U."""
    out = dict(parameters)
    run_type = str(getattr(out.get("run_type"), "value", out.get("run_type")))
    out["run_type"] = {"PBE": "GGA", "PBE+U": "GGA+U"}.get(run_type, run_type)
    return out


@job
def collect_vasp_phase_energies(
    label: str,
    elements: list[str],
    names: list[str],
    phases_dir: str | None,
    relax_name: str,
    tasks: list,
) -> PhaseEnergiesDoc:
    """The phases' VASP TaskDocs as a phase-energies document (MP2020 applied)."""
    library = load_library(phases_dir)
    relaxed = []
    for name, task in zip(names, tasks, strict=True):
        structure = task.output.structure
        steps = sum(len(calc.output.ionic_steps or []) for calc in task.calcs_reversed or [])
        relaxed.append(
            (
                library[name],
                RelaxedEnergy(
                    name=name,
                    formula=structure.composition.reduced_formula,
                    energy=task.output.energy,
                    energy_per_atom=task.output.energy_per_atom,
                    n_atoms=len(structure),
                    converged=str(task.state.value) == "successful",
                    steps=steps,
                    seconds=0.0,
                    structure=structure.as_dict(),
                    parameters=mp2020_parameters(task.entry.parameters),
                ),
            )
        )
    energies = assemble_phase_energies(
        label, elements, relaxed, f"vasp ({relax_name})", "mp2020", PhaseRelaxSettings()
    )
    return PhaseEnergiesDoc(
        **energies.model_dump(), n_converged=sum(p.converged for p in energies.phases)
    )


@dataclass
class StabilityMaker(Maker):
    """Windows of named phases, mixing energies of named pairs and E_hull of given structure
    files, from stored phase energies; figures of the windows, the mixing curves and (three
    elements or fewer) the hull. Structure files are relaxed with the phases' calculator."""

    name: str = "stability"
    phases: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    structure_files: tuple[str, ...] = ()
    figures_dir: str | None = None

    @job
    def make(self, energies: PhaseEnergiesDoc) -> StabilityDoc:
        """Assess ``phases`` and ``pairs`` (library names) against ``energies``."""
        energies = PhaseEnergies.model_validate(energies.model_dump())
        result = assess_phases(energies, list(self.phases), [tuple(p) for p in self.pairs])
        folder = job_folder(self.figures_dir, "stability")
        folder.mkdir(parents=True, exist_ok=True)
        figures = {}
        if result.windows:
            figures["windows"] = FileRef.of(window_figure(result.windows, folder / "windows.png"))
        if result.mixings:
            figures["mixing"] = FileRef.of(mixing_figure(result.mixings, folder / "mixing.png"))
        hull = hull_figure(energies.entries(), folder / "hull.png")
        if hull is not None:
            figures["hull"] = FileRef.of(hull)
        return StabilityDoc(
            chemistry=energies.chemistry,
            calculator=energies.calculator,
            energy_scheme=energies.energy_scheme,
            e_hull={p.name: p.e_hull for p in energies.phases},
            windows=result.windows,
            mixings=result.mixings,
            structures=structure_stability(energies, self.structure_files, folder),
            figures=figures,
        )


@dataclass
class CandidatesMaker(Maker):
    """A candidate set: structure files (CIF, extxyz, WyFormer JSON) when ``files`` are given,
    else ``n`` of pyxtal's random symmetric crystals of ``elements`` (charge-balanced, every
    element present, at most ``max_atoms`` in the conventional cell)."""

    name: str = "candidates"
    elements: tuple[str, ...] = ("Li", "Y", "Cl")
    n: int = 200
    seed: int = 0
    max_atoms: int = 16
    space_groups: tuple[int, ...] | None = None
    files: tuple[str, ...] = ()

    @job(data="structures")
    def make(self) -> CandidatesDoc:
        """Read or generate the candidates."""
        if self.files:
            items = [item for path in self.files for item in read_structures(path)]
            source, seed = f"files: {', '.join(self.files)}", None
        else:
            items = random_candidates(
                list(self.elements),
                self.n,
                self.seed,
                self.max_atoms,
                list(self.space_groups) if self.space_groups else None,
            )
            source = f"pyxtal: {'-'.join(self.elements)}, max {self.max_atoms} atoms"
            seed = self.seed
        if not items:
            raise ConfigurationError("the candidate set is empty")
        return CandidatesDoc(
            source=source,
            n_candidates=len(items),
            formulas=dict(Counter(s.composition.reduced_formula for _, s in items)),
            seed=seed,
            structures=[{"name": name, "structure": s.as_dict()} for name, s in items],
        )


@dataclass
class ScreenMaker(Maker):
    """The screening funnel (seed 003, Table 1) over a candidate set, candidates relaxed with
    the phases' calculator and settings (``workers`` processes); the funnel figure in the
    job's folder."""

    name: str = "screen"
    criteria: ScreenCriteria = field(default_factory=ScreenCriteria)
    workers: int = 1
    work_dir: str | None = None
    node_kind: ClassVar[str] = "gpu"

    @job(data="survivor_structures")
    def make(self, energies: PhaseEnergiesDoc, candidates: CandidatesDoc) -> ScreenDoc:
        """Validity, uniqueness, relaxation, E_hull, windows and E_rxn, in that order."""
        energies = PhaseEnergies.model_validate(energies.model_dump())
        items = [(c["name"], Structure.from_dict(c["structure"])) for c in candidates.structures]
        folder = job_folder(self.work_dir, "screen")
        result, relaxed = run_screen(items, energies, self.criteria, folder, self.workers)
        figure = funnel_figure(result.counts, folder / "funnel.png")
        return ScreenDoc(
            **result.model_dump(),
            chemistry=energies.chemistry,
            calculator=energies.calculator,
            figure=FileRef.of(figure),
            survivor_structures=[
                {"name": n, "structure": relaxed[n].as_dict()} for n in result.survivors
            ],
            device=calculator_device(
                get_calculator(energies.calculator, **energies.calculator_kwargs)
            ),
        )


@dataclass
class ScreenFlowMaker(Maker):
    """Candidates, the phase energies of their chemistry (with the electrolyte's and the
    cathode's), then the funnel."""

    name: str = "screen flow"
    candidates_maker: CandidatesMaker = field(default_factory=CandidatesMaker)
    energies_maker: PhaseEnergiesMaker = field(default_factory=PhaseEnergiesMaker)
    screen_maker: ScreenMaker = field(default_factory=ScreenMaker)

    def chemistry(self) -> list[str]:
        """The candidates' elements with the electrolyte's and cathode's."""
        if self.candidates_maker.files:
            raise ConfigurationError("with candidate files, give the chemistry to make()")
        library = load_library(self.energies_maker.phases_dir)
        criteria = self.screen_maker.criteria
        partners = [library[criteria.electrolyte], library[criteria.cathode]]
        return sorted(set(self.candidates_maker.elements).union(*(p.elements for p in partners)))

    def make(self, chemistry: str | list[str] | None = None) -> Flow:
        """The funnel flow; ``chemistry`` defaults to ``self.chemistry()``."""
        candidates = self.candidates_maker.make()
        energies = self.energies_maker.make(chemistry or self.chemistry())
        screen = self.screen_maker.make(energies.output, candidates.output)
        return assign_categories(
            Flow([candidates, energies, screen], output=screen.output, name=self.name)
        )
