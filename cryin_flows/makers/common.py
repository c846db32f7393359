"""Helpers shared by makers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from jobflow import CURRENT_JOB, Flow, Job

from cryin_flows.errors import ConfigurationError


def job_folder(given: str | None, stem: str) -> Path:
    """``given``, or ``stem_<job uuid>`` in the working directory, so jobs sharing a folder
    (run_locally without create_folders) never write into each other's files."""
    if given:
        return Path(given).resolve()
    job = CURRENT_JOB.job
    suffix = f"_{job.uuid[:8]}" if job is not None else ""
    return Path(f"{stem}{suffix}").resolve()


# ---------------------------------------------------------------- FireWorks categories
DEFAULT_CATEGORIES: dict[str, str] = {"cpu": "cpu", "gpu": "gpu"}


def job_kind(job: Job) -> str:
    """'gpu' or 'cpu': the node a job is meant for, its maker's ``node_kind`` (class
    attribute; 'gpu' for potential training, batched relaxation and CryinGAN), else 'cpu'."""
    return getattr(job.maker, "node_kind", "cpu")


def assign_categories(flow: Flow | Job, categories: Mapping[str, str] | None = None) -> Flow | Job:
    """Give every job in ``flow`` the category of its kind (``job_kind``), named by
    ``categories`` (kind -> category, default ``cpu``/``gpu``), so no job waits for a worker
    without a category: as FireWorks' ``_category`` and as jobflow-remote's ``worker`` (the
    generated project names its workers after the categories). Jobs created at run time (a
    ``Response``) inherit both; other manager settings (``_priority``, ``_fworker``) stay.
    Returns ``flow``."""
    names = {**DEFAULT_CATEGORIES, **(categories or {})}
    jobs = [flow] if isinstance(flow, Job) else [job for job, _ in flow.iterflow()]
    for job in jobs:
        category = names.get(job_kind(job))
        if not category:
            raise ConfigurationError(
                f"job {job.name!r}: no FireWorks category for {job_kind(job)!r} jobs "
                f"(categories: {names})"
            )
        job.update_config(
            {"_set": {"manager_config->_category": category, "manager_config->worker": category}},
            dict_mod=True,
            dynamic=True,
        )
    return flow
