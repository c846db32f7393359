"""The Dismai-Bench flow on a tiny alloy set: seeds -> train -> generate -> score -> table."""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import write
from jobflow import run_locally

from cryin_flows.alloys.dataset import alloy_atoms, translated_copies
from cryin_flows.alloys.lattice import FCCLattice
from cryin_flows.bench.common import ScoreOptions
from cryin_flows.bench.tables import PUBLISHED
from cryin_flows.flows.bench import BenchmarkFlowMaker
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.makers.bench import BenchScoreMaker
from cryin_flows.makers.gan import GanGenerateMaker, GanTrainMaker
from tests.gan.conftest import small_config


def test_translations_are_the_63_whole_cell_shifts():
    lattice = FCCLattice()
    rng = np.random.default_rng(0)
    occupation = rng.permutation(np.repeat(np.arange(3, dtype=np.int8), [51, 154, 51]))
    copies = translated_copies([alloy_atoms(occupation, lattice)], lattice)
    assert len(copies) == 64 and len({tuple(c.info["translation"]) for c in copies}) == 64
    first = copies[0].get_chemical_symbols()
    for copy in copies:
        assert copy.get_chemical_symbols() == first  # the atom order the GAN needs
        # every atom still on a lattice site: the shifts are lattice translations
        lattice.site_index(copy.positions)


@pytest.fixture
def tiny_alloy_set(tmp_path):
    lattice, rng = FCCLattice(), np.random.default_rng(1)
    frames = [
        alloy_atoms(rng.permutation(np.repeat(np.arange(3, dtype=np.int8), [51, 154, 51])), lattice)
        for _ in range(4)
    ]
    path = tmp_path / "train.extxyz"
    write(path, frames)
    return str(path)


def test_benchmark_flow_gives_one_table_over_seeds(tiny_alloy_set, tmp_path):
    maker = BenchmarkFlowMaker(
        system="alloy",
        dataset="alloy 300K narrow",
        seeds=(0, 1),
        augment=False,
        train=GanTrainMaker(config=small_config(bond_weight=0.1, epochs=1, batch_size=4)),
        generate=GanGenerateMaker(n=3),
        score=BenchScoreMaker(options=ScoreOptions(n_resamples=50)),
    )
    flow = maker.make(tiny_alloy_set)
    store = get_job_store()
    run_locally(flow, store=store, ensure_success=True, root_dir=tmp_path)
    table = load_output(flow.jobs[-1].uuid, store)
    ours, *published = table.rows
    assert ours.source == "this run" and ours.runs == 2
    assert {"d_cluster", "vacancy_percent", "rejected_percent"} <= set(ours.metrics)
    d = ours.metrics["d_cluster"]
    assert d.min <= d.mean <= d.max and d.mean > 0.05  # one epoch: far from the training set
    assert [r.model for r in published] == list(PUBLISHED["alloy 300K narrow"])
    assert "| CryinGAN | published (3) | 0.117 (0.106, 0.126)" in table.markdown
    assert len(table.scores) == 2
