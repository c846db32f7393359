"""The alloy system: CE Monte Carlo datasets and the published alloy scores."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from pydantic import Field

from cryin_flows.alloys.dataset import AlloySetSettings, select_sets, set_atoms
from cryin_flows.alloys.expansion import cluster_counts, warren_cowley
from cryin_flows.alloys.lattice import FCCLattice
from cryin_flows.alloys.montecarlo import MonteCarloSettings, run_monte_carlo
from cryin_flows.bench.common import (
    DatasetDoc,
    Progress,
    ScoreDoc,
    ScoreOptions,
    interval_text,
    read_frames,
)
from cryin_flows.utils import SerializableModel


class AlloyDatasetSettings(SerializableModel):
    """The alloy datasets of the paper: per temperature, a Monte Carlo run and two sets."""

    temperatures: list[float] = Field([300.0, 1500.0], description="K (paper: 300 and 1500)")
    monte_carlo: MonteCarloSettings = Field(
        default_factory=MonteCarloSettings, description="Chains (its temperature is replaced)"
    )
    sets: AlloySetSettings = Field(default_factory=AlloySetSettings, description="Selection")


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
    return doc.write(out_dir)


def score_alloy(
    training: Path,
    generated: Path,
    out_dir: Path,
    options: ScoreOptions | None = None,
    progress: Progress | None = None,
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

    options = options or ScoreOptions()
    lattice = FCCLattice()
    train = training_metrics(read_frames(training, "training set"), lattice)
    snapped = [
        snap_to_lattice(AseAtomsAdaptor.get_structure(a), lattice, translate=options.translate)
        for a in read_frames(generated, "generated set")
    ]
    occupations = np.stack([o for o, _ in snapped])
    gen = structure_metrics(occupations, np.array([v for _, v in snapped]), lattice)
    metrics = alloy_metrics(train, gen, options.n_generated, options.n_resamples)
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
    return doc.write(out_dir)


def alloy_rows(m: dict) -> dict[str, str]:
    """The alloy score's lines worth printing."""
    return {
        "d_cluster": interval_text(m["d_cluster"]),
        "structures with vacancies (%)": interval_text(m["vacancy_percent"], digits=3),
        "rejected (%)": f"{m['rejected_percent']:.1f}",
        "CE energy, generated / training (eV/atom)": (
            f"{m['energy_mean']:.4f} / {m['energy_mean_training']:.4f}"
        ),
    }
