"""Output documents of labelling, frame harvesting and potential training."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read as ase_read
from pydantic import ConfigDict, Field

from cryin_flows.analysis.statistics import Stats
from cryin_flows.interfaces.energy import GAMMA_CUTS
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.potentials.check import ReferenceCheck
from cryin_flows.potentials.labelling import LabelSettings, RelaxationTrajectory
from cryin_flows.potentials.m3gnet import (
    POTENTIAL_FILES,
    M3GNetSettings,
    PotentialMetrics,
    TrainingSummary,
)
from cryin_flows.potentials.relax import RelaxSettings
from cryin_flows.schemas.common import FileRef, OutputDoc


class LabelDoc(OutputDoc):
    """Reference relaxations of random interfaces (trajectories in the data store)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    task_label: str = Field("label", description="What kind of job made this")
    calculator: str = Field(description="Reference calculator")
    settings: LabelSettings = Field(description="Two-stage relaxation settings")
    n_relaxations: int = Field(description="Relaxations run")
    n_converged: int = Field(description="Stage 2 reached the force threshold")
    n_bulk_labels: int = Field(0, description="Labelled bulk cells among the trajectories")
    n_contact_labels: int = Field(
        0, description="Labelled close contacts (single points) among the trajectories"
    )
    n_steps: int = Field(description="Ionic steps recorded in all")
    template_hash: str = Field("", description="Template of the structures")
    trajectories: list[RelaxationTrajectory] = Field(description="In the data store")

    @classmethod
    def from_trajectories(
        cls,
        trajectories: list[RelaxationTrajectory],
        n_relaxations: int,
        calculator: str,
        settings: LabelSettings,
        template_hash: str = "",
    ) -> LabelDoc:
        """The first ``n_relaxations`` trajectories are interfaces; the rest are single
        points, bulk cells (``bulk-*``) and close contacts (``contact-*``)."""
        singles = [t.label for t in trajectories[n_relaxations:]]
        return cls(
            calculator=calculator,
            settings=settings,
            n_relaxations=n_relaxations,
            n_converged=sum(t.converged for t in trajectories[:n_relaxations]),
            n_bulk_labels=sum(label.startswith("bulk-") for label in singles),
            n_contact_labels=sum(label.startswith("contact-") for label in singles),
            n_steps=sum(len(t) for t in trajectories),
            template_hash=template_hash,
            trajectories=trajectories,
        )


class FrameSetDoc(OutputDoc):
    """Training frames split by relaxation; the extxyz files' text is in the data store."""

    task_label: str = Field("frames", description="What kind of job made this")
    counts: dict[str, int] = Field(description="Frames per split")
    relaxations: dict[str, list[str]] = Field(description="Relaxation labels per split")
    n_bulk_frames: int = Field(description="Bulk-cell labels put in the training split")
    n_contact_frames: int = Field(0, description="Close-contact labels put in the training split")
    files: dict[str, FileRef] = Field(description="train/val/test extxyz written by the job")
    first_step: int = Field(description="First harvested ionic step (1-based)")
    every: int = Field(description="Harvest interval in ionic steps")
    seed: int = Field(description="Split seed")
    units: str = Field(
        "energy eV, forces eV/Å, stress eV/Å³ (ASE; matgl converts to GPa, compressive -)",
        description="Units in the files",
    )
    base_counts: dict[str, int] | None = Field(
        None,
        description="Frames per split taken over from the frame set this one extends (active "
        "learning); None: harvested here only",
    )
    frames_extxyz: dict[str, str] = Field(description="The files' content (data store)")

    def read_frames(self) -> dict[str, list[Atoms]]:
        """The frames per split, from the stored file content (energies, forces, stresses)."""
        return {
            name: ase_read(io.StringIO(text), index=":", format="extxyz") if text else []
            for name, text in self.frames_extxyz.items()
        }


class PotentialDoc(OutputDoc):
    """A trained M3GNet potential: files by reference, errors per split."""

    task_label: str = Field("potential train", description="What kind of job made this")
    potential_dir: str = Field(description="Saved matgl potential (load with matgl.load_model)")
    files: dict[str, FileRef] = Field(description="model.pt, model.json, state.pt")
    parity_plot: FileRef = Field(description="Parity plot PNG")
    settings: M3GNetSettings = Field(description="Hyperparameters")
    elements: list[str] = Field(description="Element types of the model")
    element_refs: list[float] = Field(description="Fitted per-element energies, eV")
    epochs: int = Field(description="Epochs trained (early stopping may end sooner)")
    best_epoch: int | None = Field(
        None, description="Epoch (1-based) of the lowest validation loss: the weights kept"
    )
    val_loss: float | None = Field(description="MSE_E + MSE_F + 0.1 MSE_S on validation")
    metrics: dict[str, PotentialMetrics] = Field(description="MAEs per split")
    init_from: str | None = Field(
        None, description="Potential folder these weights were fine-tuned from; None: scratch"
    )
    fine_tunes: int = Field(
        0, description="Fine-tuning rounds behind these weights (active learning); 0: scratch"
    )

    @classmethod
    def from_training(cls, summary: TrainingSummary) -> PotentialDoc:
        """The document of ``train_m3gnet``'s summary."""
        pot = Path(summary.potential_dir)
        return cls(
            potential_dir=str(pot),
            files={name: FileRef.of(pot / name) for name in POTENTIAL_FILES},
            parity_plot=FileRef.of(summary.parity_plot),
            settings=summary.settings,
            elements=summary.elements,
            element_refs=summary.element_refs,
            epochs=summary.epochs,
            best_epoch=summary.best_epoch,
            val_loss=summary.val_loss,
            metrics=summary.metrics,
            init_from=summary.init_from,
        )


class RelaxDoc(OutputDoc):
    """A batch of structures relaxed with a potential (structures in the data store)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    task_label: str = Field("relax", description="What kind of job made this")
    potential_dir: str = Field(description="Potential used")
    settings: RelaxSettings = Field(description="FIRE settings")
    n_structures: int = Field(description="Structures relaxed")
    n_converged: int = Field(description="Reached the force threshold")
    steps: Stats = Field(description="FIRE steps per structure")
    records: list[dict] = Field(description="Per structure: steps, energies, max force, converged")
    results_file: str = Field(description="JSON-lines file the records were written to")
    structures: InterfaceSet = Field(description="Relaxed structures (data store)")

    @classmethod
    def from_records(
        cls,
        relaxed: InterfaceSet,
        records: list[dict],
        potential_dir: str,
        settings: RelaxSettings,
        results_file: str,
    ) -> RelaxDoc:
        """The document of ``relax_batch``'s structures and per-structure records."""
        return cls(
            potential_dir=potential_dir,
            settings=settings,
            n_structures=len(relaxed),
            n_converged=sum(r["converged"] for r in records),
            steps=Stats.of(r["steps"] for r in records),
            records=records,
            results_file=results_file,
            structures=relaxed,
        )


class EnergyDoc(OutputDoc):
    """Interface energies of relaxed structures and the low-energy GAN training set."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    task_label: str = Field("interface energy", description="What kind of job made this")
    e_ref: float = Field(description="Reference energy used, eV/atom")
    area: float = Field(description="Interface area, Å²")
    interface_energy: Stats = Field(description="γ̃ over the structures, J/m²")
    fraction_below_0: float = Field(description="Share with γ̃ <= 0")
    fraction_below_minus_0_2: float = Field(description="Share with γ̃ <= -0.2 J/m²")
    max_gamma: float = Field(description="Cut of the training set, J/m²")
    n_training_set: int = Field(description="Structures in the training set")
    template_hash: str = Field(description="Template the structures fit")
    structures: InterfaceSet = Field(description="All structures with γ̃ in their info")
    training_set: InterfaceSet = Field(description="γ̃ <= max_gamma, lowest first (data store)")

    @classmethod
    def from_energies(
        cls,
        structures: InterfaceSet,
        gamma: np.ndarray,
        e_ref: float,
        template: InterfaceTemplate,
        training_set: InterfaceSet,
        max_gamma: float,
    ) -> EnergyDoc:
        """The document of γ̃ over ``structures`` and the subset kept for the GAN."""
        return cls(
            e_ref=e_ref,
            area=template.area,
            interface_energy=Stats.of(gamma),
            **{name: float((gamma <= cut).mean()) for name, cut in GAMMA_CUTS.items()},
            n_training_set=len(training_set),
            max_gamma=max_gamma,
            template_hash=template.template_hash,
            structures=structures,
            training_set=training_set,
        )


class ReferenceCheckDoc(OutputDoc, ReferenceCheck):
    """Relaxed structures re-scored by the reference calculator (``check_against_reference``)."""

    task_label: str = Field("reference check", description="What kind of job made this")
    calculator: str = Field(description="Reference calculator")
