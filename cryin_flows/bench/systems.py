"""The benchmark systems: what each names, builds and scores.

A system has a name, a description of its structures, a dataset builder (settings -> files),
a scorer (training file, generated file, ``ScoreOptions`` -> metrics document and figures),
the lines a person reads of a score, and the published table its runs sit beside.
``SYSTEMS`` holds them: the alloys, amorphous Si and the interface, whose dataset is a study's
training set (built by ``cryin run``/``cryin demo``, exported from the store by
``launchpad.exports``) and whose scorer is the study's evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryin_flows.bench.alloy import (
    AlloyDatasetSettings,
    alloy_rows,
    build_alloy_dataset,
    score_alloy,
)
from cryin_flows.bench.common import DatasetDoc, ScoreDoc
from cryin_flows.bench.interface import InterfaceDatasetSettings, interface_rows, score_interface
from cryin_flows.bench.silicon import (
    SiliconDatasetSettings,
    build_silicon_dataset,
    score_silicon,
    silicon_rows,
)
from cryin_flows.errors import ConfigurationError
from cryin_flows.utils import SerializableModel


@dataclass(frozen=True)
class BenchmarkSystem:
    """A benchmark system: its structures, how its data is built and scored, and its table.

    ``build(out_dir, settings, progress)`` writes the dataset (None: the study builds it);
    ``score(training, generated, out_dir, options, progress)`` scores one generated set;
    ``rows(metrics)`` gives the lines a person reads; ``table`` names the published rows its
    runs sit beside by default; ``bond_weight``, ``augment`` and ``relax`` are the benchmark
    flow's defaults (CryinGAN's λ: 0.1 for alloys, paper 001 §4.2, and the interface study's
    0.05; its alloy translations; the relaxation before scoring).
    """

    name: str
    description: str
    dataset_settings: type[SerializableModel]
    build: Callable[..., DatasetDoc] | None
    score: Callable[..., ScoreDoc]
    rows: Callable[[dict], dict[str, str]]
    table: str
    bond_weight: float = 0.1
    augment: bool = False
    relax: str | None = None


SYSTEMS: dict[str, BenchmarkSystem] = {
    system.name: system
    for system in (
        BenchmarkSystem(
            "interface",
            "Li3ScCl6(100)|LiCoO2(110) (or another oxide|halide pair) with a disordered "
            "region; its dataset is a study's GAN training set",
            InterfaceDatasetSettings,
            None,  # the study builds it: launchpad.exports.export_interface_dataset
            score_interface,
            interface_rows,
            table="interface",
            bond_weight=0.05,
        ),
        BenchmarkSystem(
            "alloy",
            "Fe60Ni20Cr20, 4x4x4 FCC (256 atoms), CE Monte Carlo at 300/1500 K, wide/narrow SRO",
            AlloyDatasetSettings,
            build_alloy_dataset,
            score_alloy,
            alloy_rows,
            table="alloy 300K narrow",
            augment=True,
        ),
        BenchmarkSystem(
            "a-si",
            "amorphous Si, 256-atom blocks of a melt-quenched cell (Stillinger-Weber stand-in "
            "for the paper's SOAP-GAP set)",
            SiliconDatasetSettings,
            build_silicon_dataset,
            score_silicon,
            silicon_rows,
            table="a-si",
            relax="vink",
        ),
    )
}


def get_system(name: str) -> BenchmarkSystem:
    """The system called ``name``; a clear error naming the known ones otherwise."""
    if name not in SYSTEMS:
        raise ConfigurationError(f"unknown benchmark system {name!r}; known: {', '.join(SYSTEMS)}")
    return SYSTEMS[name]
