"""Train an M3GNet potential from scratch with matgl, and measure it (SPEC.md §3)."""

from __future__ import annotations

import logging
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
from ase.io import read as ase_read
from pydantic import BaseModel, Field

from cryin_flows.devices import describe_device
from cryin_flows.errors import ConfigurationError
from cryin_flows.potentials.frames import SPLITS
from cryin_flows.units import EV_PER_A3_IN_GPA
from cryin_flows.utils import SerializableModel, retain_freed_memory

POTENTIAL_FILES = ("model.pt", "model.json", "state.pt")


class M3GNetSettings(SerializableModel):
    """Training hyperparameters: the paper's where it gives them, matgl's M3GNet otherwise."""

    learning_rate: float = Field(1e-3, gt=0, description="Adam learning rate (paper: 1e-3)")
    batch_size: int = Field(4, ge=1, description="Structures per batch (paper: 4)")
    max_epochs: int = Field(1000, ge=1, description="Epoch limit")
    patience: int = Field(50, ge=1, description="Early stopping on the validation loss")
    decay_epochs: int | None = Field(
        None,
        ge=1,
        description="Epochs over which the learning rate falls on a cosine to 1 % of its start "
        "(matgl's scheduler, stepped once per epoch); None: max_epochs, so the rate reaches its "
        "floor when training ends",
    )
    energy_weight: float = Field(1.0, description="Loss weight of energies")
    force_weight: float = Field(1.0, description="Loss weight of forces")
    stress_weight: float = Field(
        0.1,
        ge=0,
        description="Loss weight of stresses; 0 trains without them (the study's relaxations "
        "keep the cell fixed; measured no faster on CPU)",
    )
    units: int = Field(64, ge=1, description="M3GNet hidden units")
    nblocks: int = Field(3, ge=1, description="M3GNet interaction blocks")
    cutoff: float = Field(5.0, gt=0, description="Graph cutoff, Å")
    threebody_cutoff: float = Field(4.0, gt=0, description="Three-body cutoff, Å")
    seed: int = Field(0, description="Seed of weights and batching")
    accelerator: str = Field("auto", description="Lightning accelerator: auto, cpu, gpu")


class PotentialMetrics(BaseModel):
    """Mean absolute errors of a potential on one split."""

    n_frames: int = Field(description="Frames evaluated")
    energy_mae_mev_atom: float = Field(description="Energy MAE, meV/atom")
    force_mae_mev_a: float = Field(description="Force-component MAE, meV/Å")
    stress_mae_gpa: float | None = Field(
        None,
        description="Stress-component MAE, GPa; None when the potential was trained without "
        "stresses (stress_weight 0) or the frames carry none",
    )
    energy_std_mev_atom: float | None = Field(
        None,
        description="Spread (standard deviation) of the reference energies, meV/atom: an "
        "energy MAE well below it is what lets the potential rank structures",
    )

    def errors_text(self) -> str:
        """``"2.7 meV/atom, 21 meV/Å, 0.015 GPa"`` (stress: "no stress" when not trained)."""
        stress = "no stress" if self.stress_mae_gpa is None else f"{self.stress_mae_gpa:.3f} GPa"
        energy, force = self.energy_mae_mev_atom, self.force_mae_mev_a
        return f"{energy:.1f} meV/atom, {force:.0f} meV/Å, {stress}"


class TrainingSummary(BaseModel):
    """What ``train_m3gnet`` made: files, fitted references, epochs, errors per split."""

    potential_dir: str = Field(description="Saved matgl potential")
    parity_plot: str = Field(description="Parity plot PNG")
    elements: list[str] = Field(description="Element types of the model")
    element_refs: list[float] = Field(description="Fitted per-element energies, eV")
    epochs: int = Field(description="Epochs trained (early stopping may end sooner)")
    best_epoch: int | None = Field(
        None, description="Epoch (1-based) of the lowest validation loss: the weights kept"
    )
    metrics: dict[str, PotentialMetrics] = Field(description="MAEs per split")
    val_loss: float | None = Field(description="MSE_E + MSE_F + 0.1 MSE_S on validation")
    settings: M3GNetSettings = Field(description="Hyperparameters")
    init_from: str | None = Field(
        None, description="Potential folder fine-tuned from; None: trained from scratch"
    )
    device: str = Field("cpu", description="Where Lightning trained: cpu or cuda:N (GPU name)")


def split_paths(frames_dir: str | Path) -> dict[str, Path]:
    """train/val/test extxyz files of a frame folder; all three must exist."""
    frames_dir = Path(frames_dir)
    paths = {name: frames_dir / f"{name}.extxyz" for name in SPLITS}
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        raise ConfigurationError(f"frame files missing: {', '.join(missing)}")
    return paths


def _check_frames(path: Path) -> list:
    frames = ase_read(path, index=":", format="extxyz")
    for i, atoms in enumerate(frames):
        results = atoms.calc.results if atoms.calc is not None else {}
        for key in ("energy", "forces"):
            if key not in results:
                raise ConfigurationError(f"{path}, frame {i}: no {key}")
    return frames


def find_potential_dir(path: str | Path) -> Path:
    """The saved model folder of ``path``: the folder itself, or the ``potential`` folder
    inside a training run's output (what ``cryin potential train --out`` names)."""
    path = Path(path)
    for candidate in (path, path / "potential"):
        if candidate.is_dir() and all((candidate / f).exists() for f in POTENTIAL_FILES):
            return candidate
    raise ConfigurationError(
        f"{path} is not a saved potential directory (needs {', '.join(POTENTIAL_FILES)}, "
        "or a training run's folder with them in potential/)"
    )


def tensor_threebody_indices() -> None:
    """Have matgl's M3GNet find its three-body indices with tensor operations.

    ``matgl.graph._compute._compute_3body_indices`` enumerates the bond pairs of each atom in
    a Python loop over atoms, at every model call; matgl's own tensor port of it,
    ``_compute_3body_indices_torch``, returns the same indices for edges in source order (as
    matgl's graphs and ``BatchedPotential``'s are; a test compares the two) without the loop:
    about 14 % of a relaxation or MD step of the demo's potential on a CPU. Idempotent; does
    nothing where the matgl installed has no such port.
    """
    from matgl.graph import _compute

    port = getattr(_compute, "_compute_3body_indices_torch", None)
    current = getattr(_compute, "_compute_3body_indices", None)
    if port is None or current is None or getattr(current, "tensor_port", False):
        return

    def indices(edge_index, num_nodes: int, device="cpu"):
        line_edges, n_triple, max_bond = port(edge_index, num_nodes)
        return line_edges.to(device), n_triple.to(device), max_bond

    indices.tensor_port = True  # type: ignore[attr-defined]
    indices.loop = current  # type: ignore[attr-defined]
    _compute._compute_3body_indices = indices


def load_potential(path: str | Path):
    """The matgl potential saved in ``path`` (see ``find_potential_dir``), in inference mode.

    ``matgl.load_model`` hands it back in training mode, in which every force call also
    records the graph of its own gradient (for a force loss): 1.6× the time of a relaxation
    or MD step on a CPU for the same numbers.
    """
    import matgl

    tensor_threebody_indices()
    return matgl.load_model(find_potential_dir(path)).eval()


def ase_calculator(path: str | Path):
    """An ASE calculator (energies eV, forces eV/Å, stress eV/Å³) for a saved potential."""
    from matgl.ext.ase import PESCalculator

    return PESCalculator(load_potential(path), stress_unit="eV/A3")


@contextmanager
def _training_log(path: Path):
    """matgl's dataset prints and Lightning's banners go to ``path``, not the terminal."""
    loggers = [logging.getLogger(n) for n in ("lightning.pytorch", "lightning.fabric")]
    levels = [lg.level for lg in loggers]
    with open(path, "a") as handle, redirect_stdout(handle), redirect_stderr(handle):
        handler = logging.StreamHandler(handle)
        for lg in loggers:
            lg.setLevel(logging.WARNING)
            lg.addHandler(handler)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)
                lg.removeHandler(handler)


def train_m3gnet(
    frames_dir: str | Path,
    out_dir: str | Path,
    settings: M3GNetSettings | None = None,
    init_from: str | Path | None = None,
) -> TrainingSummary:
    """Train from ``frames_dir/{train,val,test}.extxyz``; save to ``out_dir/potential``.

    From scratch, element reference energies are fitted by least squares on the training
    frames (matgl's ``fit_element_refs``; the minimum-norm solution when, without bulk cells,
    every frame has one stoichiometry). With ``init_from`` (a saved potential), training
    continues from its weights and keeps its element references and architecture (units,
    blocks, cutoffs; the summary's settings say which). Returns a summary with per-split
    metrics and file paths.
    """
    import lightning.pytorch as pl

    settings = settings or M3GNetSettings()
    retain_freed_memory()
    tensor_threebody_indices()
    paths = split_paths(frames_dir)
    frames = {name: _check_frames(path) for name, path in paths.items()}
    elements = tuple(sorted({s for f in frames["train"] for s in f.get_chemical_symbols()}))
    start = None
    if init_from is not None:
        init_from = find_potential_dir(init_from).resolve()
        start = load_potential(init_from)
        model = start.model
        missing = sorted(set(elements) - set(model.element_types))
        if missing:
            raise ConfigurationError(
                f"{frames_dir}: elements {', '.join(missing)} are not in the potential to "
                f"fine-tune ({init_from}: {', '.join(model.element_types)})"
            )
        elements = tuple(model.element_types)
        settings = settings.model_copy(update=_architecture(model))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pl.seed_everything(settings.seed, workers=True, verbose=False)
    with _training_log(out_dir / "training.log"):
        return _train(frames, paths, elements, out_dir, settings, start, init_from)


def _architecture(model) -> dict:
    """The settings fields an M3GNet model fixes (what fine-tuning cannot change)."""
    return {
        "units": int(model.units),
        "nblocks": int(model.n_blocks),
        "cutoff": float(model.cutoff),
        "threebody_cutoff": float(model.threebody_cutoff),
    }


def _train(
    frames,
    paths,
    elements,
    out_dir: Path,
    settings: M3GNetSettings,
    start=None,
    init_from: Path | None = None,
) -> TrainingSummary:
    import torch
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
    from matgl.models import M3GNet
    from matgl.utils.training import MGLDatasetLoader, MGLPotentialTrainer, fit_element_refs
    from pymatgen.io.ase import AseAtomsAdaptor

    datasets = {
        name: MGLDatasetLoader.from_extxyz(
            paths[name],
            element_types=elements,
            cutoff=settings.cutoff,
            save_cache=False,
            root=str(out_dir / f".graphs_{name}"),
        )
        for name in SPLITS
    }
    if start is not None:
        model = start.model
        refs = start.element_refs.property_offset.detach().cpu().numpy()
    else:
        refs = fit_element_refs(
            [AseAtomsAdaptor.get_structure(a) for a in frames["train"]],
            [a.get_potential_energy() for a in frames["train"]],
            elements,
        )
        model = M3GNet(
            element_types=elements,
            units=settings.units,
            nblocks=settings.nblocks,
            dim_node_embedding=settings.units,
            dim_edge_embedding=settings.units,
            cutoff=settings.cutoff,
            threebody_cutoff=settings.threebody_cutoff,
            is_intensive=False,
        )
    best = ModelCheckpoint(
        dirpath=out_dir / ".checkpoints",
        filename="best",
        monitor="val_Total_Loss",
        mode="min",
        save_top_k=1,
        enable_version_counter=False,
    )
    trainer = MGLPotentialTrainer(
        model,
        energy_weight=settings.energy_weight,
        force_weight=settings.force_weight,
        stress_weight=settings.stress_weight,
        loss="mse_loss",
        lr=settings.learning_rate,
        batch_size=settings.batch_size,
        max_epochs=settings.max_epochs,
        decay_steps=settings.decay_epochs or settings.max_epochs,
        accelerator=settings.accelerator,
        seed=settings.seed,
        trainer_kwargs={
            "enable_progress_bar": False,
            "logger": False,
            "enable_model_summary": False,
            "callbacks": [best, EarlyStopping("val_Total_Loss", patience=settings.patience)],
            "deterministic": False,
        },
        loader_kwargs={"num_workers": 0},
    )
    potential_dir = out_dir / "potential"
    potential = trainer.fit(
        {"train": datasets["train"], "valid": datasets["val"], "test": datasets["test"]},
        atomrefs=refs,
    )
    # Keep the weights of the best validation epoch, not the last one.
    best_epoch = None
    if best.best_model_path:
        state = torch.load(best.best_model_path, map_location="cpu", weights_only=False)
        trainer.lit_module.load_state_dict(state["state_dict"])
        best_epoch = int(state["epoch"]) + 1
        Path(best.best_model_path).unlink()
    potential.save(potential_dir)
    epochs = int(trainer.trainer.current_epoch) if trainer.trainer is not None else 0
    metrics, parity = evaluate_potential(potential_dir, frames)
    plot = parity_plot(parity, out_dir / "parity.png")
    summary = TrainingSummary(
        device=describe_device(trainer.trainer.strategy.root_device)
        if trainer.trainer is not None
        else "cpu",
        potential_dir=str(potential_dir.resolve()),
        parity_plot=str(plot.resolve()),
        elements=list(elements),
        element_refs=[float(x) for x in np.asarray(refs).ravel()],
        epochs=epochs,
        best_epoch=best_epoch,
        metrics=metrics,
        val_loss=_loss(parity["val"], settings) if "val" in parity else None,
        settings=settings,
        init_from=None if init_from is None else str(init_from),
    )
    (out_dir / "training_summary.json").write_text(summary.model_dump_json(indent=1))
    return summary


def _predict(frames: list, calculator) -> dict[str, np.ndarray]:
    out: dict[str, list] = {
        k: [] for k in ("e_ref", "e_pred", "f_ref", "f_pred", "s_ref", "s_pred")
    }
    for atoms in frames:
        ref = atoms.calc.results
        probe = atoms.copy()
        probe.calc = calculator
        n = len(atoms)
        out["e_ref"].append(ref["energy"] / n)
        out["e_pred"].append(probe.get_potential_energy() / n)
        out["f_ref"].append(np.asarray(ref["forces"]).ravel())
        out["f_pred"].append(probe.get_forces().ravel())
        if "stress" in ref and calculator.compute_stress:
            out["s_ref"].append(np.asarray(ref["stress"]).ravel()[:6] * EV_PER_A3_IN_GPA)
            out["s_pred"].append(probe.get_stress(voigt=True) * EV_PER_A3_IN_GPA)
    return {
        k: (np.concatenate(v) if k[0] in "fs" and v else np.asarray(v, dtype=float))
        for k, v in out.items()
    }


def evaluate_potential(
    potential_dir: str | Path, frames: dict[str, list]
) -> tuple[dict[str, PotentialMetrics], dict[str, dict[str, np.ndarray]]]:
    """MAEs per split (meV/atom, meV/Å, GPa) and the predictions behind them."""
    calculator = ase_calculator(potential_dir)
    metrics, parity = {}, {}
    for name, split_frames in frames.items():
        if not split_frames:
            continue
        p = _predict(split_frames, calculator)
        parity[name] = p
        stress = float(np.abs(p["s_pred"] - p["s_ref"]).mean()) if len(p["s_ref"]) else None
        metrics[name] = PotentialMetrics(
            n_frames=len(split_frames),
            energy_mae_mev_atom=float(np.abs(p["e_pred"] - p["e_ref"]).mean() * 1000),
            force_mae_mev_a=float(np.abs(p["f_pred"] - p["f_ref"]).mean() * 1000),
            stress_mae_gpa=stress,
            energy_std_mev_atom=float(np.std(p["e_ref"]) * 1000),
        )
    return metrics, parity


def _loss(p: dict[str, np.ndarray], settings: M3GNetSettings) -> float:
    """The training loss (MSE_E per atom + MSE_F + 0.1 MSE_S, eV and GPa) of predictions."""
    loss = settings.energy_weight * np.mean((p["e_pred"] - p["e_ref"]) ** 2)
    loss += settings.force_weight * np.mean((p["f_pred"] - p["f_ref"]) ** 2)
    if len(p["s_ref"]):
        loss += settings.stress_weight * np.mean((p["s_pred"] - p["s_ref"]) ** 2)
    return float(loss)


def parity_plot(parity: dict[str, dict[str, np.ndarray]], path: Path) -> Path:
    """Predicted vs reference energies, forces and stresses per split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), constrained_layout=True)
    panels = (("e", "energy (eV/atom)"), ("f", "force (eV/Å)"), ("s", "stress (GPa)"))
    for ax, (key, label) in zip(axes, panels, strict=True):
        for name, p in parity.items():
            ref, pred = p[f"{key}_ref"], p[f"{key}_pred"]
            if len(ref):
                ax.scatter(ref, pred, s=6, alpha=0.6, label=name)
        lims = ax.get_xlim()
        ax.plot(lims, lims, color="grey", linewidth=0.8)
        ax.set(xlabel=f"reference {label}", ylabel=f"predicted {label}")
    axes[0].legend(frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
