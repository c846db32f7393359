"""FireWorks in its file-backed mode (mongomock persisted to a JSON file): ``cryin config init``,
``cryin submit``, ``lpad add``, ``rlaunch``, ``qlaunch`` with a stand-in scheduler, and a killed
rocket. Each FireWorks command runs as its own process, as on a cluster; the file-backed
LaunchPad is written when a process ends, so these commands run one at a time."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from jobflow import Flow
from typer.testing import CliRunner

from cryin_flows.cli import app
from cryin_flows.flows.presets import load_study
from cryin_flows.launchpad.fireworks import study_workflow
from cryin_flows.launchpad.stores import get_job_store
from cryin_flows.makers.interfaces import InterfaceTemplateMaker, RandomInterfacesMaker
from cryin_flows.settings import get_settings

from ..flows.conftest import write_tiny_study

BIN = Path(sys.executable).parent
runner = CliRunner()


def init_config(tmp_path: Path, *extra: str) -> dict[str, str]:
    """``cryin config init`` into tmp_path/cfg; returns the environment of a worker."""
    result = runner.invoke(
        app,
        [
            "config",
            "init",
            "--dir",
            str(tmp_path / "cfg"),
            "--project-dir",
            str(tmp_path / "proj"),
            "--scheduler",
            "slurm",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    cfg = tmp_path / "cfg"
    env = dict(os.environ)
    env.update(
        FW_CONFIG_FILE=str(cfg / "FW_config.yaml"),
        JOBFLOW_CONFIG_FILE=str(cfg / "jobflow.yaml"),
        CRYIN_CONFIG_FILE=str(cfg / "cryin.yaml"),
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    return env


def sh(env: dict, *args: str, cwd: Path | None = None, check: bool = True) -> str:
    """Run a FireWorks/cryin command as its own process."""
    result = subprocess.run(
        [str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr


def reset_launchpad(env: dict) -> None:
    sh(
        env,
        sys.executable,
        "-c",
        "from fireworks import LaunchPad; LaunchPad.auto_load().reset('', require_password=False)",
    )


def fireworks(env: dict) -> list[dict]:
    """Every Firework's id, name, state and number of launches."""
    script = (
        "import json; from fireworks import LaunchPad; lp = LaunchPad.auto_load(); "
        "print(json.dumps([{'id': d['fw_id'], 'name': d['name'], 'state': d['state'], "
        "'launches': len(d.get('launches', []))} for d in lp.fireworks.find({})]))"
    )
    return json.loads(sh(env, sys.executable, "-c", script).strip().splitlines()[-1])


def small_workflow(path: Path, slow: bool = False) -> Path:
    """template -> two random batches (CPU category), as a workflow file for ``lpad add``."""
    template = InterfaceTemplateMaker().make()
    fast = RandomInterfacesMaker(name="random fast", n=3).make(template.output)
    jobs = [template, fast]
    fast.update_config({"manager_config": {"_category": "cpu", "_priority": 10}})
    if slow:  # about 15 s: time to kill its rocket
        batch = RandomInterfacesMaker(name="random slow", n=2500, seed=1).make(template.output)
        batch.update_config({"manager_config": {"_category": "cpu", "_priority": 1}})
        jobs.append(batch)
    template.update_config({"manager_config": {"_category": "cpu"}})
    study_workflow(Flow(jobs, name="small")).to_file(str(path))
    return path


def kill_rocket_mid_job(env: dict, worker: Path, folder: Path, ready=None) -> None:
    """Start ``rlaunch singleshot`` in ``folder`` and SIGKILL it mid-job: once ``ready()`` is
    true, or by default 1.5 s after it has checked out a job."""
    folder.mkdir(parents=True)
    rocket = subprocess.Popen(
        [str(BIN / "rlaunch"), "-w", str(worker), "singleshot"],
        env=env,
        cwd=folder,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    if ready is None:
        while not (folder / "FW.json").exists() and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)  # the rocket has checked out the slow job (about 15 s of work)
    else:
        while not ready() and time.time() < deadline:
            assert rocket.poll() is None, "the job ended before it could be killed"
            time.sleep(0.1)
    assert rocket.poll() is None, "the job finished before it could be killed"
    os.killpg(rocket.pid, signal.SIGKILL)
    rocket.wait()


def test_config_init_writes_working_files(tmp_path):
    env = init_config(tmp_path)
    cfg = tmp_path / "cfg"
    from fireworks.utilities.fw_serializers import load_object_from_file

    adapter = load_object_from_file(str(cfg / "my_qadapter_gpu.yaml"))
    assert adapter.q_type == "SLURM" and "gres" not in adapter  # no GPU asked, none listed
    # the rocket is the environment's own rlaunch: a login shell's PATH need not have it
    assert adapter["rocket_launch"].startswith(f"{BIN / 'rlaunch'} -c {cfg} ")
    assert "my_fworker_gpu.yaml" in adapter["rocket_launch"]
    assert adapter["ntasks"] == 1 and adapter["cpus_per_task"] == 1
    assert adapter["logdir"] == str(cfg / "queue_logs")
    any_adapter = load_object_from_file(str(cfg / "my_qadapter_any.yaml"))
    assert "my_fworker_any.yaml" in any_adapter["rocket_launch"]
    script = any_adapter.get_script_str(str(tmp_path))
    assert f"#SBATCH --output={cfg}/queue_logs/cryin-any-%j.out" in script
    assert "--gres" not in script and "#SBATCH --cpus-per-task=1" in script
    fw_config = yaml.safe_load((cfg / "FW_config.yaml").read_text())
    assert fw_config["RUN_EXPIRATION_SECS"] == 300 and fw_config["PING_TIME_SECS"] == 60
    # GPUs when asked, and PBS as well
    init_config(tmp_path, "--gpus", "2", "--cpus", "8", "--lost-after", "60")
    adapter = load_object_from_file(str(cfg / "my_qadapter_gpu.yaml"))
    assert adapter["gres"] == "gpu:2" and adapter["cpus_per_task"] == 8
    assert "gres" not in load_object_from_file(str(cfg / "my_qadapter_cpu.yaml"))
    assert yaml.safe_load((cfg / "FW_config.yaml").read_text())["PING_TIME_SECS"] == 12
    init_config(tmp_path, "--scheduler", "pbs", "--gpus", "1", "--cpus", "4")
    adapter = load_object_from_file(str(cfg / "my_qadapter_gpu.yaml"))
    assert adapter.q_type == "PBS" and adapter["ppnode"] == "4:gpus=1"
    assert "#PBS -l nodes=1:ppn=4:gpus=1" in adapter.get_script_str(str(tmp_path))
    init_config(tmp_path)
    workers = {
        c: yaml.safe_load((cfg / f"my_fworker_{c}.yaml").read_text()) for c in ("cpu", "gpu")
    }
    assert workers["cpu"]["category"] == "cpu" and workers["gpu"]["category"] == "gpu"
    reset_launchpad(env)
    result = sh(env, BIN / "cryin", "config", "check")
    assert "LaunchPad" in result and "0 fireworks" in result and "no" not in result.split()
    # without --out, submit adds the workflow to the configured LaunchPad
    result = sh(env, BIN / "cryin", "submit", "--preset", "demo")
    assert "added; firework ids" in result
    fws = fireworks(env)
    n_jobs = len(list(load_study("demo").make().iterflow()))
    assert len(fws) == n_jobs and {fw["state"] for fw in fws} == {"READY", "WAITING"}


def test_submitted_workflow_has_no_password(tmp_path, monkeypatch):
    secret = "s3cr3t-pw"
    uri = f"mongodb://alice:{secret}@127.0.0.1:1/results"
    env = init_config(tmp_path, "--store", "mongodb", "--mongodb-uri", uri)
    cfg = tmp_path / "cfg"
    # the credentials are where workers need them, private
    assert secret in (cfg / "my_launchpad.yaml").read_text()
    assert secret in (cfg / "jobflow.yaml").read_text()
    for name in ("my_launchpad.yaml", "jobflow.yaml", "jobflow_remote_project.yaml"):
        assert stat.S_IMODE((cfg / name).stat().st_mode) == 0o600
    for key in ("JOBFLOW_CONFIG_FILE", "CRYIN_CONFIG_FILE"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.setenv("CRYIN_MONGODB_URI", uri)
    out = tmp_path / "wf.yaml"
    result = runner.invoke(app, ["submit", "--preset", "paper", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "dft_labels" in text and secret not in text and "alice" not in text


@pytest.mark.slow  # the whole study
def test_submit_lpad_add_rlaunch_runs_the_study(tmp_path):
    env = init_config(tmp_path)
    reset_launchpad(env)
    config = write_tiny_study(tmp_path / "tiny.yaml")
    wf = tmp_path / "wf.yaml"
    sh(env, BIN / "cryin", "submit", "--preset", "demo", "--config", config, "--out", wf)
    sh(env, BIN / "lpad", "add", wf)
    run_dir = tmp_path / "launches"
    run_dir.mkdir()
    # a worker without a category runs CPU and GPU jobs alike
    sh(
        env,
        BIN / "rlaunch",
        "-w",
        tmp_path / "cfg" / "my_fworker_any.yaml",
        "rapidfire",
        cwd=run_dir,
    )
    fws = fireworks(env)
    study = load_study("demo", config).make()
    assert len(fws) == len(list(study.iterflow()))
    assert {fw["state"] for fw in fws} == {"COMPLETED"}
    # the results are in the JobStore of the configuration, queryable from the CLI
    rows = json.loads(sh(env, BIN / "cryin", "query", "evaluations", "--json"))
    assert len(rows) == 1 and rows[0]["reference"] == "training"
    rows = json.loads(sh(env, BIN / "cryin", "query", "gan-runs", "--json"))
    assert [r["bond_weight"] for r in rows] == [0.05]


STANDIN_SBATCH = """#!/usr/bin/env python3
# stand-in for sbatch: spool the script; the test plays the scheduler and runs it later
import pathlib, sys
spool = pathlib.Path(sys.argv[0]).parent / "spool"
spool.mkdir(exist_ok=True)
n = len(list(spool.iterdir())) + 1
(spool / f"{n:04d}.sh").write_text(pathlib.Path(sys.argv[1]).resolve().read_text())
print(f"Submitted batch job {n}")
"""


def qlaunch_small_workflow(env: dict, tmp_path: Path) -> None:
    """``lpad add`` a small workflow, then ``qlaunch`` it through a stand-in ``sbatch``: each
    round qlaunch submits one ready job and the test, as the scheduler, runs the script."""
    cfg = tmp_path / "cfg"
    sbatch = tmp_path / "sched" / "sbatch"
    sbatch.parent.mkdir()
    sbatch.write_text(STANDIN_SBATCH)
    sbatch.chmod(0o755)
    adapter = yaml.safe_load((cfg / "my_qadapter_cpu.yaml").read_text())
    adapter["_q_commands_override"] = {"submit_cmd": str(sbatch), "status_cmd": "true"}
    (cfg / "my_qadapter_cpu.yaml").write_text(yaml.safe_dump(adapter))
    sh(env, BIN / "lpad", "add", small_workflow(tmp_path / "wf.yaml"))
    spool = sbatch.parent / "spool"
    ran: set[str] = set()
    for _ in range(4):
        sh(env, BIN / "qlaunch", "-r", "rapidfire", "-m", "0", "--nlaunches", "1", cwd=tmp_path)
        for script in sorted(spool.glob("*.sh")):
            if script.name not in ran:
                ran.add(script.name)
                sh(env, "bash", script, cwd=tmp_path)
        if {fw["state"] for fw in fireworks(env)} == {"COMPLETED"}:
            break
    fws = fireworks(env)
    assert {fw["state"] for fw in fws} == {"COMPLETED"} and len(ran) == 2
    assert all(fw["launches"] == 1 for fw in fws)
    assert "--fw_id" in (spool / "0001.sh").read_text()  # reservation mode


def test_qlaunch_with_a_standin_scheduler(tmp_path):
    env = init_config(tmp_path)
    reset_launchpad(env)
    qlaunch_small_workflow(env, tmp_path)


def test_killed_rocket_is_rerun_and_finished_jobs_are_not(tmp_path):
    env = init_config(tmp_path)
    reset_launchpad(env)
    sh(env, BIN / "lpad", "add", small_workflow(tmp_path / "wf.yaml", slow=True))
    worker = tmp_path / "cfg" / "my_fworker_cpu.yaml"
    runs = tmp_path / "runs"
    for n in range(2):  # template, then the fast batch (higher priority); a folder per rocket
        (runs / str(n)).mkdir(parents=True)
        sh(env, BIN / "rlaunch", "-w", worker, "singleshot", cwd=runs / str(n))
    before = {fw["name"]: fw for fw in fireworks(env)}
    assert before["random fast"]["state"] == "COMPLETED"
    killed_dir = runs / "killed"
    kill_rocket_mid_job(env, worker, killed_dir)
    assert (killed_dir / "FW.json").exists()  # the interrupted launch's files stay
    # file-backed LaunchPad: the killed process never wrote, so the job is simply READY again
    # (on MongoDB: `lpad detect_lostruns --rerun`, see test_fireworks_mongodb.py)
    assert {fw["name"]: fw["state"] for fw in fireworks(env)}["random slow"] == "READY"
    (runs / "rerun").mkdir()
    sh(env, BIN / "rlaunch", "-w", worker, "rapidfire", cwd=runs / "rerun")
    after = {fw["name"]: fw for fw in fireworks(env)}
    assert {fw["state"] for fw in after.values()} == {"COMPLETED"}
    assert after["interface template"]["launches"] == 1 and after["random fast"]["launches"] == 1
    store = get_job_store(get_settings(project_dir=tmp_path / "proj", store="embedded"))
    store.connect()
    names = [d["name"] for d in store.query({}, properties=["name"])]
    assert sorted(names) == ["interface template", "random fast", "random slow"]


def test_config_check_without_any_configuration(tmp_path):
    """A new user's first try: no FireWorks files, no server. One clear row, exit 1, no wait."""
    env = {k: v for k, v in os.environ.items() if k not in ("FW_CONFIG_FILE", "LAUNCHPAD_LOC")}
    env["HOME"] = str(tmp_path)
    start = time.monotonic()
    result = subprocess.run(
        [BIN / "cryin", "config", "check"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert time.monotonic() - start < 15  # FireWorks alone would wait 30 s on localhost:27017
    assert result.returncode == 1
    text = " ".join(result.stdout.split())
    assert "no FireWorks LaunchPad is configured" in text and "cryin config init" in text
