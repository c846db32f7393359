"""The study on a real SLURM (``slurmctld``/``slurmd`` on this machine, started by ``.ci/slurm``)
with the test MongoDB server, by the README's cluster commands: ``cryin config init
--scheduler slurm``, ``lpad reset``, ``cryin config check``, ``cryin submit``, ``cryin launch``
with the cpu and gpu workers. Queue jobs start ``bash -l`` with a PATH that lacks the virtual
environment, as on a cluster. Then a running queue job is ``scancel``led: ``lpad
detect_lostruns`` as configured finds it and no healthy job, and the rerun completes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from cryin_flows.flows.presets import load_study

from ..flows.conftest import write_tiny_study
from .test_fireworks import BIN, fireworks, init_config, sh

pytestmark = [pytest.mark.slurm, pytest.mark.mongodb]

LOST_AFTER_S = 20  # rockets ping every 4 s; silence of 20 s is a lost run


@pytest.fixture(scope="module")
def slurm():
    """A reachable SLURM controller with an idle node, else skip (fail in CI: .ci/run starts
    one with `bash .ci/slurm`)."""
    reason = None
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        reason = "no SLURM commands (sbatch, sinfo) on PATH"
    else:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30)
        states = subprocess.run(
            ["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=30
        ).stdout.split()
        if "UP" not in ping.stdout:
            reason = f"slurmctld does not answer (scontrol ping: {ping.stdout.strip()})"
        elif not any(s.rstrip("*") in ("idle", "mix", "alloc") for s in states):
            reason = f"no usable SLURM node (sinfo states: {states})"
    if reason:
        message = f"{reason}; start a one-node SLURM with `sudo bash .ci/slurm`"
        if os.environ.get("CI"):
            pytest.fail(f"SLURM is required in CI: {message}")
        pytest.skip(message)


@pytest.fixture
def cluster_env(tmp_path, mongodb_database, slurm):
    """The README's configuration against the test server, LaunchPad reset; PATH without the
    virtual environment (only env.sh puts it back)."""
    uri, database = mongodb_database
    env = init_config(
        tmp_path,
        *("--store", "mongodb", "--mongodb-uri", f"{uri}/{database}"),
        *("--lost-after", str(LOST_AFTER_S)),
    )
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
    reset = sh(env, BIN / "lpad", "reset", "--password", time.strftime("%Y-%m-%d"))
    assert "LaunchPad was RESET" in reset
    return env


def test_tiny_study_runs_to_the_end_on_slurm(tmp_path, cluster_env, mongodb_database):
    env = cluster_env
    uri, database = mongodb_database
    check = sh(env | {"COLUMNS": "300"}, BIN / "cryin", "config", "check")
    for row in ("queue cpu resources", "queue gpu rlaunch", "slurm commands"):
        assert re.search(rf"{row}\s*│ yes", check), check
    config = write_tiny_study(tmp_path / "tiny.yaml", stability=False, refine=False)
    sh(env, BIN / "cryin", "submit", "--preset", "demo", "--config", config)
    runs = tmp_path / "runs"
    runs.mkdir()
    out = sh(env, BIN / "cryin", "launch", "--sleep", "2", "--timeout", "1200", cwd=runs)
    fws = fireworks(env)
    n_jobs = len(list(load_study("demo", config).make().iterflow()))
    assert len(fws) == n_jobs and {fw["state"] for fw in fws} == {"COMPLETED"}, out
    assert all(fw["launches"] == 1 for fw in fws), [f for f in fws if f["launches"] != 1]
    submitted = re.findall(r"submitted (cpu|gpu) queue job (\d+)", out)
    assert len(submitted) == n_jobs and {c for c, _ in submitted} == {"cpu", "gpu"}
    assert f"all {n_jobs} Fireworks COMPLETED" in out
    # every job's output once, in the database the URI names; queue output in one folder
    import pymongo

    docs = list(pymongo.MongoClient(uri)[database]["outputs"].find({}, {"uuid": 1}))
    assert len(docs) == n_jobs == len({d["uuid"] for d in docs})
    logs = tmp_path / "cfg" / "queue_logs"
    assert len(list(logs.glob("*.out"))) == n_jobs
    assert not [p for p in logs.glob("*.error") if "Traceback" in p.read_text()]
    rows = json.loads(sh(env, BIN / "cryin", "query", "evaluations", "--json"))
    assert len(rows) == 1 and rows[0]["reference"] == "training"
    # the report is under the project folder, not inside a launch folder
    assert not list(runs.glob("launcher_*/**/report.html"))


def lost_run_workflow(path: Path, marker: Path, stop: Path) -> Path:
    """Two Fireworks whose length the test decides, not the machine's speed: ``to kill`` runs
    until it is killed the first time (a rerun finds its marker and finishes at once),
    ``healthy`` runs beside it until the test creates ``stop``."""
    from fireworks import Firework, ScriptTask, Workflow

    kill = Firework(
        ScriptTask.from_str(
            f"test -e {marker} || {{ touch {marker}; while true; do sleep 1; done; }}"
        ),
        name="to kill",
        spec={"_category": "gpu"},
    )
    healthy = Firework(
        ScriptTask.from_str(f"while [ ! -e {stop} ]; do sleep 1; done"),
        name="healthy",
        spec={"_category": "cpu"},
    )
    Workflow([kill, healthy], name="lost run").to_file(str(path))
    return path


def test_scancelled_job_is_found_as_configured_and_rerun(tmp_path, cluster_env):
    env = cluster_env
    marker, stop = tmp_path / "killed_once", tmp_path / "stop_healthy"
    sh(env, BIN / "lpad", "add", lost_run_workflow(tmp_path / "wf.yaml", marker, stop))
    runs = tmp_path / "runs"
    runs.mkdir()
    log = open(tmp_path / "launch.log", "w")  # noqa: SIM115
    loop = subprocess.Popen(
        [BIN / "cryin", "launch", "--sleep", "1", "--no-rerun-lost", "--timeout", "600"],
        env=env,
        cwd=runs,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        ids = {fw["name"]: fw["id"] for fw in fireworks(env)}
        deadline = time.time() + 300
        while time.time() < deadline:  # both rockets running
            states = {fw["name"]: fw["state"] for fw in fireworks(env)}
            if set(states.values()) == {"RUNNING"} and marker.exists():
                break
            assert loop.poll() is None, (tmp_path / "launch.log").read_text()
            time.sleep(1)
        assert set(states.values()) == {"RUNNING"}, states
        script = "from fireworks import LaunchPad; lp = LaunchPad.auto_load(); "
        script += f"print(lp.get_reservation_id_from_fw_id({ids['to kill']}))"
        job = sh(env, BIN / "python", "-c", script).strip().splitlines()[-1]
        subprocess.run(["scancel", job], check=True)
        killed_at = time.time()
        found_after = None
        while time.time() - killed_at < 120:
            # FireWorks' own detection with the configured expiry (no --time)
            report = sh(env, BIN / "lpad", "detect_lostruns")
            lost = re.search(r"Lost FireWorks: (\d+)", report)
            assert lost and int(lost.group(1)) <= 1, report
            if lost.group(1) == "1":
                found_after = time.time() - killed_at
                break
            time.sleep(2)
        # found once its pings stopped for the configured time, not before; the healthy
        # rocket, running all along with its pings, is not the one flagged
        assert found_after is not None and found_after >= LOST_AFTER_S - 5, found_after
        states = {fw["name"]: fw["state"] for fw in fireworks(env)}
        assert states == {"to kill": "RUNNING", "healthy": "RUNNING"}, states
        rerun = sh(env, BIN / "lpad", "detect_lostruns", "--rerun")
        assert "Lost FireWorks: 1" in rerun
        # the healthy rocket was not rerun (the killed one may already be resubmitted)
        assert {fw["name"]: fw["state"] for fw in fireworks(env)}["healthy"] == "RUNNING"
        stop.touch()
        loop.wait(timeout=300)
    finally:
        if loop.poll() is None:
            loop.kill()
        stop.touch()
        log.close()
    out = (tmp_path / "launch.log").read_text()
    assert loop.returncode == 0, out
    assert {fw["state"] for fw in fireworks(env)} == {"COMPLETED"}, out
    # one queue job each, and a second one for the rerun of the killed rocket
    submitted = re.findall(r"submitted (?:cpu|gpu) queue job \d+: Firework (\d+)", out)
    assert sorted(map(int, submitted)) == sorted([ids["to kill"]] * 2 + [ids["healthy"]])


def edit_adapter(env: dict, category: str, **changes) -> Path:
    """Change keys of a generated queue adapter (None: remove the key), as a user would."""
    import yaml

    path = Path(env["FW_CONFIG_FILE"]).parent / f"my_qadapter_{category}.yaml"
    values = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    path.write_text(yaml.safe_dump(values))
    return path


def launch(env: dict, cwd: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BIN / "cryin", "launch", "--sleep", "1", "--timeout", "300", *extra],
        env=env | {"COLUMNS": "400"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=400,
    )


def test_refused_and_doomed_queue_jobs_stop_the_loop_with_one_line(tmp_path, cluster_env):
    """A partition that does not exist, a gres the node lacks, a job script that cannot find
    rlaunch: `cryin config check` names each, and `cryin launch` stops with status 1 and one
    line instead of submitting doomed jobs (qlaunch exits 0 and keeps trying)."""
    env = cluster_env
    from .test_fireworks import small_workflow

    sh(env, BIN / "lpad", "add", small_workflow(tmp_path / "wf.yaml"))
    check = subprocess.run(
        [BIN / "cryin", "config", "check"],
        env=env | {"COLUMNS": "400"},
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout
    adapter = edit_adapter(env, "cpu", queue="nosuchpartition")
    edit_adapter(env, "gpu", gres="gpu:1")
    check = subprocess.run(
        [BIN / "cryin", "config", "check"],
        env=env | {"COLUMNS": "400"},
        capture_output=True,
        text=True,
    )
    assert check.returncode == 1
    rows = {line.split("│")[1].strip(): line for line in check.stdout.splitlines() if "│" in line}
    assert "'nosuchpartition' is not a slurm partition" in rows["queue cpu partition"]
    assert "Invalid generic resource (gres) specification" in rows["queue gpu resources"]
    result = launch(env, tmp_path)
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert f"sbatch refused the cpu job ({adapter})" in message, result.stderr
    assert "invalid partition" in message.lower() and "Traceback" not in result.stderr
    assert {fw["state"] for fw in fireworks(env)} <= {"READY", "WAITING"}  # nothing reserved
    # an environment the job cannot find: the job ends, the loop says so and releases it
    edit_adapter(env, "cpu", queue=None, pre_rocket=None, rocket_launch="rlaunch singleshot")
    check = subprocess.run(
        [BIN / "cryin", "config", "check"],
        env=env | {"COLUMNS": "400"},
        capture_output=True,
        text=True,
    )
    rows = {line.split("│")[1].strip(): line for line in check.stdout.splitlines() if "│" in line}
    assert "a login shell (bash -l) cannot run rlaunch" in rows["queue cpu rlaunch"]
    result = launch(env, tmp_path)
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert re.search(r"queue job \d+ of Firework \d+ ended without starting its rocket", message)
    assert "rlaunch: command not found" in message, message
    assert {fw["state"] for fw in fireworks(env)} <= {"READY", "WAITING"}  # released
    # fixed, the same loop runs the workflow to the end
    edit_adapter(
        env,
        "cpu",
        rocket_launch=f"{BIN / 'rlaunch'} -w "
        f"{Path(env['FW_CONFIG_FILE']).parent / 'my_fworker_cpu.yaml'} singleshot",
    )
    result = launch(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {fw["state"] for fw in fireworks(env)} == {"COMPLETED"}
