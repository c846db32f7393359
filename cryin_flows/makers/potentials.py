"""Makers for reference labels, training frames and M3GNet training."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

from jobflow import CURRENT_JOB, Flow, Maker, job
from pymatgen.io.ase import AseAtomsAdaptor

from cryin_flows.data import load_bulk
from cryin_flows.devices import describe_device
from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.energy import (
    LOWEST_GAMMA,
    annotate_interface_energies,
    low_energy_subset,
)
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.makers.common import assign_categories, job_folder
from cryin_flows.potentials.calculators import (
    DEFAULT_CALCULATOR,
    calculator_device,
    get_calculator,
)
from cryin_flows.potentials.check import check_against_reference
from cryin_flows.potentials.frames import write_frame_splits
from cryin_flows.potentials.labelling import (
    CONTACT_DISTANCES,
    LabelSettings,
    RelaxationTrajectory,
    label_bulk_cells,
    label_contacts,
    label_interfaces,
)
from cryin_flows.potentials.m3gnet import (
    M3GNetSettings,
    load_potential,
    train_m3gnet,
)
from cryin_flows.potentials.relax import BatchedPotential, RelaxSettings, relax_batch
from cryin_flows.schemas.common import FileRef
from cryin_flows.schemas.potentials import (
    EnergyDoc,
    FrameSetDoc,
    LabelDoc,
    PotentialDoc,
    ReferenceCheckDoc,
    RelaxDoc,
)


@dataclass
class LabelMaker(Maker):
    """Relax structures with a reference calculator in the paper's two stages.

    Bulk cells (``n_per_bulk`` each) pin the per-element energies: by default the template's
    substrate and film bulks (LiCoO2 and Li3ScCl6 for the paper's system). ``n_contacts``
    close-contact single points per relaxation (``label_contacts``; the paper has none) teach a
    small data set the repulsive wall. ``workers`` processes relax structures side by side
    (``label_interfaces``).
    """

    name: str = "label"
    calculator: str = DEFAULT_CALCULATOR
    settings: LabelSettings = field(default_factory=LabelSettings)
    calculator_kwargs: dict = field(default_factory=dict)
    bulk_cells: tuple[str, ...] | None = None
    n_per_bulk: int = 4
    n_contacts: int = 0
    contact_distances: tuple[float, float] = CONTACT_DISTANCES
    workers: int = 1

    @job(data="trajectories")
    def make(self, structures: InterfaceSet, template: InterfaceTemplate) -> LabelDoc:
        """Stage 1 moves each structure's interface region, stage 2 all atoms."""
        template.validate_set(structures, label="structures to label")
        trajectories = label_dataset(self, structures, template)
        doc = LabelDoc.from_trajectories(
            trajectories, len(structures), self.calculator, self.settings, template.template_hash
        )
        doc.device = calculator_device(get_calculator(self.calculator, **self.calculator_kwargs))
        return doc


def label_dataset(
    maker: LabelMaker, structures: InterfaceSet, template: InterfaceTemplate, progress=None
) -> list[RelaxationTrajectory]:
    """What a potential learns from, by ``maker``'s settings: the reference relaxations of
    ``structures`` (``progress(1)`` after each), then the bulk cells, then the close contacts.
    The label job and ``cryin label`` both call it."""
    relaxations = label_interfaces(
        structures,
        template,
        maker.calculator,
        maker.settings,
        maker.calculator_kwargs,
        maker.workers,
        progress,
    )
    calculator = get_calculator(maker.calculator, **dict(maker.calculator_kwargs))
    if maker.bulk_cells is None:
        specs = (template.system.substrate, template.system.film)
        bulks = {s.bulk: AseAtomsAdaptor.get_atoms(s.load_structure()) for s in specs}
    else:
        bulks = {name: AseAtomsAdaptor.get_atoms(load_bulk(name)) for name in maker.bulk_cells}
    return [
        *relaxations,
        *label_bulk_cells(calculator, bulks, maker.n_per_bulk, calculator_name=maker.calculator),
        *label_contacts(
            calculator,
            relaxations,
            maker.n_contacts,
            maker.contact_distances,
            calculator_name=maker.calculator,
        ),
    ]


@dataclass
class FramesMaker(Maker):
    """Harvest frames (5th step, every 10th, final) and split them by relaxation."""

    name: str = "frames"
    first_step: int = 5
    every: int = 10
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    out_dir: str | None = None

    @job(data="frames_extxyz")
    def make(self, labels: LabelDoc, base: FrameSetDoc | None = None) -> FrameSetDoc:
        """Single-point labels (``bulk-*``, ``contact-*``) all go to the training split.

        With ``base`` (an earlier frame set), the new frames join its splits: each file holds
        base's frames, then the new ones (active learning, ``flows.refine``).
        """
        if base is not None:
            clash = {t.label for t in labels.trajectories} & {
                label for members in base.relaxations.values() for label in members
            }
            if clash:
                raise ConfigurationError(
                    f"frames: relaxation labels already in the base frame set: "
                    f"{', '.join(sorted(clash))}"
                )
        split, counts, paths = write_frame_splits(
            labels.trajectories,
            job_folder(self.out_dir, "frames"),
            self.first_step,
            self.every,
            self.fractions,
            self.seed,
            base=None if base is None else base.read_frames(),
        )
        if base is not None:
            split = {name: [*base.relaxations.get(name, []), *split[name]] for name in split}
        return FrameSetDoc(
            counts=counts,
            relaxations=split,
            n_bulk_frames=sum(label.startswith("bulk-") for label in split["train"]),
            n_contact_frames=sum(label.startswith("contact-") for label in split["train"]),
            files={name: FileRef.of(path) for name, path in paths.items()},
            first_step=self.first_step,
            every=self.every,
            seed=self.seed,
            base_counts=None if base is None else base.counts,
            frames_extxyz={name: path.read_text() for name, path in paths.items()},
        )


@dataclass
class M3GNetTrainMaker(Maker):
    """Train an M3GNet potential on a frame set; weights stay on disk, referenced by hash."""

    node_kind: ClassVar[str] = "gpu"
    name: str = "potential train"
    settings: M3GNetSettings = field(default_factory=M3GNetSettings)
    out_dir: str | None = None

    @job
    def make(
        self, frames: FrameSetDoc | str, init_from: PotentialDoc | str | None = None
    ) -> PotentialDoc:
        """``frames``: a FrameSetDoc or a folder with train/val/test.extxyz. ``init_from``: a
        potential (document or folder) to fine-tune instead of starting from scratch."""
        frames_dir = (
            Path(frames.files["train"].path).parent
            if isinstance(frames, FrameSetDoc)
            else Path(frames)
        )
        start, fine_tunes = init_from, 0
        if isinstance(init_from, PotentialDoc):
            start, fine_tunes = checked_potential_dir(init_from), init_from.fine_tunes
        out = job_folder(self.out_dir, "potential")
        summary = train_m3gnet(frames_dir, out, self.settings, init_from=start)
        doc = PotentialDoc.from_training(summary)
        doc.fine_tunes = fine_tunes + 1 if start is not None else 0
        doc.device = summary.device
        return doc


def checked_potential_dir(potential: PotentialDoc) -> str:
    """The document's potential folder, once its files are checked against their hashes."""
    for name, ref in potential.files.items():
        if FileRef.of(Path(potential.potential_dir) / name).sha256 != ref.sha256:
            raise ConfigurationError(f"{potential.potential_dir}/{name} changed since training")
    return potential.potential_dir


@job
def pick_lowest_val_loss(docs: list[PotentialDoc]) -> PotentialDoc:
    """The potential with the lowest validation loss."""
    return min(docs, key=lambda d: float("inf") if d.val_loss is None else d.val_loss)


@dataclass
class PotentialSweepMaker(Maker):
    """Learning rate x batch size grid (paper ESI Table S2); keeps the lowest validation loss."""

    name: str = "potential sweep"
    learning_rates: tuple[float, ...] = (1e-3, 5e-4)
    batch_sizes: tuple[int, ...] = (2, 4, 6)
    train: M3GNetTrainMaker = field(default_factory=M3GNetTrainMaker)

    def make(self, frames: FrameSetDoc | str) -> Flow:
        """One training job per grid point (``train`` with that point's settings), the pick."""
        jobs = []
        for lr in self.learning_rates:
            for batch in self.batch_sizes:
                settings = self.train.settings.model_copy(
                    update={"learning_rate": lr, "batch_size": batch}
                )
                name = f"potential lr={lr:g} batch={batch}"
                jobs.append(replace(self.train, name=name, settings=settings).make(frames))
        best = pick_lowest_val_loss([j.output for j in jobs])
        best.name = "best potential (lowest validation loss)"
        return assign_categories(Flow([*jobs, best], output=best.output, name=self.name))


@dataclass
class RelaxMaker(Maker):
    """Relax structures with a trained potential: batched FIRE, fixed cell, resumable."""

    node_kind: ClassVar[str] = "gpu"
    name: str = "relax"
    settings: RelaxSettings = field(default_factory=RelaxSettings)
    results_path: str | None = None
    results_dir: str | None = None

    @job(data="structures")
    def make(self, structures: InterfaceSet, potential: PotentialDoc | str) -> RelaxDoc:
        """``potential``: a PotentialDoc (files checked by hash) or a potential folder.

        Finished structures go, as they finish, to ``results_path``, else to
        ``results_dir/<job uuid>.jsonl`` (the same file when the job is rerun, in any folder),
        else to ``relax_<uuid>/relaxations.jsonl`` in the job's folder; a rerun that finds the
        file resumes.
        """
        pot_dir = (
            checked_potential_dir(potential) if isinstance(potential, PotentialDoc) else potential
        )
        if self.results_path:
            results = Path(self.results_path).resolve()
        elif self.results_dir and CURRENT_JOB.job is not None:
            results = Path(self.results_dir).resolve() / f"{CURRENT_JOB.job.uuid}.jsonl"
        else:
            results = job_folder(None, "relax") / "relaxations.jsonl"
        results.parent.mkdir(parents=True, exist_ok=True)
        model = BatchedPotential(load_potential(pot_dir), self.settings.device)
        relaxed, records = relax_batch(structures, model, self.settings, results_path=results)
        doc = RelaxDoc.from_records(relaxed, records, str(pot_dir), self.settings, str(results))
        doc.device = describe_device(model.device)
        return doc


@dataclass
class InterfaceEnergyMaker(Maker):
    """Normalised interface energies of relaxed structures and the γ̃ <= max GAN training set."""

    name: str = "interface energy"
    e_ref: float | None = None
    max_gamma: float = 0.0
    training_set_size: int | None = 1500
    converged_only: bool = True
    lowest_gamma: float = LOWEST_GAMMA

    @job(data=["structures", "training_set"])
    def make(
        self,
        relaxed: RelaxDoc | InterfaceSet | list[RelaxDoc],
        template: InterfaceTemplate,
        e_ref: float | None = None,
    ) -> EnergyDoc:
        """γ̃ with ``e_ref`` (this argument, else the maker's field; both None: the lowest
        structure is put at ``lowest_gamma``, −0.4 J/m²). A list of RelaxDocs is one set."""
        parts = relaxed if isinstance(relaxed, list) else [relaxed]
        structures = InterfaceSet.concatenate(
            [p.structures if isinstance(p, RelaxDoc) else p for p in parts]
        )
        template.validate_set(structures, label="relaxed structures")
        e_ref = self.e_ref if e_ref is None else e_ref
        gamma, e_ref = annotate_interface_energies(
            structures, template.area, e_ref, self.lowest_gamma
        )
        subset = low_energy_subset(
            structures, gamma, self.max_gamma, self.training_set_size, self.converged_only
        )
        return EnergyDoc.from_energies(structures, gamma, e_ref, template, subset, self.max_gamma)


@dataclass
class ReferenceCheckMaker(Maker):
    """Re-score ``n`` relaxed structures by the reference calculator (``potentials.check``).

    The paper's potential is checked on held-out DFT frames only; at demo scale a potential can
    pass that and still relax into minima the reference does not have, which this shows.
    """

    name: str = "reference check"
    calculator: str = DEFAULT_CALCULATOR
    calculator_kwargs: dict = field(default_factory=dict)
    n: int = 8

    @job
    def make(self, energies: EnergyDoc) -> ReferenceCheckDoc:
        """``energies``: the interface-energy document of relaxed structures."""
        calculator = get_calculator(self.calculator, **dict(self.calculator_kwargs))
        check = check_against_reference(energies.structures, calculator, self.n)
        return ReferenceCheckDoc(
            **check.model_dump(), calculator=self.calculator, device=calculator_device(calculator)
        )
