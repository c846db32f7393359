"""``cryin config init|check``: the FireWorks and jobflow files a cluster run needs, from a few
answers, and a check that they connect.

Written to one folder: ``my_launchpad.yaml`` (FireWorks database), ``my_fworker_{cpu,gpu,any}
.yaml`` (workers by category), ``my_qadapter.yaml`` + ``my_qadapter_gpu.yaml`` (SLURM or PBS),
``FW_config.yaml``, ``jobflow.yaml`` (the JobStore workers write to), ``cryin.yaml`` (cryin-flows
settings: the same store), ``env.sh`` (exports that point everything at the folder) and, with a
MongoDB store, ``jobflow_remote_project.yaml`` for jobflow-remote users. Files holding
credentials are written with mode 600.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from cryin_flows.errors import ConfigurationError, CryinError

TEMPLATES = files("cryin_flows.launchpad") / "templates"
PRIVATE = ("my_launchpad.yaml", "jobflow.yaml", "cryin.yaml", "jobflow_remote_project.yaml")


class ClusterAnswers(BaseModel):
    """What ``cryin config init`` asks."""

    config_dir: Path = Field(description="Folder the files are written to")
    project_dir: Path = Field(description="Folder of job runs (and of the embedded store)")
    store: Literal["embedded", "mongodb"] = Field(
        "embedded", description="embedded: files only (single process); mongodb: a server"
    )
    mongodb_uri: str | None = Field(None, description="mongodb:// URI (may hold credentials)")
    database: str = Field("cryin_flows", description="Results database")
    fireworks_database: str = Field("cryin_fireworks", description="FireWorks database")
    scheduler: Literal["slurm", "pbs"] = Field("slurm", description="Queue system")
    cpu_queue: str | None = Field(None, description="Partition/queue of CPU jobs")
    gpu_queue: str | None = Field(None, description="Partition/queue of GPU jobs")
    account: str | None = Field(None, description="Allocation charged")
    walltime: str = Field("24:00:00", description="Queue job time limit")
    cpus: int = Field(16, ge=1, description="Cores per queue job")


def _template(name: str) -> tuple[str, dict]:
    """(leading comment block, values) of a packaged template."""
    text = (TEMPLATES / name).read_text()
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    return header, yaml.safe_load(text)


def _write(path: Path, header: str, values: dict | str) -> Path:
    body = values if isinstance(values, str) else yaml.safe_dump(values, sort_keys=False)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(header + body)
    if path.name in PRIVATE:
        tmp.chmod(0o600)
    tmp.replace(path)
    return path


def _job_store_spec(a: ClusterAnswers) -> dict:
    if a.store == "embedded":
        common = {
            "type": "MontyStore",
            "database_path": str(a.project_dir / "store"),
            "database_name": a.database,
            "storage": "sqlite",
        }
        return {
            "docs_store": {**common, "collection_name": "outputs"},
            "additional_stores": {"data": {**common, "collection_name": "outputs_data"}},
        }
    common = {
        "uri": a.mongodb_uri,
        "database": a.database,
        "mongoclient_kwargs": {"serverSelectionTimeoutMS": 5000},
    }
    return {
        "docs_store": {"type": "MongoURIStore", **common, "collection_name": "outputs"},
        "additional_stores": {
            "data": {"type": "GridFSURIStore", **common, "collection_name": "outputs_data"}
        },
    }


def _qadapter(a: ClusterAnswers, category: str) -> dict:
    _, values = _template(f"my_qadapter_{a.scheduler}.yaml")
    d = a.config_dir
    values.update(
        rocket_launch=f"rlaunch -c {d} -w {d / f'my_fworker_{category}.yaml'} singleshot",
        walltime=a.walltime,
        queue=a.gpu_queue if category == "gpu" else a.cpu_queue,
        account=a.account,
        job_name=f"cryin-{category}",
        pre_rocket=f"source {d / 'env.sh'}",
        logdir=str(d / "queue_logs"),
    )
    values["ntasks" if a.scheduler == "slurm" else "ppnode"] = a.cpus
    if category == "gpu":
        values["gres" if a.scheduler == "slurm" else "gpus"] = (
            "gpu:1" if a.scheduler == "slurm" else 1
        )
    return {k: v for k, v in values.items() if v is not None}


def write_cluster_config(a: ClusterAnswers) -> dict[str, Path]:
    """Write every file; returns name -> path. Existing files are replaced."""
    if a.store == "mongodb" and not a.mongodb_uri:
        raise ConfigurationError("store 'mongodb' needs a MongoDB URI (--mongodb-uri)")
    a = a.model_copy(
        update={
            "config_dir": a.config_dir.expanduser().resolve(),
            "project_dir": a.project_dir.expanduser().resolve(),
        }
    )
    d = a.config_dir
    d.mkdir(parents=True, exist_ok=True)
    (d / "queue_logs").mkdir(exist_ok=True)
    written: dict[str, Path] = {}

    header, launchpad = _template("my_launchpad.yaml")
    launchpad["name"] = a.fireworks_database
    fw_config = {
        "CONFIG_FILE_DIR": str(d),
        "LAUNCHPAD_LOC": str(d / "my_launchpad.yaml"),
        "FWORKER_LOC": str(d / "my_fworker_any.yaml"),
        "QUEUEADAPTER_LOC": str(d / "my_qadapter.yaml"),
    }
    if a.store == "mongodb":
        launchpad.update(
            host=a.mongodb_uri,
            uri_mode=True,
            mongoclient_kwargs={"serverSelectionTimeoutMS": 5000},
        )
        for key in ("port", "username", "password"):
            launchpad.pop(key, None)
    else:
        server_file = d / "fireworks.json"
        if not server_file.exists():
            server_file.write_text("{}")
        fw_config["MONGOMOCK_SERVERSTORE_FILE"] = str(server_file)
    written["my_launchpad.yaml"] = _write(d / "my_launchpad.yaml", header, launchpad)
    written["FW_config.yaml"] = _write(
        d / "FW_config.yaml", "# FireWorks settings written by `cryin config init`.\n", fw_config
    )
    for category in ("cpu", "gpu", "any"):
        name = f"my_fworker_{category}.yaml"
        header, values = _template(name)
        written[name] = _write(d / name, header, values)
    header, _ = _template(f"my_qadapter_{a.scheduler}.yaml")
    written["my_qadapter.yaml"] = _write(d / "my_qadapter.yaml", header, _qadapter(a, "cpu"))
    written["my_qadapter_gpu.yaml"] = _write(
        d / "my_qadapter_gpu.yaml", header, _qadapter(a, "gpu")
    )
    header, _ = _template("jobflow.yaml")
    written["jobflow.yaml"] = _write(d / "jobflow.yaml", header, {"JOB_STORE": _job_store_spec(a)})
    written["cryin.yaml"] = _write(
        d / "cryin.yaml",
        "# cryin-flows settings written by `cryin config init`: the workers' JobStore.\n",
        {"project_dir": str(a.project_dir), "store": "jobflow"},
    )
    written["env.sh"] = _write(
        d / "env.sh",
        "# Source this (and put it in the queue adapters' pre_rocket) so FireWorks, jobflow\n"
        "# and cryin-flows read the files of this folder.\n",
        f"export FW_CONFIG_FILE={d / 'FW_config.yaml'}\n"
        f"export JOBFLOW_CONFIG_FILE={d / 'jobflow.yaml'}\n"
        f"export CRYIN_CONFIG_FILE={d / 'cryin.yaml'}\n",
    )
    if a.store == "mongodb":
        written["jobflow_remote_project.yaml"] = _write(
            d / "jobflow_remote_project.yaml",
            "# jobflow-remote project (copy to ~/.jfremote/cryin.yaml and edit host, user,\n"
            "# work_dir and pre_run): for runners that can reach MongoDB. `jf project check`.\n",
            jobflow_remote_project(a),
        )
    return written


def jobflow_remote_project(a: ClusterAnswers) -> dict:
    """A jobflow-remote project with a CPU and a GPU worker sharing the JobStore."""
    scheduler = "slurm" if a.scheduler == "slurm" else "pbs"

    def worker(queue: str | None, gpu: bool) -> dict:
        resources = {"nodes": 1, "ntasks": a.cpus, "time": a.walltime}
        if queue:
            resources["partition" if scheduler == "slurm" else "queue"] = queue
        if a.account:
            resources["account"] = a.account
        if gpu:
            resources["gres"] = "gpu:1"
        return {
            "type": "remote",
            "scheduler_type": scheduler,
            "host": "cluster.example.org",
            "user": "your_user",
            "work_dir": str(a.project_dir / "runs"),
            "pre_run": "source ~/cryin-env/bin/activate",
            "resources": resources,
        }

    return {
        "name": "cryin",
        "workers": {"cpu": worker(a.cpu_queue, False), "gpu": worker(a.gpu_queue, True)},
        "queue": {
            "store": {
                "type": "MongoURIStore",
                "uri": a.mongodb_uri,
                "database": a.fireworks_database,
                "collection_name": "jf_jobs",
            }
        },
        "jobstore": _job_store_spec(a),
    }


def check_cluster_config(config_dir: Path | None = None) -> list[tuple[str, bool, str]]:
    """(what, ok, detail) for the JobStore and the LaunchPad of the environment (or folder)."""
    rows: list[tuple[str, bool, str]] = []
    env = dict(os.environ)
    if config_dir is not None:
        d = Path(config_dir).expanduser().resolve()
        env.update(
            FW_CONFIG_FILE=str(d / "FW_config.yaml"),
            JOBFLOW_CONFIG_FILE=str(d / "jobflow.yaml"),
            CRYIN_CONFIG_FILE=str(d / "cryin.yaml"),
        )
    for key in ("FW_CONFIG_FILE", "JOBFLOW_CONFIG_FILE", "CRYIN_CONFIG_FILE"):
        path = env.get(key)
        ok = bool(path) and Path(path).is_file()
        rows.append((key, ok, path or "not set"))
    # a fresh process, so the configuration files are read as a worker would read them
    probe = "from cryin_flows.launchpad.config import _probe; _probe()"
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    for line in result.stdout.splitlines():
        what, ok, detail = line.split("\t", 2)
        rows.append((what, ok == "ok", detail))
    if result.returncode != 0 and not result.stdout:
        rows.append(("probe", False, result.stderr.strip().splitlines()[-1]))
    return rows


def _probe() -> None:
    """Connect to the JobStore and the LaunchPad; print one row each (used by the check)."""
    from cryin_flows.launchpad.stores import describe_store, get_job_store
    from cryin_flows.settings import get_settings

    try:
        settings = get_settings()
        store = get_job_store(settings)
        store.connect()
        print(f"JobStore\tok\t{describe_store(settings)}: {store.count()} job outputs")
    except CryinError as exc:
        print(f"JobStore\tfail\t{exc}")
    except Exception as exc:
        print(f"JobStore\tfail\t{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
    try:
        from cryin_flows.launchpad.fireworks import launchpad_target, open_launchpad

        launchpad = open_launchpad()
        n_fws = launchpad.fireworks.count_documents({})
        states: dict[str, int] = {}
        for doc in launchpad.fireworks.find({}, {"state": 1}):
            states[doc["state"]] = states.get(doc["state"], 0) + 1
        detail = ", ".join(f"{k} {v}" for k, v in sorted(states.items())) or "empty"
        print(f"LaunchPad\tok\t{launchpad_target(launchpad)}: {n_fws} fireworks ({detail})")
    except CryinError as exc:
        print(f"LaunchPad\tfail\t{exc}")
    except Exception as exc:
        print(f"LaunchPad\tfail\t{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
