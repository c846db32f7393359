"""The benchmark systems: what each names, builds and scores.

A system has a name, a description of its structures, a dataset builder (settings -> files)
and a scorer (training file, generated file -> metrics document and figures). ``SYSTEMS``
holds them; the LSC|LCO interface is the study itself (``cryin run``/``cryin evaluate``), so
it is listed for completeness and scored by ``cryin evaluate``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from cryin_flows.alloys.dataset import AlloySetSettings, select_sets, set_atoms
from cryin_flows.alloys.expansion import cluster_counts, warren_cowley
from cryin_flows.alloys.lattice import FCCLattice
from cryin_flows.alloys.montecarlo import MonteCarloSettings, run_monte_carlo
from cryin_flows.amorphous.silicon import (
    BlockSettings,
    MeltQuenchSettings,
    make_blocks,
    melt_quench,
    relax_block,
)
from cryin_flows.errors import ConfigurationError
from cryin_flows.utils import SerializableModel

Progress = Callable[[str], None]


def read_frames(path: str | Path, what: str) -> list:
    """Frames of an extxyz file; a clear error naming the file otherwise."""
    from ase.io import read

    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(f"{what} {path} does not exist")
    try:
        frames = read(path, index=":", format="extxyz")
    except Exception as exc:  # any reader error: name the file
        raise ConfigurationError(f"{what} {path}: not an extxyz file ASE reads ({exc})") from None
    if not frames:
        raise ConfigurationError(f"{what} {path} holds no structure")
    return frames


class AlloyDatasetSettings(SerializableModel):
    """The alloy datasets of the paper: per temperature, a Monte Carlo run and two sets."""

    temperatures: list[float] = Field([300.0, 1500.0], description="K (paper: 300 and 1500)")
    monte_carlo: MonteCarloSettings = Field(
        default_factory=MonteCarloSettings, description="Chains (its temperature is replaced)"
    )
    sets: AlloySetSettings = Field(default_factory=AlloySetSettings, description="Selection")


class SiliconDatasetSettings(SerializableModel):
    """The a-Si stand-in: a melt-quenched cell and the blocks cut from it."""

    melt_quench: MeltQuenchSettings = Field(default_factory=MeltQuenchSettings)
    blocks: BlockSettings = Field(default_factory=BlockSettings)


class DatasetDoc(BaseModel):
    """What a dataset build wrote."""

    system: str = Field(description="Benchmark system")
    files: dict[str, str] = Field(description="Set name -> extxyz file")
    figures: dict[str, str] = Field(default_factory=dict, description="Figure name -> PNG")
    summary: dict = Field(default_factory=dict, description="Numbers worth a glance")
    settings: dict = Field(description="The settings used")
    seconds: float = Field(description="Wall time")


def build_alloy_dataset(
    out_dir: Path, settings: AlloyDatasetSettings | None = None, progress: Progress | None = None
) -> DatasetDoc:
    """Monte Carlo at each temperature; its wide and narrow sets as extxyz and SRO figures."""
    from ase.io import write

    from cryin_flows.bench.plots import energy_histograms, sro_violins

    settings = settings or AlloyDatasetSettings()
    out_dir.mkdir(parents=True, exist_ok=True)
    lattice, files, figures, summary, energies = FCCLattice(), {}, {}, {}, {}
    start = time.perf_counter()
    for temperature in settings.temperatures:
        mc = settings.monte_carlo.model_copy(update={"temperature": temperature})
        label = f"{temperature:g}K"

        def report(done: int, total: int, label: str = label) -> None:
            if progress is not None:
                progress(f"alloy {label}: {done}/{total} passes")

        result = run_monte_carlo(mc, lattice, progress=report)
        sets = select_sets(result, settings.sets, lattice)
        sro_by_set = {}
        for name, chosen in sets.items():
            path = out_dir / f"alloy_{label}_{name}.extxyz"
            write(path, set_atoms(result, chosen, lattice), format="extxyz")
            files[f"{label}_{name}"] = str(path)
            occupations = result.occupations[chosen.chain, chosen.snapshot]
            sro = warren_cowley(cluster_counts(occupations, lattice))
            sro_by_set[name] = sro
            energies[f"{label} {name}"] = np.array(chosen.energy)
            summary[f"{label}_{name}"] = {
                "pool": chosen.pool,
                "energy_mean": float(np.mean(chosen.energy)),
                "sro_mean": {k: round(float(v.mean()), 4) for k, v in sro.items()},
            }
        summary[f"{label}_acceptance"] = result.acceptance
        figures[f"sro_{label}"] = str(
            sro_violins(sro_by_set, out_dir / f"sro_{label}.png", title=label)
        )
    figures["energy"] = str(
        energy_histograms(energies, out_dir / "energy.png", "CE formation energy (eV/atom)")
    )
    doc = DatasetDoc(
        system="alloy",
        files=files,
        figures=figures,
        summary=summary,
        settings=settings.model_dump(mode="json"),
        seconds=time.perf_counter() - start,
    )
    (out_dir / "dataset.json").write_text(doc.model_dump_json(indent=1))
    return doc


def build_silicon_dataset(
    out_dir: Path, settings: SiliconDatasetSettings | None = None, progress: Progress | None = None
) -> DatasetDoc:
    """Melt-quench, then blocks; the cell and the blocks as extxyz."""
    from ase.io import write

    settings = settings or SiliconDatasetSettings()
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    cell_path = out_dir / "a_si_cell.extxyz"
    if cell_path.exists():  # a rerun keeps the quench (the long part)
        cell = read_frames(cell_path, "quenched cell")[0]
    else:
        cell = melt_quench(settings.melt_quench, progress)
        write(cell_path, cell, format="extxyz")
    done = [0]

    def count(k: int) -> None:
        done[0] += k
        if progress is not None and (done[0] % 10 == 0 or done[0] == settings.blocks.n_blocks):
            progress(f"a-Si blocks: {done[0]}/{settings.blocks.n_blocks} relaxed")

    blocks = make_blocks(cell, settings.melt_quench.potential, settings.blocks, count)
    path = out_dir / "a_si_blocks.extxyz"
    write(path, blocks, format="extxyz")
    energy = np.array([b.info["energy_per_atom"] for b in blocks])
    doc = DatasetDoc(
        system="a-si",
        files={"cell": str(cell_path), "blocks": str(path)},
        summary={
            "cell_atoms": len(cell),
            "cell_energy_per_atom": float(cell.info.get("energy_per_atom", np.nan)),
            "density_g_cm3": float(len(cell) * 28.0855 / cell.get_volume() / 0.602214076),
            "block_energy_mean": float(energy.mean()),
            "converged": int(sum(bool(b.info["converged"]) for b in blocks)),
        },
        settings=settings.model_dump(mode="json"),
        seconds=time.perf_counter() - start,
    )
    (out_dir / "dataset.json").write_text(doc.model_dump_json(indent=1))
    return doc


class ScoreDoc(BaseModel):
    """A generated set scored against a training set."""

    system: str = Field(description="Benchmark system")
    training: str = Field(description="Training extxyz")
    generated: str = Field(description="Generated extxyz")
    metrics: dict = Field(description="The system's metrics document")
    figures: dict[str, str] = Field(default_factory=dict, description="Figure name -> PNG")


def score_alloy(
    training: Path,
    generated: Path,
    out_dir: Path,
    n_generated: int | None = None,
    translate: bool = False,
    n_resamples: int = 1000,
) -> ScoreDoc:
    """Clean the generated structures onto the lattice and score them (``analysis.alloy``)."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from cryin_flows.analysis.alloy import (
        alloy_metrics,
        snap_to_lattice,
        structure_metrics,
        training_metrics,
    )
    from cryin_flows.bench.plots import energy_histograms, sro_violins

    lattice = FCCLattice()
    train = training_metrics(read_frames(training, "training set"), lattice)
    snapped = [
        snap_to_lattice(AseAtomsAdaptor.get_structure(a), lattice, translate=translate)
        for a in read_frames(generated, "generated set")
    ]
    occupations = np.stack([o for o, _ in snapped])
    gen = structure_metrics(occupations, np.array([v for _, v in snapped]), lattice)
    metrics = alloy_metrics(train, gen, n_generated, n_resamples)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {
        "sro": str(sro_violins({"training": train.sro, "generated": gen.sro}, out_dir / "sro.png")),
        "energy": str(
            energy_histograms(
                {"training": train.energy, "generated": gen.energy},
                out_dir / "energy.png",
                "CE formation energy (eV/atom)",
            )
        ),
    }
    doc = ScoreDoc(
        system="alloy",
        training=str(training),
        generated=str(generated),
        metrics=metrics.model_dump(mode="json"),
        figures=figures,
    )
    (out_dir / "score.json").write_text(doc.model_dump_json(indent=1))
    return doc


def score_silicon(
    training: Path,
    generated: Path,
    out_dir: Path,
    n_generated: int | None = None,
    relax: str | None = None,
    workers: int | None = None,
    n_resamples: int = 1000,
    progress: Progress | None = None,
) -> ScoreDoc:
    """Score generated a-Si (relaxed first with the named SW potential when ``relax``)."""
    from cryin_flows.analysis.amorphous import silicon_features, silicon_metrics
    from cryin_flows.bench.plots import band_plot

    frames = read_frames(generated, "generated set")
    if relax is not None:
        for atoms in frames:
            relax_block(atoms, relax, BlockSettings())
    done = [0]

    def count(k: int) -> None:
        done[0] += k
        if progress is not None:
            progress(f"a-Si features: {done[0]} structures")

    train = silicon_features(read_frames(training, "training set"), workers, count, "training")
    gen = silicon_features(frames, workers, count, "generated")
    metrics = silicon_metrics(train, gen, n_generated, n_resamples)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {
        "rdf": str(band_plot(metrics.rdf, out_dir / "rdf.png", "r (Å)", "g(r)")),
        "angles": str(
            band_plot(metrics.angles, out_dir / "angles.png", "bond angle (°)", "share", (40, 180))
        ),
    }
    doc = ScoreDoc(
        system="a-si",
        training=str(training),
        generated=str(generated),
        metrics=metrics.model_dump(mode="json", exclude={"rdf", "angles"}),
        figures=figures,
    )
    (out_dir / "score.json").write_text(doc.model_dump_json(indent=1))
    return doc


@dataclass(frozen=True)
class BenchmarkSystem:
    """A benchmark system: its structures, and how its data is built and scored."""

    name: str
    description: str
    dataset_settings: type[SerializableModel] | None
    build: Callable[..., DatasetDoc] | None
    score: Callable[..., ScoreDoc] | None


SYSTEMS: dict[str, BenchmarkSystem] = {
    system.name: system
    for system in (
        BenchmarkSystem(
            "interface",
            "Li3ScCl6(100)|LiCoO2(110) with a disordered region (the study: cryin run, "
            "cryin evaluate)",
            None,
            None,
            None,
        ),
        BenchmarkSystem(
            "alloy",
            "Fe60Ni20Cr20, 4x4x4 FCC (256 atoms), CE Monte Carlo at 300/1500 K, wide/narrow SRO",
            AlloyDatasetSettings,
            build_alloy_dataset,
            score_alloy,
        ),
        BenchmarkSystem(
            "a-si",
            "amorphous Si, 256-atom blocks of a melt-quenched cell (Stillinger-Weber stand-in "
            "for the paper's SOAP-GAP set)",
            SiliconDatasetSettings,
            build_silicon_dataset,
            score_silicon,
        ),
    )
}


def get_system(name: str) -> BenchmarkSystem:
    """The system called ``name``; a clear error naming the known ones otherwise."""
    if name not in SYSTEMS:
        raise ConfigurationError(f"unknown benchmark system {name!r}; known: {', '.join(SYSTEMS)}")
    return SYSTEMS[name]
