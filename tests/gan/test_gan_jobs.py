import pytest
from jobflow import run_locally
from typer.testing import CliRunner

from cryin_flows.cli import app
from cryin_flows.errors import ConfigurationError
from cryin_flows.flows.gan import GanSweepMaker
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.makers.gan import GanGenerateMaker, GanTrainMaker
from cryin_flows.schemas.gan import GanGenerateDoc, GanTrainDoc
from cryin_flows.settings import get_settings

from .conftest import small_config


def test_sweep_covers_lambda_variant_seed():
    sweep = GanSweepMaker(variants=("cryingan", "comb"), seeds=(0, 1))
    configs = sweep.runs()
    assert len(configs) == 4 * 2 + 2
    assert {(c.bond_weight, c.seed) for c in configs if c.variant == "cryingan"} == {
        (w, s) for w in (0.0, 0.01, 0.05, 0.1) for s in (0, 1)
    }
    flow = sweep.make("train.extxyz")
    assert len(flow.jobs) == 2 * len(configs)


def test_train_and_generate_jobs_store_documents(tiny_dataset, tmp_path):
    store = get_job_store(get_settings(project_dir=tmp_path / "proj"))
    data = tiny_dataset.to_interface_set()
    sweep = GanSweepMaker(
        bond_weights=(0.0, 0.05),
        seeds=(0,),
        train=GanTrainMaker(config=small_config(epochs=2)),
        generate=GanGenerateMaker(n=6, threshold=0.5),
    )
    flow = sweep.make(data)
    run_locally(
        flow,
        store=store,
        create_folders=True,
        root_dir=tmp_path / "runs",
        log=False,
        ensure_success=True,
    )
    train = load_output(flow.jobs[2].uuid, store)
    generate = load_output(flow.jobs[3].uuid, store)
    assert isinstance(train, GanTrainDoc) and isinstance(generate, GanGenerateDoc)
    assert train.config.bond_weight == 0.05 and train.epochs == 2 and train.n_train == 24
    assert train.generator.sha256 == generate.model_hash
    assert set(train.final_losses) >= {"critic_loss", "generator_loss", "wasserstein"}
    # every epoch's log, from the data store
    assert train.losses["epoch"] == [1.0, 2.0]
    assert train.losses["wasserstein"][-1] == pytest.approx(train.final_losses["wasserstein"])
    assert generate.n_generated + generate.n_rejected == 6
    assert isinstance(generate.structures, InterfaceSet)
    store.connect()
    raw = store.docs_store.query_one({"uuid": flow.jobs[3].uuid})
    assert raw["output"]["structures"]["store"] == "data"
    raw = store.docs_store.query_one({"uuid": flow.jobs[2].uuid})
    assert raw["output"]["losses"]["store"] == "data"


def test_train_job_resumes_from_its_run_dir(tiny_dataset, tmp_path):
    store = get_job_store(get_settings(project_dir=tmp_path / "proj"))
    run_dir = str(tmp_path / "run")
    data = tiny_dataset.to_interface_set()
    first = GanTrainMaker(config=small_config(epochs=1), run_dir=run_dir).make(data)
    run_locally(first, store=store, log=False, ensure_success=True)
    second = GanTrainMaker(config=small_config(epochs=3), run_dir=run_dir).make(data)
    run_locally(second, store=store, log=False, ensure_success=True)
    doc = load_output(second.uuid, store)
    assert doc.resumed_from_epoch == 1 and doc.epochs == 3


def test_cli_train_resume_generate(tiny_dataset, tmp_path):
    runner = CliRunner()
    data = tiny_dataset.to_interface_set().write_extxyz(tmp_path / "train.extxyz")
    run = tmp_path / "run"
    args = [
        "gan",
        "train",
        str(data),
        "--out",
        str(run),
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--device",
        "cpu",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "--resume" in again.output
    resumed = runner.invoke(app, [*args[:5], "--epochs", "2", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "from epoch 1" in resumed.output
    out = tmp_path / "gen.extxyz"
    gen = runner.invoke(
        app, ["gan", "generate", str(run), "--n", "5", "--out", str(out), "--threshold", "0.5"]
    )
    assert gen.exit_code == 0, gen.output
    assert len(InterfaceSet.read_extxyz(out)) >= 1


@pytest.mark.parametrize("bad", ["missing.extxyz"])
def test_cli_train_reports_bad_data(tmp_path, bad):
    result = CliRunner().invoke(app, ["gan", "train", str(tmp_path / bad), "--out", str(tmp_path)])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_empty_training_set_fails_with_advice(template):
    empty = InterfaceSet(template.lattice, template.species, [], [], template.template_hash)
    maker = GanTrainMaker(config=small_config())
    with pytest.raises(ConfigurationError, match=r"GAN training set is empty.*relax longer"):
        GanTrainMaker.make.original(maker, empty)
