"""The amorphous-Si system: the melt-quenched stand-in set and the published a-Si scores."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from pydantic import Field

from cryin_flows.amorphous.silicon import (
    BlockSettings,
    MeltQuenchSettings,
    make_blocks,
    melt_quench,
    relax_block,
)
from cryin_flows.bench.common import (
    DatasetDoc,
    Progress,
    ScoreDoc,
    ScoreOptions,
    interval_text,
    read_frames,
)
from cryin_flows.utils import SerializableModel


class SiliconDatasetSettings(SerializableModel):
    """The a-Si stand-in: a melt-quenched cell and the blocks cut from it."""

    melt_quench: MeltQuenchSettings = Field(default_factory=MeltQuenchSettings)
    blocks: BlockSettings = Field(default_factory=BlockSettings)


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
    return doc.write(out_dir)


def score_silicon(
    training: Path,
    generated: Path,
    out_dir: Path,
    options: ScoreOptions | None = None,
    progress: Progress | None = None,
) -> ScoreDoc:
    """Score generated a-Si (relaxed first with the named SW potential when ``relax``)."""
    from cryin_flows.analysis.amorphous import silicon_features, silicon_metrics
    from cryin_flows.bench.plots import band_plot

    options = options or ScoreOptions()
    workers = options.workers
    frames = read_frames(generated, "generated set")
    steps = {"max_steps": options.relax_steps} if options.relax_steps else {}
    if options.relax is not None:
        for atoms in frames:
            relax_block(atoms, options.relax, BlockSettings(**steps))
    done = [0]

    def count(k: int) -> None:
        done[0] += k
        if progress is not None:
            progress(f"a-Si features: {done[0]} structures")

    train = silicon_features(read_frames(training, "training set"), workers, count, "training")
    gen = silicon_features(frames, workers, count, "generated")
    metrics = silicon_metrics(train, gen, options.n_generated, options.n_resamples)
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
    return doc.write(out_dir)


def silicon_rows(m: dict) -> dict[str, str]:
    """The a-Si score's lines worth printing."""
    return {
        "d_motif": interval_text(m["d_motif"]),
        "cosine distance, motifs": interval_text(m["cosine_motif"]),
        "d_rdf": interval_text(m["d_rdf"]),
        "d_angle": interval_text(m["d_angle"]),
        "failed (%)": f"{m['failed_percent']:.1f}",
    }
