"""jobflow-remote as a second engine. Each job goes to the worker named by its category
(``assign_categories`` sets jobflow-remote's ``worker`` beside FireWorks' ``_category``; the
project ``cryin config init --store mongodb`` writes has a ``cpu`` and a ``gpu`` worker), and
the runner writes the outputs to the project's JobStore, the one ``cryin query`` reads."""

from __future__ import annotations

from collections import Counter

from jobflow import Flow, Job

from cryin_flows.errors import ConfigurationError
from cryin_flows.launchpad.fireworks import categorised


def _jobflow_remote():
    try:
        import jobflow_remote
    except ImportError:
        raise ConfigurationError(
            "jobflow-remote is not installed: pip install jobflow-remote (or use FireWorks)"
        ) from None
    return jobflow_remote


def remote_workers(flow: Flow | Job) -> Counter:
    """Jobs per jobflow-remote worker, after ``categorised``; a job whose category was set by
    hand (``_category`` without ``worker``) goes to the worker of that name."""
    flow = categorised(flow)
    jobs = [flow] if isinstance(flow, Job) else [job for job, _ in flow.iterflow()]
    for job in jobs:
        config = job.config.manager_config
        config.setdefault("worker", config["_category"])
    return Counter(job.config.manager_config["worker"] for job in jobs)


def submit_remote(flow: Flow | Job, project: str | None = None) -> tuple[list[str], Counter]:
    """Submit ``flow`` to the jobflow-remote ``project`` (default: jobflow-remote's own choice,
    ``JFREMOTE_PROJECT`` or the only project); a one-line error when a job's worker is not one
    of the project's. Returns the jobs' db ids and the jobs per worker."""
    jfr = _jobflow_remote()
    try:
        settings = jfr.ConfigManager().get_project(project)
    except Exception as exc:  # jobflow-remote's own errors: no project, an unreadable file
        raise ConfigurationError(
            f"jobflow-remote project {project or '(default)'}: {exc}"
        ) from None
    workers = remote_workers(flow)
    missing = sorted(set(workers) - set(settings.workers))
    if missing:
        raise ConfigurationError(
            f"jobflow-remote project {settings.name!r} has no worker {', '.join(missing)} "
            f"(its workers: {', '.join(settings.workers)}); name them after the categories"
        )
    ids = jfr.submit_flow(flow, project=settings.name)
    return list(ids or []), workers
