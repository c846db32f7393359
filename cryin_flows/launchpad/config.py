"""``cryin config init|check``: the FireWorks and jobflow files a cluster run needs, from a few
answers, and a check that they work: the servers connect and the scheduler takes the jobs.

Written to one folder: ``my_launchpad.yaml`` (FireWorks database), ``my_fworker_{cpu,gpu,any}
.yaml`` (workers by category), ``my_qadapter_{cpu,gpu,any}.yaml`` and the job script template
they fill (SLURM or PBS), ``FW_config.yaml`` (with the ping and lost-run settings),
``jobflow.yaml`` (the JobStore workers write to), ``cryin.yaml`` (cryin-flows settings: the
same store), ``env.sh`` (exports that point everything at the folder) and, with a MongoDB
store, ``jobflow_remote_project.yaml`` for jobflow-remote users. Files holding credentials are
written with mode 600.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from cryin_flows.errors import ConfigurationError

TEMPLATES = files("cryin_flows.launchpad") / "templates"
PRIVATE = ("my_launchpad.yaml", "jobflow.yaml", "cryin.yaml", "jobflow_remote_project.yaml")


SCHEDULERS = {
    # scheduler -> FireWorks q_type, submit, queue listing, partition listing commands
    "slurm": {"q_type": "SLURM", "submit": "sbatch", "status": "squeue", "queues": "sinfo"},
    "pbs": {"q_type": "PBS", "submit": "qsub", "status": "qstat", "queues": "qstat"},
}
CATEGORIES = ("cpu", "gpu", "any")


class ClusterAnswers(BaseModel):
    """What ``cryin config init`` asks."""

    config_dir: Path = Field(description="Folder the files are written to")
    project_dir: Path = Field(description="Folder of job runs (and of the embedded store)")
    store: Literal["embedded", "mongodb"] = Field(
        "embedded", description="embedded: files only (single process); mongodb: a server"
    )
    mongodb_uri: str | None = Field(None, description="mongodb:// URI (may hold credentials)")
    database: str | None = Field(
        None, description="Results database; None: the URI's database, else cryin_flows"
    )
    fireworks_database: str | None = Field(
        None,
        description="FireWorks (LaunchPad) database; None: the results database (FireWorks' "
        "collections and the JobStore's do not clash, and many accounts own one database)",
    )
    scheduler: Literal["slurm", "pbs"] = Field("slurm", description="Queue system")
    cpu_queue: str | None = Field(None, description="Partition/queue of CPU jobs")
    gpu_queue: str | None = Field(None, description="Partition/queue of GPU jobs")
    account: str | None = Field(None, description="Allocation charged")
    walltime: str = Field("24:00:00", description="Queue job time limit")
    cpus: int = Field(1, ge=1, description="CPUs of a queue job (one task, this many CPUs)")
    gpus: int | None = Field(
        None,
        ge=0,
        description="GPUs of a GPU queue job; None: 1 when the GPU partition's nodes list GPU "
        "resources (sinfo), else 0",
    )
    lost_after_s: int = Field(
        300,
        ge=10,
        description="A running rocket not heard from in this long is lost (FireWorks' "
        "RUN_EXPIRATION_SECS); rockets report every fifth of it (PING_TIME_SECS)",
    )
    python_bin: Path = Field(
        default_factory=lambda: Path(sys.executable).parent,
        description="Folder of the environment's rlaunch (queue jobs start a login shell, "
        "which may reset PATH)",
    )

    def results_database(self) -> str:
        """The database results go to: --database, else the URI's, else cryin_flows."""
        if self.database:
            return self.database
        if self.mongodb_uri:
            from cryin_flows.launchpad.stores import DEFAULT_DATABASE, _uri_target

            return _uri_target(self.mongodb_uri, None)[1] or DEFAULT_DATABASE
        return "cryin_flows"

    def launchpad_database(self) -> str:
        """The LaunchPad's database: --fireworks-database, else the results database."""
        return self.fireworks_database or self.results_database()


def scheduler_of(qadapter) -> str:
    """'slurm' or 'pbs' from an adapter's queue type."""
    for name, spec in SCHEDULERS.items():
        if spec["q_type"] == qadapter.q_type:
            return name
    raise ConfigurationError(f"queue type {qadapter.q_type!r} is not supported (SLURM, PBS)")


def _template(name: str) -> tuple[str, dict]:
    """(leading comment block, values) of a packaged template."""
    text = (TEMPLATES / name).read_text()
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    return header, yaml.safe_load(text)


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no anchors for repeated values, long lines (commands) kept whole."""

    def ignore_aliases(self, data) -> bool:
        return True


def _write(path: Path, header: str, values: dict | str) -> Path:
    body = (
        values
        if isinstance(values, str)
        else yaml.dump(values, Dumper=_Dumper, sort_keys=False, width=10_000)
    )
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(header + body)
    if path.name in PRIVATE:
        tmp.chmod(0o600)
    tmp.replace(path)
    return path


def _job_store_spec(a: ClusterAnswers) -> dict:
    database = a.results_database()
    if a.store == "embedded":
        common = {
            "type": "MontyStore",
            "database_path": str(a.project_dir / "store"),
            "database_name": database,
            "storage": "sqlite",
        }
        return {
            "docs_store": {**common, "collection_name": "outputs"},
            "additional_stores": {"data": {**common, "collection_name": "outputs_data"}},
        }
    common = {
        "uri": a.mongodb_uri,
        "database": database,
        "mongoclient_kwargs": {"serverSelectionTimeoutMS": 5000},
    }
    return {
        "docs_store": {"type": "MongoStore", **common, "collection_name": "outputs"},
        "additional_stores": {
            "data": {"type": "GridFSStore", **common, "collection_name": "outputs_data"}
        },
    }


def detect_gpus(a: ClusterAnswers) -> int:
    """1 when the GPU partition's nodes list a GPU generic resource (SLURM's ``sinfo``), else
    0 (no scheduler here, no GPUs there, or PBS, whose GPUs are asked for with --gpus)."""
    if a.scheduler != "slurm" or shutil.which("sinfo") is None:
        return 0
    command = ["sinfo", "-h", "-o", "%G", *(["-p", a.gpu_queue] if a.gpu_queue else [])]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return int(any("gpu" in line for line in out.split()))


def _qadapter(a: ClusterAnswers, category: str, gpus: int) -> dict:
    """A FireWorks CommonAdapter for ``category``'s worker: one task with ``a.cpus`` CPUs (and
    ``gpus`` GPUs on the GPU adapter), the rocket started by the environment's absolute
    ``rlaunch``, queue output in ``config_dir/queue_logs``."""
    d = a.config_dir
    scheduler = SCHEDULERS[a.scheduler]
    values: dict = {
        "_fw_name": "CommonAdapter",
        "_fw_q_type": scheduler["q_type"],
        "_fw_template_file": str(d / f"{a.scheduler}_template.txt"),
        "rocket_launch": f"{a.python_bin / 'rlaunch'} -c {d} "
        f"-w {d / f'my_fworker_{category}.yaml'} singleshot",
        "walltime": a.walltime,
        "queue": a.gpu_queue if category == "gpu" else a.cpu_queue,
        "account": a.account,
        "job_name": f"cryin-{category}",
        "pre_rocket": f"source {d / 'env.sh'}",
        "post_rocket": None,
        "logdir": str(d / "queue_logs"),
    }
    with_gpus = gpus if category == "gpu" else 0
    if a.scheduler == "slurm":
        values.update(nodes=1, ntasks=1, cpus_per_task=a.cpus)
        if with_gpus:
            values["gres"] = f"gpu:{with_gpus}"
    else:
        values.update(nnodes=1, ppnode=f"{a.cpus}:gpus={with_gpus}" if with_gpus else a.cpus)
    return {k: v for k, v in values.items() if v is not None}


def _qadapter_header(a: ClusterAnswers, category: str, gpus: int) -> str:
    worker = {"cpu": "CPU jobs", "gpu": "GPU jobs", "any": "every job (no category)"}[category]
    gpu_line = (
        f"# GPUs per job: {gpus} ({'--gpus' if a.gpus is not None else 'from sinfo'}).\n"
        if category == "gpu"
        else ""
    )
    return (
        f"# {a.scheduler.upper()} queue adapter for {worker}, written by `cryin config init`: "
        "one queue job\n# runs one rocket (`cryin launch`, or `qlaunch -r -q THIS -w "
        f"my_fworker_{category}.yaml rapidfire`).\n"
        "# Edit resources to your cluster (keys of the job script template beside it; "
        "`cryin config check`\n# tests them with the scheduler). Queue output goes to "
        "logdir.\n" + gpu_line
    )


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
    launchpad["name"] = a.launchpad_database()
    ping_s = max(2, a.lost_after_s // 5)
    fw_config = {
        "CONFIG_FILE_DIR": str(d),
        "LAUNCHPAD_LOC": str(d / "my_launchpad.yaml"),
        "FWORKER_LOC": str(d / "my_fworker_any.yaml"),
        "QUEUEADAPTER_LOC": str(d / "my_qadapter_cpu.yaml"),
        # a running rocket reports every PING_TIME_SECS; `lpad detect_lostruns` (and `cryin
        # launch`) call a rocket lost after RUN_EXPIRATION_SECS without a report
        "PING_TIME_SECS": ping_s,
        "RUN_EXPIRATION_SECS": a.lost_after_s,
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
        d / "FW_config.yaml",
        f"# FireWorks settings written by `cryin config init`: rockets report every {ping_s} s "
        f"and\n# count as lost after {a.lost_after_s} s of silence (--lost-after).\n",
        fw_config,
    )
    template = f"{a.scheduler}_template.txt"
    written[template] = d / template
    written[template].write_text(
        (TEMPLATES / f"{SCHEDULERS[a.scheduler]['q_type']}_template.txt").read_text()
    )
    gpus = detect_gpus(a) if a.gpus is None else a.gpus
    for category in CATEGORIES:
        name = f"my_fworker_{category}.yaml"
        header, values = _template(name)
        written[name] = _write(d / name, header, values)
        name = f"my_qadapter_{category}.yaml"
        written[name] = _write(
            d / name, _qadapter_header(a, category, gpus), _qadapter(a, category, gpus)
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
        f"export CRYIN_CONFIG_FILE={d / 'cryin.yaml'}\n"
        f'export PATH="{a.python_bin}:$PATH"\n',
    )
    if a.store == "mongodb":
        written["jobflow_remote_project.yaml"] = _write(
            d / "jobflow_remote_project.yaml",
            "# jobflow-remote project: copy to ~/.jfremote/cryin.yaml, then `jf project check`,\n"
            "# `jf admin reset`, `cryin submit --engine jobflow-remote`, `jf runner start`.\n",
            jobflow_remote_project(a, gpus),
        )
    return written


def jobflow_remote_project(a: ClusterAnswers, gpus: int = 0) -> dict:
    """A jobflow-remote project with a ``cpu`` and a ``gpu`` worker (named after the job
    categories; ``gpus`` GPUs a job) sharing the JobStore. The workers are ``local``: the
    runner runs on a login node of the cluster, as ``cryin launch`` does, and submits with the
    scheduler there; each job sources ``env.sh``. For a runner elsewhere, make them ``remote``
    with ``host`` and ``user`` (jobflow-remote's documentation)."""
    scheduler = "slurm" if a.scheduler == "slurm" else "pbs"
    config_dir = a.config_dir.expanduser().resolve()

    def worker(queue: str | None, gpu: bool) -> dict:
        # qtoolkit's template keys: SLURM's sbatch options, PBS Pro's select/walltime
        if scheduler == "slurm":
            resources = {"nodes": 1, "ntasks": 1, "cpus_per_task": a.cpus, "time": a.walltime}
            if gpu and gpus:
                resources["gres"] = f"gpu:{gpus}"
        else:
            select = f"1:ncpus={a.cpus}" + (f":ngpus={gpus}" if gpu and gpus else "")
            resources = {"select": select, "walltime": a.walltime}
        if queue:
            resources["partition" if scheduler == "slurm" else "queue"] = queue
        if a.account:
            resources["account"] = a.account
        return {
            "type": "local",
            "scheduler_type": scheduler,
            "work_dir": str(a.project_dir.expanduser().resolve() / "jobflow_remote"),
            "pre_run": f"source {config_dir / 'env.sh'}",
            "resources": resources,
        }

    return {
        "name": "cryin",
        "workers": {"cpu": worker(a.cpu_queue, False), "gpu": worker(a.gpu_queue, True)},
        "queue": {
            "store": {
                "type": "MongoStore",
                "uri": a.mongodb_uri,
                "database": a.launchpad_database(),
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
    probe = "from cryin_flows.launchpad.checks import _probe; _probe()"
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    for line in result.stdout.splitlines():
        what, ok, detail = line.split("\t", 2)
        rows.append((what, ok == "ok", detail))
    if result.returncode != 0 and not result.stdout:
        rows.append(("probe", False, result.stderr.strip().splitlines()[-1]))
    fw_config = env.get("FW_CONFIG_FILE")
    if fw_config and Path(fw_config).is_file():
        from cryin_flows.launchpad.checks import check_queue

        rows += check_queue(Path(fw_config).resolve().parent)
    return rows
