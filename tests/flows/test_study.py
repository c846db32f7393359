import inspect
import json

import pytest
from typer.testing import CliRunner

from cryin_flows.cli import app
from cryin_flows.errors import ConfigurationError
from cryin_flows.flows.presets import load_study
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.launchpad.local import load_flow
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.schemas.evaluation import EvaluationDoc
from cryin_flows.settings import get_settings

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_paper_preset_has_the_papers_numbers():
    paper = load_study("paper")
    dataset, potential = paper.dataset, paper.potential
    assert (dataset.n_label, dataset.n_label_exchanged) == (350, 600)
    assert dataset.label.calculator == "vasp" and dataset.frames.fractions == (0.8, 0.1, 0.1)
    assert potential.learning_rates == (1e-3, 5e-4) and potential.batch_sizes == (2, 4, 6)
    assert potential.train.settings.stress_weight == 0.1
    training = paper.training_set
    assert training.n_random == 3200 and training.energy.training_set_size == 1500
    assert training.relax.settings.fmax == 0.05 and training.relax.settings.max_steps == 1000
    sweep = paper.gan_sweep
    assert sweep.train.config.epochs == 100_000 and sweep.bond_weights == (0.0, 0.01, 0.05, 0.1)
    assert sweep.seeds == (0, 1, 2) and sweep.generate.n == 1000
    assert sweep.relax.settings == training.relax.settings
    assert paper.evaluation.settings.n_resamples == 1000


def test_yaml_then_overrides_win(tmp_path):
    config = tmp_path / "study.yaml"
    config.write_text("training_set: {n_random: 40}\ngan_sweep: {train: {config: {epochs: 7}}}\n")
    study = load_study(
        "demo", config, ["gan_sweep.train.config.epochs=9", "gan_sweep.bond_weights=[0.1]"]
    )
    assert study.training_set.n_random == 40 and study.gan_sweep.bond_weights == (0.1,)
    assert study.gan_sweep.train.config.epochs == 9
    # untouched nested values keep the preset's
    assert study.gan_sweep.train.config.batch_size == 4
    assert study.dataset.label.calculator == "chgnet"


def test_bad_study_settings_name_the_field(tmp_path):
    with pytest.raises(ConfigurationError, match=r"'training_set\.n_randm'; TrainingSetFlowMaker"):
        load_study("demo", overrides=["training_set.n_randm=3"])
    with pytest.raises(ConfigurationError, match=r"training_set\.relax\.settings\.fmax: Input"):
        load_study("demo", overrides=["training_set.relax.settings.fmax=-1"])
    with pytest.raises(ConfigurationError, match=r"gan_sweep\.seeds\.1: Input should be"):
        load_study("demo", overrides=["gan_sweep.seeds=[0, a]"])
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_study("demo", overrides=["gan_sweep.bond_weights=[0.1"])
    with pytest.raises(ConfigurationError, match="use key=value"):
        load_study("demo", overrides=["gan_sweep.train.config.epochs"])
    with pytest.raises(ConfigurationError, match="unknown preset"):
        load_study("large")
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_study("demo", tmp_path / "missing.yaml")
    old = tmp_path / "old.yaml"
    old.write_text("n_random: 40\n")  # a flat file of the old shape
    with pytest.raises(ConfigurationError, match=f"unknown setting 'n_random'.*then {old}"):
        load_study("demo", old)


def set_default(monkeypatch, cls, name: str, value) -> None:
    """As if the dataclass field ``name`` of ``cls`` were written with another default."""
    params = list(inspect.signature(cls.__init__).parameters)[1:]
    defaults = list(cls.__init__.__defaults__)
    defaults[params.index(name) - (len(params) - len(defaults))] = value
    monkeypatch.setattr(cls.__init__, "__defaults__", tuple(defaults))


def test_a_stage_default_changed_in_one_place_reaches_the_study(monkeypatch):
    """The study restates no stage setting: change a maker's default, the flow follows."""
    from cryin_flows.makers.gan import GanGenerateMaker
    from cryin_flows.makers.potentials import InterfaceEnergyMaker

    def energies(flow):
        return {job.name: job.maker for job, _ in flow.iterflow() if "energy" in job.name}

    assert (
        energies(load_study("paper").make())["interface energy (random)"].training_set_size == 1500
    )
    set_default(monkeypatch, InterfaceEnergyMaker, "training_set_size", 321)
    set_default(monkeypatch, GanGenerateMaker, "n", 77)
    flow = load_study("paper").make()
    assert energies(flow)["interface energy (random)"].training_set_size == 321
    evaluate = next(job for job, _ in flow.iterflow() if job.name == "evaluate")
    assert set(evaluate.function_kwargs["requested"].values()) == {77}
    generate = next(job for job, _ in flow.iterflow() if job.name.startswith("gan generate"))
    assert generate.maker.n == 77


def test_paper_flow_shape_and_categories():
    flow = load_study("paper").make()
    jobs = [job for job, _ in flow.iterflow()]
    names = [job.name for job in jobs]
    category = {job.name: job.config.manager_config.get("_category") for job in jobs}
    # 3,200 random interfaces relaxed in chunks of 500
    assert sum(name.startswith("relax random") for name in names) == 7
    # 4 λ x 3 seeds, each trained, sampled, relaxed and scored
    for stem in ("gan train", "gan generate", "relax generated", "interface energy cryingan"):
        assert sum(name.startswith(stem) for name in names) == 12
    assert sum(name.startswith("potential lr=") for name in names) == 6
    assert category["dft_labels"] == "cpu" and category["evaluate"] == "cpu"
    assert category["potential lr=0.001 batch=4"] == "gpu"
    assert category["relax random 0-499"] == "gpu"
    assert category["gan train cryingan λ=0.05 seed=1"] == "gpu"
    assert set(flow.output) == {
        "template",
        "frames",
        "potential",
        "training_set",
        "gan_runs",
        "stability",
        "evaluation",
    }
    assert category["phase energies"] == "gpu" and category["stability"] == "cpu"


def test_refine_rounds_chain_the_potentials():
    """Each active-learning round relaxes with the last round's potential and fine-tunes it;
    the training set and the GAN stage use the last one."""
    from cryin_flows.flows.refine import RefineFlowMaker

    study = load_study("demo", overrides=["refine.rounds=2"])
    stages = study.stages()
    assert list(stages) == [
        "dataset",
        "potential",
        "refine",
        "training set",
        "gan",
        "stability",
        "transport",
        "evaluation",
    ]
    # the transport stage's MD runs with the last potential too
    md = next(job for job, _ in stages["transport"].iterflow() if job.name == "md training")
    jobs = {job.name: job for job, _ in stages["refine"].iterflow()}
    best = stages["potential"].output.uuid
    assert jobs["relax (refine 1)"].function_args[1].uuid == best
    assert jobs["potential (refine 1)"].function_kwargs["init_from"].uuid == best
    tuned = jobs["potential (refine 1)"].uuid
    assert jobs["relax (refine 2)"].function_args[1].uuid == tuned
    assert jobs["potential (refine 2)"].function_kwargs["init_from"].uuid == tuned
    assert jobs["frames (refine 2)"].function_kwargs["base"].uuid == jobs["frames (refine 1)"].uuid
    last = jobs["potential (refine 2)"].uuid
    training = [job for job, _ in stages["training set"].iterflow()]
    relax = next(job for job in training if job.name.startswith("relax"))
    assert relax.function_args[1].uuid == last and md.function_args[1].uuid == last
    category = {name: job.config.manager_config.get("_category") for name, job in jobs.items()}
    assert category["potential (refine 2)"] == category["relax (refine 1)"] == "gpu"
    assert category["label (refine 1)"] == "cpu"
    with pytest.raises(ConfigurationError, match=r"rounds \(0\) and n \(12\) must be >= 1"):
        RefineFlowMaker().make(None, None, None)
    assert "refine" not in load_study("paper").stages()


@pytest.mark.slow  # the whole study
def test_tiny_study_end_to_end(tiny_study):
    project, output = tiny_study
    assert "jobs run / skipped" in output and "potential test MAE" in output
    # the Python the command prints loads the documents
    namespace: dict = {}
    exec(output.split("Read the documents back in Python:")[1], namespace)
    assert isinstance(namespace["evaluation"], EvaluationDoc)
    assert namespace["training_set"].n_training_set == 6
    flow = load_flow(project / "studies" / "demo" / "flow.json")
    store = get_job_store(get_settings(project_dir=project))
    evaluation = load_output(flow.output["evaluation"].uuid, store)
    assert isinstance(evaluation, EvaluationDoc)
    # one round of active learning: the study goes on with the fine-tuned potential
    first = load_output(flow.output["initial_potential"].uuid, store)
    potential = load_output(flow.output["potential"].uuid, store)
    assert (first.fine_tunes, potential.fine_tunes) == (0, 1)
    assert potential.init_from == first.potential_dir
    frames = load_output(flow.output["frames"].uuid, store)
    assert frames.base_counts is not None and frames.counts["test"] == frames.base_counts["test"]
    assert frames.counts["train"] > frames.base_counts["train"]
    refined = [r for r in frames.relaxations["train"] if r.startswith("3-")]
    assert sorted(refined) == ["3-0", "3-1"]  # refine.seed 3, n 2
    relaxations = [
        load_output(job.uuid, store) for job, _ in flow.iterflow() if job.name == "relax random 0-3"
    ]
    assert relaxations[0].potential_dir == potential.potential_dir
    # the closing table says so, and gives the test error before it
    from cryin_flows.cli.study import summary_rows
    from cryin_flows.flows.run import StudyResult

    uuids = {name: ref.uuid for name, ref in flow.output.items() if name != "gan_runs"}
    result = StudyResult("embedded", project, uuids, {"ran": 0, "skipped": 0}, 0.0)
    rows = {row[0]: row[1:] for row in summary_rows(result, store)}
    assert rows["potential"][0].endswith(
        "fine-tuned in 1 round of active learning (epochs in the last round: 1)"
    )
    assert (
        rows["potential test MAE before active learning"][0] == first.metrics["test"].errors_text()
    )
    assert set(evaluation.datasets) == {"training", "random", "cryingan λ=0.05 seed=0"}
    report = (project / "studies" / "demo" / "report" / "report.html").read_text()
    # the stability stage: the two bulks' windows and their mixing, in the table and report
    stability = load_output(flow.output["stability"].uuid, store)
    assert [w.formula for w in stability.windows] == ["Li3ScCl6", "LiCoO2"]
    assert stability.mixings[0].reactants == ("Li3ScCl6", "LiCoO2")
    assert "Stability of the two bulks" in report and "Li3ScCl6 | LiCoO2" in report
    assert "mixing Li3ScCl6 | LiCoO2" in rows and "LiCoO2: E_hull, window vs Li/Li⁺" in rows
    training = load_output(flow.output["training_set"].uuid, store)
    assert len(training.training_set) == 6 == training.n_training_set
    gammas = [info["interface_energy"] for info in training.training_set.infos]
    assert gammas == sorted(gammas) and max(gammas) <= 0
    # the generated set's γ̃ uses the training set's e_ref
    run = load_output(flow.output["gan_runs"][0]["energy"].uuid, store)
    assert run.e_ref == pytest.approx(training.e_ref)
    # the demo's reference check re-scored the first relaxed random structures by CHGNet
    check = namespace["reference_check"]
    assert check.calculator == "chgnet" and check.indices == list(range(8))
    assert check.potential_energy == pytest.approx(
        [training.structures.infos[i]["energy"] / 264 for i in range(8)]
    )


@pytest.mark.slow  # the whole study
def test_query_commands_read_the_study(tiny_study, tmp_path):
    project, _ = tiny_study
    result = invoke("query", "potentials", "--project-dir", project, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    # the sweep's one training job, the same document again as the sweep's pick, and the
    # potential fine-tuned by the one round of active learning
    names = {r["name"]: r for r in rows}
    assert sorted(names) == [
        "best potential (lowest validation loss)",
        "potential (refine 1)",
        "potential lr=0.002 batch=4",
    ]
    best = names["best potential (lowest validation loss)"]
    assert best["settings.batch_size"] == 4 and best["metrics.test.force_mae_mev_a"] > 0
    assert best["fine_tunes"] == 0 and names["potential (refine 1)"]["fine_tunes"] == 1
    result = invoke(
        "query", "gan-runs", "--filter", "bond_weight=0.05", "--project-dir", project, "--json"
    )
    assert result.exit_code == 0, result.output
    assert [(r["variant"], r["bond_weight"]) for r in json.loads(result.stdout)] == [
        ("cryingan", 0.05)
    ]
    result = invoke("query", "gan-runs", "--project-dir", project)  # the table
    assert result.exit_code == 0 and "gan-runs (1)" in result.output
    result = invoke("query", "gan-runs", "--filter", "bond_weight=0.1", "--project-dir", project)
    assert result.exit_code == 0 and "no gan-runs found" in result.output
    out = tmp_path / "low.extxyz"
    result = invoke(
        "query", "energies", "--max-energy", 0, "--out", out, "--project-dir", project, "--json"
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    low = InterfaceSet.read_extxyz(out)
    assert len(low) == len(rows) > 0
    assert all(info["interface_energy"] <= 0 for info in low.infos)
    assert [r["interface_energy"] for r in rows] == sorted(r["interface_energy"] for r in rows)
    result = invoke("query", "potentials", "--max-energy", 0, "--project-dir", project)
    assert result.exit_code == 1 and "energies" in result.output
    result = invoke("query", "reference-checks", "--project-dir", project, "--json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["calculator"] == "chgnet" and row["reference_max_force_mean"] > 0


@pytest.mark.slow  # the whole study
def test_report_is_rebuilt_from_the_store(tiny_study, tmp_path):
    project, _ = tiny_study
    result = invoke("report", "--out", tmp_path / "again", "--project-dir", project)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "again" / "report.html").read_text()
    assert "cryingan λ=0.05 seed=0" in html
    result = invoke("report", "not-a-uuid", "--project-dir", project)
    assert result.exit_code == 1 and "no job output" in result.output


@pytest.mark.slow  # the whole study
def test_resume_repeats_no_completed_job(tiny_study):
    project, _ = tiny_study
    flow = load_flow(project / "studies" / "demo" / "flow.json")
    store = get_job_store(get_settings(project_dir=project))
    store.connect()
    evaluation_uuid = flow.output["evaluation"].uuid
    relax_job = next(job for job, _ in flow.iterflow() if job.name == "relax random 0-3")
    progress = project / "relaxations" / f"{relax_job.uuid}.jsonl"
    lines = progress.read_text().splitlines()
    assert len(lines) == 4  # one record per structure, written as each finished
    before = load_output(relax_job.uuid, store).records
    # as if the run died in the last job and a relaxation's output never reached the store
    store.remove_docs({"uuid": {"$in": [evaluation_uuid, relax_job.uuid]}})
    result = invoke("demo", "--resume", "--project-dir", project)
    assert result.exit_code == 0, result.output
    total = len(list(flow.iterflow()))
    assert f"2 / {total - 2}" in result.output  # ran 2, skipped the rest
    assert store.query_one({"uuid": evaluation_uuid}) is not None
    # the rerun relaxation took its finished structures from its progress file
    assert load_output(relax_job.uuid, store).records == before
    assert progress.read_text().splitlines() == lines


@pytest.mark.slow  # the whole study
def test_interface_bench_system_takes_the_study_training_set(tiny_study, template, tmp_path):
    import numpy as np

    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator

    project, _ = tiny_study
    out = tmp_path / "interface"
    dataset = ["bench", "dataset", "interface", "--out", out]
    result = invoke(*dataset, "--set", f"project_dir={project}")
    assert result.exit_code == 0, result.output
    flow = load_flow(project / "studies" / "demo" / "flow.json")
    store = get_job_store(get_settings(project_dir=project))
    stored = load_output(flow.output["training_set"].uuid, store).training_set
    training = out / "interface_training.extxyz"
    exported = InterfaceSet.read_extxyz(training)
    assert len(exported) == len(stored) == 6
    assert np.abs(exported.frac_coords - stored.frac_coords).max() < 1e-6
    summary = json.loads((out / "dataset.json").read_text())["summary"]
    assert summary["energy_job"] == flow.output["training_set"].uuid
    potential = load_output(flow.output["potential"].uuid, store).potential_dir
    assert summary["potential_dir"] == potential  # the study's refined potential
    # the training set against itself: every distance 0; the tiny study relaxed it for 5 FIRE
    # steps, so every structure is unconverged, which the study's evaluation counts as failed
    score = ["bench", "score", "interface", "--training", training, "--resamples", 20]
    result = invoke(*score, "--generated", training, "--out", tmp_path / "self")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "self" / "score.json").read_text())["metrics"]
    assert {"d_Li", "d_Sc", "d_Co", "d_all"} <= set(metrics)
    assert metrics["d_all"]["value"] == pytest.approx(0.0, abs=1e-12)
    assert not any(info["converged"] for info in exported.infos)
    assert metrics["failed_percent"] == 100.0
    # random interfaces of the same template: further away; 2 of the 4 requested lost
    RandomInterfaceGenerator(template).generate(2, seed=99).write_extxyz(tmp_path / "random.extxyz")
    result = invoke(
        *score, "--generated", tmp_path / "random.extxyz", "--n-generated", 4,
        "--out", tmp_path / "random",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    random = json.loads((tmp_path / "random" / "score.json").read_text())["metrics"]
    assert random["d_all"]["value"] > 0.01 and random["failed_percent"] == 50.0
    assert (tmp_path / "random" / "report" / "report.html").exists()
    # the benchmark flow: one seed, relaxed by the study's potential for 3 FIRE steps, which
    # converges nothing: kept in the distances and counted failed, as the study's evaluation
    args = ["bench", "run", "interface", "--training", training, "--seeds", 0, "--n", 2]
    args += ["--project-dir", tmp_path / "bench", "--score", f"relax={potential}"]
    args += ["--score", "relax_steps=3", "--score", "n_resamples=20"]
    tiny = ["epochs=1", "batch_size=4", "critic_channels=[32, 32, 16]", "head_sizes=[32, 16, 10]"]
    for pair in [*tiny, "generator_channels=8", "generator_body=[16, 32, 16]"]:
        args += ["--gan", pair]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    table = (tmp_path / "bench" / "bench" / "interface_interface_training" / "table.md").read_text()
    ours = next(line for line in table.splitlines() if "CryinGAN (here)" in line)
    assert ours.startswith("| CryinGAN (here) | this run (1) | ")
    assert ours.endswith("| 100 (100, 100) | 0 (0, 0) |")  # failed, converged
    assert float(ours.split("|")[6].split()[0]) > 0.01  # d_all of a one-epoch GAN
    assert "| CryinGAN | published (3) | 0.0538 | 0.0274 | 0.0888 | 0.0426 | 9 |  |" in table
    result = invoke(*dataset, "--set", f"project_dir={project}", "--set", "energy_job=nope")
    assert result.exit_code == 1 and "energy_job nope" in result.output


@pytest.fixture
def restartable_server(tmp_path):
    """(URI, server) of a MongoDB server this test may stop and restart: its own secantusdb,
    or CRYIN_TEST_MONGODB_URI (then server is None and the restart is left out)."""
    import os

    from ..conftest import LocalMongoServer

    if os.environ.get("CRYIN_TEST_MONGODB_URI"):
        yield os.environ["CRYIN_TEST_MONGODB_URI"], None
        return
    server = LocalMongoServer(tmp_path / "server-data").start()
    yield server.uri, server
    server.stop()


@pytest.mark.slow  # the whole study
@pytest.mark.mongodb
def test_tiny_study_on_mongodb_survives_a_server_restart(tmp_path, restartable_server):
    """The study on a MongoDB server that is stopped mid-run and started again: a one-line
    error, nothing finished lost, --resume completes it; then queries, indexes and the report
    from other processes, documents in MongoDB and large objects in GridFS."""
    import os
    import subprocess
    import sys
    import time
    import uuid
    from pathlib import Path

    import pymongo

    from .conftest import write_tiny_study

    uri, server = restartable_server
    database = f"cryin_test_{uuid.uuid4().hex[:10]}"
    cryin = Path(sys.executable).parent / "cryin"
    env = {
        **os.environ,
        "CRYIN_MONGODB_URI": uri,
        "CRYIN_MONGODB_DATABASE": database,
        "CRYIN_CONNECT_TIMEOUT_S": "3",
    }
    config = write_tiny_study(tmp_path / "tiny.yaml", stability=False)
    demo = [cryin, "demo", "--config", config, "--project-dir", tmp_path / "proj"]
    db = pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000)[database]
    before: dict[str, str] = {}
    dangling: set[str] = set()
    if server is not None:
        run = subprocess.Popen(
            demo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.time() + 300
        while db["outputs"].count_documents({}) < 5 and time.time() < deadline:
            assert run.poll() is None, run.communicate()[1][-2000:]
            time.sleep(0.2)
        server.stop()  # mid-study
        _, err = run.communicate(timeout=300)
        assert run.returncode == 1
        message = " ".join(err.split())
        assert f"lost the results store (MongoDB at 127.0.0.1:{server.port}, database " in message
        assert "rerun with --resume" in message and "Traceback" not in err
        server.start()
        # jobflow writes a document before its GridFS objects: a stop in between leaves a
        # document whose objects are missing, and that job must run again
        stored = {d["metadata"]["blob_uuid"] for d in db["outputs_data.files"].find()}
        before, dangling = {}, set()
        for d in db["outputs"].find({}, {"uuid": 1, "completed_at": 1, "output": 1}):
            refs = [
                v["blob_uuid"]
                for v in d["output"].values()
                if isinstance(v, dict) and "blob_uuid" in v
            ]
            if all(ref in stored for ref in refs):
                before[d["uuid"]] = d["completed_at"]
            else:
                dangling.add(d["uuid"])
        assert len(before) >= 4
        demo.append("--resume")
    done = subprocess.run(demo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    n_jobs = len(list(load_flow(tmp_path / "proj" / "studies" / "demo" / "flow.json").iterflow()))
    docs = list(db["outputs"].find({}, {"uuid": 1, "completed_at": 1}))
    assert len(docs) == n_jobs and len({d["uuid"] for d in docs}) == n_jobs
    # what finished before the stop was kept, not redone; a job cut off mid-write was redone
    assert all(before[d["uuid"]] == d["completed_at"] for d in docs if d["uuid"] in before)
    stored = {d["metadata"]["blob_uuid"] for d in db["outputs_data.files"].find()}
    for d in db["outputs"].find({"uuid": {"$in": list(dangling)}}, {"output": 1}):
        refs = [
            v["blob_uuid"] for v in d["output"].values() if isinstance(v, dict) and "blob_uuid" in v
        ]
        assert refs and all(ref in stored for ref in refs)
    cryin = Path(sys.executable).parent / "cryin"
    env = {**os.environ, "CRYIN_MONGODB_URI": uri, "CRYIN_MONGODB_DATABASE": database}
    queries = (
        ["query", "evaluations", "--json"],
        ["query", "gan-runs", "--filter", "bond_weight=0.05", "--json"],
        ["report", "--out", str(tmp_path / "rep")],
    )
    for args in queries:
        done = subprocess.run([cryin, *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        if args[0] == "query":
            assert len(json.loads(done.stdout)) == 1
    assert (tmp_path / "rep" / "report.html").exists()
    # documents in MongoDB, structures and trajectories in GridFS
    assert db["outputs_data.files"].count_documents({}) > 0
    # every field `cryin query` filters and sorts on is indexed on the server
    from cryin_flows.launchpad.queries import INDEXED

    indexed = {
        key for index in db["outputs"].index_information().values() for key, _ in index["key"]
    }
    assert set(INDEXED) <= indexed, set(INDEXED) - indexed
    assert {"output.config.bond_weight", "output.config.variant"} <= indexed
    db.client.drop_database(database)


GPU_STEMS = ("potential", "relax", "gan train", "gan generate", "phase energies", "md ")


def _kind(name: str) -> str:
    """What the job's name says it does: GPU work for training, relaxation and the GAN."""
    return "gpu" if name.startswith(GPU_STEMS) and name != "potential sweep" else "cpu"


@pytest.mark.parametrize("preset", ["paper", "demo"])
def test_every_job_of_the_study_has_a_category(preset):
    """The cpu and gpu workers filter on spec._category: a job without one never runs."""
    from cryin_flows.launchpad.fireworks import study_workflow

    study = load_study(preset, overrides=["categories.gpu=a100"])
    flow = study.make()
    jobs = [job for job, _ in flow.iterflow()]
    category = {job.name: job.config.manager_config.get("_category") for job in jobs}
    missing = [name for name, c in category.items() if c not in ("cpu", "a100")]
    assert not missing, missing
    for name, c in category.items():
        expected = "a100" if _kind(name) == "gpu" and "best potential" not in name else "cpu"
        assert c == expected, (name, c)
    # the jobs a newcomer's run found without a category now have one
    for name in ("random interfaces 0-", "interface energy (random)", "reference check"):
        hits = [c for n, c in category.items() if n.startswith(name)]
        assert (preset == "paper" and name == "reference check") or hits, name
        assert set(hits) <= {"cpu"}
    # and so has every Firework; jobs made at run time inherit it (dynamic config update)
    wf = study_workflow(flow)
    assert all(fw.spec.get("_category") in ("cpu", "a100") for fw in wf.fws)
    label = next(job for job in jobs if job.name in ("dft_labels", "label"))
    # the same name is jobflow-remote's worker (the generated project's workers)
    assert {job.config.manager_config["worker"] for job in jobs} == {"cpu", "a100"}
    assert label.config_updates[-1]["config"] == {
        "_set": {"manager_config->_category": "cpu", "manager_config->worker": "cpu"}
    }


def test_flow_makers_used_alone_categorise_their_jobs(template):
    """Each stage flow maker, used without the study, gives every job cpu or gpu."""
    from cryin_flows.flows.dataset import DatasetFlowMaker
    from cryin_flows.flows.gan import GanSweepMaker
    from cryin_flows.flows.refine import RefineFlowMaker
    from cryin_flows.flows.stability import StabilityFlowMaker
    from cryin_flows.flows.training_set import TrainingSetFlowMaker
    from cryin_flows.makers.potentials import PotentialSweepMaker
    from cryin_flows.makers.vasp import InterfacesDftMaker

    flows = {
        "dataset": DatasetFlowMaker(n_label=2, n_label_exchanged=0).make(template),
        "potential": PotentialSweepMaker().make("frames"),
        "refine": RefineFlowMaker(rounds=1, n=2).make(template, "frames", "potential"),
        "training set": TrainingSetFlowMaker(n_random=4, chunk=2).make(template, "potential"),
        "gan": GanSweepMaker(seeds=(0,)).make("set.extxyz", "potential", template),
        "dft": InterfacesDftMaker().make(_two_interfaces(template), template),
        "stability": StabilityFlowMaker().make(template.system),
    }
    for stage, flow in flows.items():
        category = {
            job.name: job.config.manager_config.get("_category") for job, _ in flow.iterflow()
        }
        assert category and all(c in ("cpu", "gpu") for c in category.values()), (stage, category)
        gpu = {name for name, c in category.items() if c == "gpu"}
        assert gpu == {n for n in category if _kind(n) == "gpu" and "best" not in n}, stage


def _two_interfaces(template):
    from cryin_flows.interfaces.random_fill import RandomFillSettings, RandomInterfaceGenerator

    return RandomInterfaceGenerator(template, RandomFillSettings()).generate(2, seed=0)


def test_an_empty_category_is_refused():
    with pytest.raises(ConfigurationError, match="no FireWorks category for 'gpu' jobs"):
        study = load_study("demo")
        study.categories = {"cpu": "cpu", "gpu": ""}
        study.make()


def test_jobflow_remote_workers_follow_the_categories():
    """Each job goes to the jobflow-remote worker its category names: the kind's default, or a
    category set by hand without a worker."""
    from jobflow import Flow, job

    from cryin_flows.launchpad.remote import remote_workers

    @job
    def add(a, b):
        return a + b

    first = add(1, 2)
    second = add(first.output, 3)
    first.update_config({"manager_config": {"_category": "a100"}})
    assert remote_workers(Flow([first, second])) == {"a100": 1, "cpu": 1}
    assert second.config.manager_config == {"_category": "cpu", "worker": "cpu"}
