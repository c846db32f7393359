"""jobflow-remote as the engine, as the cluster guide says: the project file ``cryin config
init --store mongodb`` writes (its ``cpu`` and ``gpu`` workers, local, submitting to the test
SLURM), ``jf project check``, ``jf admin reset``, ``cryin submit --engine jobflow-remote``,
``jf runner start``; the tiny study runs to COMPLETED and ``cryin query`` reads its outputs.
Every command is its own process, with the test MongoDB server."""

from __future__ import annotations

import json
import time
from collections import Counter

import pymongo
import pytest
import yaml

from cryin_flows.flows.presets import load_study

from ..flows.conftest import write_tiny_study
from .test_fireworks import BIN, init_config, sh
from .test_slurm import slurm  # noqa: F401 (fixture)

pytestmark = [pytest.mark.mongodb, pytest.mark.slurm, pytest.mark.slow]

#: the runner's polling delays, seconds (jobflow-remote's defaults: 30)
FAST_RUNNER = {
    "delay_checkout": 1,
    "delay_check_run_status": 1,
    "delay_advance_status": 1,
    "delay_refresh_limited": 2,
    "delay_update_batch": 2,
}


@pytest.fixture
def jf_env(tmp_path, mongodb_database, slurm):  # noqa: F811
    """The generated project in a projects folder of its own (the guide's copy to
    ~/.jfremote/cryin.yaml), with a faster-polling runner; checked and reset."""
    uri, database = mongodb_database
    env = init_config(
        tmp_path,
        *("--store", "mongodb", "--mongodb-uri", f"{uri}/{database}"),
        *("--cpu-queue", "debug", "--gpu-queue", "debug", "--walltime", "00:30:00"),
    )
    project = yaml.safe_load((tmp_path / "cfg" / "jobflow_remote_project.yaml").read_text())
    assert set(project["workers"]) == {"cpu", "gpu"}
    project["runner"] = FAST_RUNNER
    folder = tmp_path / "jfremote"
    folder.mkdir()
    (folder / "cryin.yaml").write_text(yaml.safe_dump(project))
    env.update(JFREMOTE_PROJECTS_FOLDER=str(folder), JFREMOTE_PROJECT="cryin")
    check = sh(env, BIN / "jf", "project", "check", "--errors")
    for line in ("✓ Worker cpu", "✓ Worker gpu", "✓ Jobstore", "✓ Queue store"):
        assert line in check, check
    sh(env, BIN / "jf", "admin", "reset", "--yes")
    yield env
    sh(env, BIN / "jf", "runner", "stop", "--wait", check=False)


def test_tiny_study_runs_to_the_end_with_jobflow_remote(tmp_path, jf_env, mongodb_database):
    env = jf_env
    uri, database = mongodb_database
    config = write_tiny_study(tmp_path / "tiny.yaml", stability=False, refine=False)
    n_jobs = len(list(load_study("demo", config).make().iterflow()))
    out = sh(env, BIN / "cryin", "submit", "--preset", "demo", "--config", config,
             "--engine", "jobflow-remote")  # fmt: skip
    assert "worker cpu" in out and "worker gpu" in out, out
    sh(env, BIN / "jf", "runner", "start")
    # the queue store's states, read directly (a `jf` process per poll would take CPU from the
    # jobs); `jf job list` once at the end
    db = pymongo.MongoClient(uri)[database]
    deadline, states = time.time() + 1200, {}
    while time.time() < deadline:
        states = Counter(doc["state"] for doc in db["jf_jobs"].find({}, {"state": 1}))
        if states["COMPLETED"] == n_jobs or set(states) & {"FAILED", "REMOTE_ERROR"}:
            break
        time.sleep(5)
    completed = int(
        sh(env, BIN / "jf", "job", "list", "--count", "--state", "COMPLETED").split()[-1]
    )
    listing = sh(env | {"COLUMNS": "200"}, BIN / "jf", "job", "list")
    assert completed == n_jobs == states["COMPLETED"], (states, listing)
    # every job ran in its category's worker: cpu and gpu queue jobs both
    workers = {doc["worker"] for doc in db["jf_jobs"].find({}, {"worker": 1})}
    assert workers == {"cpu", "gpu"}
    # outputs once each, in the JobStore `cryin query` reads
    docs = list(db["outputs"].find({}, {"uuid": 1}))
    assert len(docs) == n_jobs == len({d["uuid"] for d in docs})
    rows = json.loads(sh(env, BIN / "cryin", "query", "evaluations", "--json"))
    assert len(rows) == 1 and rows[0]["reference"] == "training"
