"""What ``cryin config check`` checks, one row each with the fix: the JobStore and the LaunchPad
(``_probe``, run in a fresh process as a worker would), and the queue side: the scheduler's
commands, the partition, the resources (``sbatch --test-only``, also used to explain a refused
submission in ``cryin launch``) and whether a job script finds ``rlaunch``."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from cryin_flows.errors import CryinError
from cryin_flows.launchpad.config import CATEGORIES, SCHEDULERS, scheduler_of


def dry_run_submission(qadapter, launch_dir: Path) -> str | None:
    """None if the scheduler would accept ``qadapter``'s job script, else its error line.

    SLURM: ``sbatch --test-only`` (nothing is queued). PBS has no dry run: only that ``qsub``
    exists is checked.
    """
    scheduler = scheduler_of(qadapter)
    submit = SCHEDULERS[scheduler]["submit"]
    if shutil.which(submit) is None:
        return f"{submit} not found on PATH: run this on a login node of the cluster"
    if scheduler != "slurm":
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".sh", dir=launch_dir, delete=False) as f:
        f.write(qadapter.get_script_str(str(launch_dir)))
    try:
        result = subprocess.run(
            [submit, "--test-only", f.name], capture_output=True, text=True, timeout=60
        )
    finally:
        Path(f.name).unlink(missing_ok=True)
    if result.returncode == 0:
        return None
    lines = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    return (lines or result.stderr.strip().splitlines() or ["(no message)"])[-1].strip()


def check_queue(config_dir: Path) -> list[tuple[str, bool, str]]:
    """(what, ok, detail) for each queue adapter of ``config_dir``: the scheduler's commands,
    the partition, the resources (``sbatch --test-only``) and whether a job script, started as
    FireWorks starts it (``bash -l``, then pre_rocket), finds rlaunch."""
    from fireworks.utilities.fw_serializers import load_object_from_file

    rows: list[tuple[str, bool, str]] = []
    adapters = [config_dir / f"my_qadapter_{c}.yaml" for c in CATEGORIES]
    adapters = [p for p in adapters if p.is_file()]
    if not adapters:
        return [("queue adapters", False, f"none in {config_dir}: run `cryin config init`")]
    commands_checked: set[str] = set()
    for path in adapters:
        label = path.stem.replace("my_qadapter_", "queue ")
        try:
            adapter = load_object_from_file(str(path))
            scheduler = scheduler_of(adapter)
        except Exception as exc:
            rows.append((label, False, f"{path}: cannot be read: {exc}"))
            continue
        spec = SCHEDULERS[scheduler]
        missing = [
            c for c in (spec["submit"], spec["status"], spec["queues"]) if not shutil.which(c)
        ]
        if scheduler not in commands_checked:
            commands_checked.add(scheduler)
            rows.append(
                (
                    f"{scheduler} commands",
                    not missing,
                    f"{', '.join(missing)} not found: run on a login node with the scheduler"
                    if missing
                    else f"{spec['submit']}, {spec['status']}, {spec['queues']} found",
                )
            )
        if missing:
            continue
        queue = adapter.get("queue")
        if queue:
            ok = _queue_exists(scheduler, queue)
            rows.append(
                (
                    f"{label} partition",
                    ok,
                    f"{queue} exists"
                    if ok
                    else f"{queue!r} is not a {scheduler} partition/queue: fix 'queue' in {path}",
                )
            )
        with tempfile.TemporaryDirectory() as tmp:
            problem = dry_run_submission(adapter, Path(tmp))
        rows.append(
            (
                f"{label} resources",
                problem is None,
                "the scheduler accepts the job"
                + (" (sbatch --test-only)" if scheduler == "slurm" else "")
                if problem is None
                else f"{problem}: edit {path}",
            )
        )
        rows.append(_check_rocket_environment(adapter, label, path))
    return rows


def _queue_exists(scheduler: str, queue: str) -> bool:
    command = (
        ["sinfo", "-h", "-p", queue, "-o", "%P"] if scheduler == "slurm" else ["qstat", "-Q", queue]
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    return result.returncode == 0 and bool(result.stdout.strip())


def _check_rocket_environment(adapter, label: str, path: Path) -> tuple[str, bool, str]:
    """Run pre_rocket and ``rlaunch -h`` in a login shell, as the job script would."""
    rocket = str(adapter.get("rocket_launch", "")).split()
    if not rocket:
        return (f"{label} rlaunch", False, f"no rocket_launch in {path}")
    script = "\n".join([adapter.get("pre_rocket") or "true", f"{rocket[0]} -h >/dev/null"])
    result = subprocess.run(
        ["bash", "-l", "-c", script], capture_output=True, text=True, timeout=120
    )
    if result.returncode == 0:
        return (f"{label} rlaunch", True, f"a login shell runs {rocket[0]}")
    last = (result.stderr.strip().splitlines() or ["exit status " + str(result.returncode)])[-1]
    return (
        f"{label} rlaunch",
        False,
        f"a login shell (bash -l) cannot run {rocket[0]}: {last}; give its absolute path in "
        f"rocket_launch or activate the environment in pre_rocket ({path})",
    )


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
