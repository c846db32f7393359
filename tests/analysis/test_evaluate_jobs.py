import json
from pathlib import Path

import pytest
from jobflow import run_locally
from typer.testing import CliRunner

from cryin_flows.analysis.results import EvaluationSettings
from cryin_flows.cli import app
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.makers.evaluation import EvaluateMaker
from cryin_flows.schemas.evaluation import EvaluationDoc
from cryin_flows.settings import get_settings


def test_evaluate_maker_stores_a_queryable_document(
    template, interface_sets, shared_cache, tmp_path
):
    store = get_job_store(get_settings(project_dir=tmp_path / "proj"))
    maker = EvaluateMaker(
        settings=EvaluationSettings(n_resamples=30, workers=1),
        report_dir=str(tmp_path / "rep"),
        cache_dir=str(shared_cache),
    )
    job = maker.make(
        template, interface_sets["training"], {"generated": interface_sets["generated"]}
    )
    run_locally(job, store=store, log=False, ensure_success=True)
    doc = load_output(job.uuid, store)
    assert isinstance(doc, EvaluationDoc)
    assert doc.template_hash == template.template_hash
    assert (tmp_path / "rep" / "report.html").exists() and doc.report.endswith("report.html")
    store.connect()
    found = store.query_one({"output.reference": "training"}, properties=["uuid"])
    assert found["uuid"] == job.uuid


def test_cli_evaluate(interface_sets, shared_cache, tmp_path):
    train = interface_sets["training"].write_extxyz(tmp_path / "train.extxyz")
    gen = interface_sets["generated"].write_extxyz(tmp_path / "gen.extxyz")
    out = tmp_path / "report"
    gan_run = tmp_path / "gan"
    gan_run.mkdir()
    png = Path(__file__).parents[2] / "docs" / "images" / "report_example.png"
    (gan_run / "losses.png").write_bytes(png.read_bytes())
    args = [
        "evaluate",
        "--gan-run",
        str(gan_run),
        "--cache",
        str(shared_cache),
        "--reference",
        str(train),
        "--generated",
        str(gen),
        "--out",
        str(out),
        "--resamples",
        "30",
        "--workers",
        "1",
        "--generated-requested",
        "6",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["datasets"]["generated"]["failed_percent"] > 0
    assert (out / "report.html").exists() and (out / "rdf_Sc-O.png").exists()
    assert "fingerprint Euclidean / cosine distance to training" in result.output
    assert 'alt="GAN losses"' in (out / "report.html").read_text()


def test_cli_evaluate_refuses_another_template(interface_sets, tmp_path):
    train = interface_sets["training"].write_extxyz(tmp_path / "train.extxyz")
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--reference",
            str(train),
            "--generated",
            str(train),
            "--out",
            str(tmp_path / "r"),
            "--preset",
            "lsc-lco-paper-cell",
        ],
    )
    assert result.exit_code == 1 and "lattice vector" in result.output


def test_cli_evaluate_region_sites_follow_each_gap(template, tmp_path):
    """40 random interfaces, gaps across [4, 6] Å with both ends: 9 Li + 3 Sc each, no Co."""
    from cryin_flows.interfaces.random_fill import RandomFillSettings, RandomInterfaceGenerator

    parts = [
        RandomInterfaceGenerator(template, RandomFillSettings(thickness_range=rng)).generate(
            n, seed=40
        )
        for rng, n in (((4.0, 6.0), 38), ((4.0, 4.0), 1), ((6.0, 6.0), 1))
    ]
    structures = InterfaceSet.concatenate(parts)
    path = structures.write_extxyz(tmp_path / "forty.extxyz")
    out = tmp_path / "report"
    args = ["evaluate", "--reference", str(path), "--generated", str(path), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--resamples", "20", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "generated: 40 structures, sites Li 360, Sc 120, Co 0" in result.output
    summary = json.loads((out / "metrics.json").read_text())["datasets"]["generated"]
    assert summary["sites_per_element"] == {"Li": 360, "Sc": 120, "Co": 0}
    assert summary["region_gap"]["min"] == pytest.approx(4.0)
    assert summary["region_gap"]["max"] == pytest.approx(6.0)
