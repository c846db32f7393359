"""Helpers shared by makers."""

from __future__ import annotations

from pathlib import Path

from jobflow import CURRENT_JOB


def job_folder(given: str | None, stem: str) -> Path:
    """``given``, or ``stem_<job uuid>`` in the working directory, so jobs sharing a folder
    (run_locally without create_folders) never write into each other's files."""
    if given:
        return Path(given).resolve()
    job = CURRENT_JOB.job
    suffix = f"_{job.uuid[:8]}" if job is not None else ""
    return Path(f"{stem}{suffix}").resolve()
