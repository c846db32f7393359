"""``cryin bench``: datasets and scores of the Dismai-Bench systems, end to end on files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.io import read, write
from typer.testing import CliRunner

from cryin_flows.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def alloy_sets(tmp_path_factory):
    out = tmp_path_factory.mktemp("alloy")
    result = invoke(
        "bench", "dataset", "alloy", "--out", out,
        "--set", "temperatures=[300]", "--set", "monte_carlo.n_chains=2",
        "--set", "monte_carlo.passes=400", "--set", "monte_carlo.anneal_passes=2000",
        "--set", "sets.size=40", "--set", "sets.burn_in_passes=100",
        "--set", "sets.narrow_width=0.2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_alloy_dataset_writes_sets_figures_and_a_summary(alloy_sets):
    doc = json.loads((alloy_sets / "dataset.json").read_text())
    assert set(doc["files"]) == {"300K_wide", "300K_narrow"}
    wide = read(doc["files"]["300K_wide"], index=":")
    assert len(wide) == 40 and len(wide[0]) == 256
    assert wide[0].get_chemical_formula() == "Cr51Fe154Ni51"
    # the published 300 K order: no Cr-Cr first neighbours
    assert doc["summary"]["300K_narrow"]["sro_mean"]["1NN_Cr-Cr"] == pytest.approx(1.0, abs=0.05)
    assert (alloy_sets / "sro_300K.png").stat().st_size > 10_000


def test_alloy_score_cleans_and_scores_a_generated_set(alloy_sets, tmp_path):
    training = alloy_sets / "alloy_300K_wide.extxyz"
    rng = np.random.default_rng(0)
    generated = []
    for atoms in read(alloy_sets / "alloy_300K_narrow.extxyz", index=":20"):
        atoms.positions += rng.normal(0, 0.15, atoms.positions.shape)
        generated.append(atoms)
    del generated[0][[0, 1, 2]]  # three atoms missing: a structure with vacancies
    write(tmp_path / "gen.extxyz", generated)
    result = invoke(
        "bench", "score", "alloy", "--training", training, "--generated", tmp_path / "gen.extxyz",
        "--out", tmp_path / "score", "--n-generated", 25, "--resamples", 200,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "score" / "score.json").read_text())["metrics"]
    assert metrics["rejected_percent"] == pytest.approx(20.0)
    assert metrics["vacancy_percent"]["value"] == pytest.approx(5.0)  # 1 of 20
    assert metrics["d_cluster"]["value"] < 0.05  # the same temperature's structures
    assert "d_cluster" in result.output


def test_bad_input_is_one_line_naming_the_file_or_setting(tmp_path):
    result = invoke(
        "bench", "score", "alloy", "--training", tmp_path / "missing.extxyz",
        "--generated", tmp_path / "missing.extxyz", "--out", tmp_path,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "training set" in result.output and "missing.extxyz does not exist" in result.output
    result = invoke("bench", "dataset", "alloy", "--out", tmp_path, "--set", "sets.sizes=3")
    assert result.exit_code == 1 and "sets.sizes: unknown setting" in result.output
    result = invoke("bench", "dataset", "crystal", "--out", tmp_path)
    assert result.exit_code == 1 and "unknown benchmark system 'crystal'" in result.output


def _si(seed: int, rattle: float):
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    atoms.rattle(rattle, seed=seed)
    atoms.wrap()
    return atoms


def test_silicon_score_from_files(tmp_path):
    write(tmp_path / "train.extxyz", [_si(k, 0.1) for k in range(3)])
    write(tmp_path / "gen.extxyz", [_si(10 + k, 0.4) for k in range(3)])
    result = invoke(
        "bench", "score", "a-si", "--training", tmp_path / "train.extxyz",
        "--generated", tmp_path / "gen.extxyz", "--out", tmp_path / "score",
        "--workers", 1, "--resamples", 100,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "score" / "score.json").read_text())
    assert doc["metrics"]["d_rdf"]["value"] > 0.1  # more disorder: a broader first peak
    assert (tmp_path / "score" / "rdf.png").exists()


def test_silicon_dataset_quenches_slices_and_relaxes(tmp_path):
    result = invoke(
        "bench", "dataset", "a-si", "--out", tmp_path,
        "--set", "melt_quench.repeats=3", "--set", "melt_quench.melt_ps=1",
        "--set", "melt_quench.quench_rate=1000", "--set", "melt_quench.anneal_ps=0.5",
        "--set", "blocks.n_atoms=64", "--set", "blocks.n_blocks=2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    blocks = read(tmp_path / "a_si_blocks.extxyz", index=":")
    assert [len(b) for b in blocks] == [64, 64]
    for block in blocks:
        assert block.info["converged"] and block.info["max_force"] < 0.05
        d = block.get_all_distances(mic=True)[np.triu_indices(64, 1)]
        assert d.min() > 2.0  # relaxed: no close contacts left from the added atoms


def test_bench_run_trains_generates_scores_and_prints_the_table(alloy_sets, tmp_path):
    tiny = [
        "epochs=1", "batch_size=4", "critic_channels=[32, 32, 16]", "head_sizes=[32, 16, 10]",
        "generator_channels=8", "generator_body=[16, 32, 16]",
    ]  # fmt: skip
    training = tmp_path / "train.extxyz"
    write(training, read(alloy_sets / "alloy_300K_narrow.extxyz", index=":6"))
    args = ["bench", "run", "alloy", "--training", training, "--seeds", "0,1", "--n", 3]
    args += ["--no-augment", "--project-dir", tmp_path / "project"]
    for pair in tiny:
        args += ["--gan", pair]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    table = (tmp_path / "project" / "bench" / "alloy_train" / "table.md").read_text()
    assert "| CryinGAN (here) | this run (2) |" in table
    assert "| CryinGAN | published (3) | 0.117 (0.106, 0.126)" in table
    result = invoke("bench", "run", "alloy", "--training", training, "--gan", "epoch=3")
    assert result.exit_code == 1 and "epoch: unknown setting" in result.output
