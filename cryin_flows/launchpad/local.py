"""Run a Flow in this process, job by job, so an interrupted run resumes where it stopped.

jobflow's ``run_locally`` reruns every job of a flow. Here the flow is saved first
(``flow.json``); each job runs through ``run_locally`` on its own, in dependency order, and a
job whose output is already in the store is skipped. Rerunning with the saved flow (same job
UUIDs) therefore repeats no completed job. FireWorks runs resume through FireWorks instead
(``lpad detect_lostruns --rerun``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from jobflow import Flow, JobStore, run_locally
from monty.json import MontyDecoder, MontyEncoder
from pymongo.errors import PyMongoError

from cryin_flows.errors import ConfigurationError, StoreConnectionError
from cryin_flows.launchpad.stores import describe_job_store


def save_flow(flow: Flow, path: str | Path) -> Path:
    """Write ``flow`` as JSON (atomically): the record a resumed run starts from."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(flow, cls=MontyEncoder))
    tmp.replace(path)
    return path


def load_flow(path: str | Path) -> Flow:
    """A flow written by ``save_flow``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(f"{path}: no saved flow to resume (run without --resume first)")
    flow = MontyDecoder().decode(path.read_text())
    if not isinstance(flow, Flow):
        raise ConfigurationError(f"{path}: does not hold a jobflow Flow")
    return flow


def _blob_references(node) -> list[dict]:
    """The ``{"blob_uuid", "store"}`` references jobflow leaves in an output for its data."""
    if isinstance(node, dict):
        if "blob_uuid" in node and "store" in node:
            return [node]
        return [ref for value in node.values() for ref in _blob_references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _blob_references(value)]
    return []


def completed_uuids(store: JobStore, uuids: list[str]) -> set[str]:
    """UUIDs among ``uuids`` whose output is in the store, large objects included.

    jobflow writes a job's document before its large objects (the data store); a run cut off
    in between leaves a document whose objects are missing. Such a job counts as not done.
    """
    store.connect()
    docs = list(store.query({"uuid": {"$in": uuids}}, properties=["uuid", "output"], load=False))
    wanted: dict[str, dict[str, str]] = {}  # data store -> blob uuid -> job uuid
    for doc in docs:
        for ref in _blob_references(doc.get("output")):
            wanted.setdefault(ref["store"], {})[ref["blob_uuid"]] = doc["uuid"]
    missing = set()
    for name, blobs in wanted.items():
        data_store = store.additional_stores[name]
        found = set(data_store.distinct("blob_uuid", {"blob_uuid": {"$in": list(blobs)}}))
        missing |= {job for blob, job in blobs.items() if blob not in found}
    return {doc["uuid"] for doc in docs} - missing


def run_resumable(
    flow: Flow,
    store: JobStore,
    root_dir: str | Path,
    on_start: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """Run the jobs of ``flow`` not yet in ``store``; returns counts of run and skipped jobs.

    ``on_start(job name, position, total)`` is called before each job (for progress bars).
    A failing job raises its own exception; the jobs before it stay in the store.
    """
    jobs = [job for job, _ in flow.iterflow()]
    try:
        done = completed_uuids(store, [job.uuid for job in jobs])
    except PyMongoError as exc:
        raise StoreConnectionError(
            f"cannot read the results store ({describe_job_store(store)}): {type(exc).__name__}"
        ) from None
    root_dir = Path(root_dir)
    root_dir.mkdir(parents=True, exist_ok=True)
    ran = 0
    for position, job in enumerate(jobs):
        if job.uuid in done:
            continue
        if on_start:
            on_start(job.name, position, len(jobs))
        job.hosts = []  # run it as a flow of its own; its inputs resolve from the store
        try:
            run_locally(
                job,
                store=store,
                create_folders=True,
                root_dir=root_dir,
                log=False,
                ensure_success=True,
                allow_external_references=True,
                raise_immediately=True,
            )
        except PyMongoError as exc:
            raise StoreConnectionError(
                f"lost the results store ({describe_job_store(store)}) during job "
                f"{job.name!r}: {type(exc).__name__}. The {ran + len(done)} jobs finished "
                "before it are stored; once the server is back, rerun with --resume"
            ) from None
        ran += 1
    return {"ran": ran, "skipped": len(done), "total": len(jobs)}
