"""FireWorks on a MongoDB server, as on a cluster: configuration from ``cryin config init
--store mongodb``, ``cryin submit`` and ``lpad add``, two concurrent ``rlaunch rapidfire``
workers, ``qlaunch`` with a stand-in scheduler, and a rocket killed during a relaxation that
``lpad detect_lostruns --rerun`` recovers. Every command is its own process."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pymongo
import pytest
from ase.build import bulk
from jobflow import Flow

from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.launchpad.fireworks import study_workflow
from cryin_flows.makers.potentials import RelaxMaker
from cryin_flows.potentials.relax import RelaxSettings

from .test_fireworks import (
    BIN,
    fireworks,
    init_config,
    kill_rocket_mid_job,
    qlaunch_small_workflow,
    reset_launchpad,
    sh,
)

pytestmark = pytest.mark.mongodb


@pytest.fixture
def mongo_env(tmp_path, mongodb_database):
    """A worker's environment from ``cryin config init --store mongodb``, LaunchPad reset."""
    uri, database = mongodb_database
    env = init_mongodb_config(tmp_path, uri, database)
    reset_launchpad(env)
    return env


def init_mongodb_config(tmp_path, uri: str, database: str) -> dict[str, str]:
    """Results in ``database``, the LaunchPad in ``database``_fw (dropped with it)."""
    return init_config(
        tmp_path,
        *("--store", "mongodb", "--mongodb-uri", uri, "--database", database),
        *("--fireworks-database", f"{database}_fw"),
    )


def outputs(uri: str, database: str) -> list[dict]:
    db = pymongo.MongoClient(uri)[database]
    return list(db["outputs"].find({}, {"uuid": 1, "name": 1, "_id": 0}))


def test_lpad_add_and_qlaunch_with_a_standin_scheduler(tmp_path, mongo_env):
    qlaunch_small_workflow(mongo_env, tmp_path)


def relaxation_workflow(path: Path, potential: str, results_dir: Path, n: int = 12) -> Path:
    """One relaxation job of ``n`` LiCl cells relaxed side by side. The first three are perfect
    rocksalt (zero force by symmetry, 1e-7 eV/Å of float32 rounding: done at the first step);
    the others are rattled and the force threshold (1e-5 eV/Å) is out of their reach (the tiny
    potential leaves them at ~1e-3 after 100 steps), so they run ``max_steps`` steps. A rocket
    can thus be killed with exactly three structures finished."""
    frames = []
    for i in range(n):
        atoms = bulk("LiCl", "rocksalt", a=5.2, cubic=True)
        if i >= 3:
            atoms.rattle(0.15, seed=300 + i)
        frames.append(atoms.get_scaled_positions())
    structures = InterfaceSet(np.array(atoms.cell), atoms.get_chemical_symbols(), np.array(frames))
    maker = RelaxMaker(
        settings=RelaxSettings(fmax=1e-5, max_steps=100, max_atoms=n * 8),  # all in one call
        results_dir=str(results_dir),
    )
    relax = maker.make(structures, potential)
    relax.update_config({"manager_config": {"_category": "gpu"}})
    study_workflow(Flow([relax], name="relax")).to_file(str(path))
    return path


def test_rocket_killed_mid_relaxation_resumes_after_detect_lostruns(
    tmp_path, mongo_env, tiny_potential
):
    results_dir = tmp_path / "relaxations"
    sh(
        mongo_env,
        BIN / "lpad",
        "add",
        relaxation_workflow(tmp_path / "wf.yaml", tiny_potential, results_dir),
    )
    worker = tmp_path / "cfg" / "my_fworker_gpu.yaml"

    def some_finished() -> bool:  # kill once the perfect cells are finished
        files = list(results_dir.glob("*.jsonl")) if results_dir.exists() else []
        return bool(files) and len(files[0].read_text().splitlines()) >= 3

    kill_rocket_mid_job(mongo_env, worker, tmp_path / "killed", ready=some_finished)
    progress = list(results_dir.glob("*.jsonl"))
    done_before = progress[0].read_text().splitlines()
    assert sorted(json.loads(line)["index"] for line in done_before) == [0, 1, 2]
    assert [fw["state"] for fw in fireworks(mongo_env)] == ["RUNNING"]
    time.sleep(2)
    sh(mongo_env, BIN / "lpad", "detect_lostruns", "--time", "1", "--rerun")
    assert [fw["state"] for fw in fireworks(mongo_env)] == ["READY"]
    rerun = tmp_path / "rerun"  # another folder, as another node would use
    rerun.mkdir()
    sh(mongo_env, BIN / "rlaunch", "-w", worker, "singleshot", cwd=rerun)
    assert [fw["state"] for fw in fireworks(mongo_env)] == ["COMPLETED"]
    lines = progress[0].read_text().splitlines()
    # the finished structures were not redone: their records stand, each index once
    assert lines[: len(done_before)] == done_before
    records = sorted((json.loads(line) for line in lines), key=lambda r: r["index"])
    assert [r["index"] for r in records] == list(range(12))
    assert [r["steps"] for r in records] == [0] * 3 + [100] * 9


def test_submit_to_a_launchpad_never_reset_says_how(tmp_path, mongodb_database):
    uri, database = mongodb_database
    env = init_mongodb_config(tmp_path, uri, database)
    result = subprocess.run(
        [BIN / "cryin", "submit", "--preset", "demo"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "is not initialised: run `lpad reset` once" in message and database in message
    assert "Traceback" not in result.stderr and "Could not get next FW id" not in result.stderr
    # and config check says the same, in one row, exit 1
    check = subprocess.run(
        [BIN / "cryin", "config", "check"], env=env, capture_output=True, text=True
    )
    assert check.returncode == 1 and "lpad reset" in check.stdout


def test_config_check_on_an_unreachable_server_is_quick_and_clear(tmp_path):
    from ..conftest import _free_port

    uri = f"mongodb://alice:pw-not-shown@127.0.0.1:{_free_port()}/nowhere"
    env = init_mongodb_config(tmp_path, uri, "nowhere")
    env.update(CRYIN_CONNECT_TIMEOUT_S="2", COLUMNS="400")  # one table row per line
    start = time.monotonic()
    check = subprocess.run(
        [BIN / "cryin", "config", "check"], env=env, capture_output=True, text=True
    )
    assert time.monotonic() - start < 15  # 2 s per check, not FireWorks' 30 s default
    assert check.returncode == 1
    rows = {line.split("│")[1].strip(): line for line in check.stdout.splitlines() if "│" in line}
    assert "cannot reach MongoDB at 127.0.0.1" in rows["JobStore"]
    assert "cannot reach the LaunchPad (MongoDB at 127.0.0.1" in rows["LaunchPad"]
    assert "pw-not-shown" not in check.stdout and "TopologyDescription" not in check.stdout


def test_launch_refuses_a_firework_no_fed_worker_runs(tmp_path, mongo_env):
    """A job without a category (a workflow not made by `cryin submit`) would wait for ever for
    the cpu and gpu workers: `cryin launch` says which, before submitting anything."""
    from jobflow.managers.fireworks import flow_to_workflow

    from cryin_flows.makers.interfaces import InterfaceTemplateMaker

    flow_to_workflow(InterfaceTemplateMaker().make()).to_file(str(tmp_path / "wf.yaml"))
    sh(mongo_env, BIN / "lpad", "add", tmp_path / "wf.yaml")
    result = subprocess.run(
        [BIN / "cryin", "launch", "--sleep", "1"],
        env=mongo_env | {"COLUMNS": "400"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "('interface template', category none) is READY but none of the workers fed" in message
    assert "(cpu, gpu)" in message and "--category any" in message
