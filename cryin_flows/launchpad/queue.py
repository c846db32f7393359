"""``cryin launch``: keep each category's queue fed until the workflows end.

One loop for all categories, in FireWorks' reservation mode: each READY Firework that a worker
may run is reserved and gets one queue job of that worker's adapter (never more jobs than
Fireworks), so a study whose jobs alternate between CPU and GPU stages runs to the end without
a person restarting ``qlaunch``. It stops with status 0 when every watched Firework is
COMPLETED, and with status 1 and one line that says what to do when:

* a Firework FIZZLED (its launch folder and the ``lpad`` commands to inspect and rerun it);
* the scheduler refused a job (``sbatch``/``qsub`` error, e.g. a bad partition or gres);
* a queue job ended without starting its rocket (the environment was not found, say): its
  reservation is released and its queue output named.

Rockets lost while running (``scancel``, walltime, a node failure) are found as FireWorks finds
them, by ``RUN_EXPIRATION_SECS`` without a ping (``cryin config init --lost-after``), and set
back to READY (``--no-rerun-lost`` leaves that to ``lpad detect_lostruns --rerun``).
"""

from __future__ import annotations

import getpass
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryin_flows.errors import ConfigurationError, CryinError
from cryin_flows.launchpad.checks import dry_run_submission
from cryin_flows.launchpad.config import CATEGORIES, SCHEDULERS, scheduler_of


class QueueError(CryinError):
    """The queue loop cannot go on: a refused submission, a dead job, a FIZZLED Firework."""


@dataclass
class Lane:
    """One category's worker and queue adapter."""

    category: str
    fworker: object
    qadapter: object
    adapter_path: Path

    @property
    def query(self) -> dict:
        """Fireworks this worker may run (FireWorks' own worker query)."""
        return self.fworker.query


def load_lanes(config_dir: Path, categories: tuple[str, ...]) -> list[Lane]:
    """The workers and adapters of ``categories`` from a ``cryin config init`` folder."""
    from fireworks.core.fworker import FWorker
    from fireworks.utilities.fw_serializers import load_object_from_file

    lanes = []
    for category in categories:
        if category not in CATEGORIES:
            raise ConfigurationError(f"unknown category {category!r}: use {', '.join(CATEGORIES)}")
        worker = config_dir / f"my_fworker_{category}.yaml"
        adapter = config_dir / f"my_qadapter_{category}.yaml"
        for path in (worker, adapter):
            if not path.is_file():
                raise ConfigurationError(f"{path} does not exist: run `cryin config init` again")
        lanes.append(
            Lane(
                category,
                FWorker.from_file(str(worker)),
                load_object_from_file(str(adapter)),
                adapter,
            )
        )
    if any(lane.category == "any" for lane in lanes) and len(lanes) > 1:
        raise ConfigurationError(
            "the 'any' worker runs every job: launch it alone, or the cpu and gpu workers"
        )
    return lanes


def live_job_ids(scheduler: str) -> set[str] | None:
    """Ids of this user's queue jobs that are pending or running; None if unknown."""
    user = getpass.getuser()
    command = (
        ["squeue", "-h", "-u", user, "-o", "%i"] if scheduler == "slurm" else ["qstat", "-u", user]
    )
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    ids = set()
    for line in result.stdout.splitlines():
        token = line.strip().split()[0] if line.strip() else ""
        if token and token[0].isdigit():
            ids.add(token.split(".")[0])
    return ids


@dataclass
class LaunchLoop:
    """The queue loop of ``cryin launch`` (see the module docstring)."""

    launchpad: object
    lanes: list[Lane]
    launch_dir: Path
    sleep_s: float = 10.0
    max_queued: int | None = None
    rerun_lost: bool = True
    wf_ids: list[int] | None = None
    log: Callable[[str], None] = print
    _suspects: set[str] = field(default_factory=set)
    _submitted: int = 0

    def watched(self) -> dict:
        """The Fireworks query of the watched workflows."""
        if not self.wf_ids:
            return {}
        fw_ids = []
        for wf_id in self.wf_ids:
            wf = self.launchpad.workflows.find_one({"nodes": wf_id}, {"nodes": 1})
            if wf is None:
                raise ConfigurationError(f"no workflow with Firework id {wf_id} in the LaunchPad")
            fw_ids += wf["nodes"]
        return {"fw_id": {"$in": fw_ids}}

    def run(self, timeout_s: float | None = None) -> int:
        """Loop until done; returns the number of queue jobs submitted."""
        start = time.monotonic()
        query = self.watched()
        while True:
            states = {
                d["fw_id"]: (d["state"], d["name"])
                for d in self.launchpad.fireworks.find(query, {"fw_id": 1, "state": 1, "name": 1})
            }
            if not states:
                raise QueueError("the LaunchPad has no Fireworks: `cryin submit` a study first")
            if all(state == "COMPLETED" for state, _ in states.values()):
                self.log(
                    f"all {len(states)} Fireworks COMPLETED ({self._submitted} queue jobs "
                    "submitted by this loop)"
                )
                return self._submitted
            self._stop_on_fizzled(states)
            self._stop_on_unrunnable(query)
            if self.rerun_lost:
                self._rerun_lost(query)
            self._release_dead_reservations(query)
            for lane in self.lanes:
                self._feed(lane, query)
            active = {"READY", "WAITING", "RESERVED", "RUNNING"}
            if not any(state in active for state, _ in states.values()):
                left = sorted({s for s, _ in states.values()} - {"COMPLETED"})
                raise QueueError(f"nothing left to run: Fireworks in {', '.join(left)}")
            if timeout_s is not None and time.monotonic() - start > timeout_s:
                raise QueueError(f"not finished within {timeout_s:g} s")
            time.sleep(self.sleep_s)

    def _stop_on_fizzled(self, states: dict) -> None:
        fizzled = [(fw_id, name) for fw_id, (state, name) in states.items() if state == "FIZZLED"]
        if not fizzled:
            return
        fw_id, name = fizzled[0]
        try:
            folder = self.launchpad.get_launchdir(fw_id)
        except Exception:
            folder = "?"
        raise QueueError(
            f"Firework {fw_id} ({name!r}) FIZZLED"
            + (f" and {len(fizzled) - 1} more" if len(fizzled) > 1 else "")
            + f": see {folder} and `lpad get_fws -i {fw_id} -d all`; after fixing, "
            f"`lpad rerun_fws -i {fw_id}` and run `cryin launch` again"
        )

    def _stop_on_unrunnable(self, query: dict) -> None:
        """A READY Firework that none of the fed workers may run would wait for ever."""
        orphan = self.launchpad.fireworks.find_one(
            {"$and": [query, {"state": "READY"}, {"$nor": [lane.query for lane in self.lanes]}]},
            {"fw_id": 1, "name": 1, "spec._category": 1},
        )
        if orphan is None:
            return
        fed = ", ".join(lane.category for lane in self.lanes)
        category = orphan.get("spec", {}).get("_category", "none")
        raise QueueError(
            f"Firework {orphan['fw_id']} ({orphan['name']!r}, category {category}) is READY but "
            f"none of the workers fed ({fed}) runs it: give the job a category (`cryin submit` "
            "does) or feed the 'any' worker (--category any)"
        )

    def _rerun_lost(self, query: dict) -> None:
        from fireworks.fw_config import RUN_EXPIRATION_SECS

        _, lost, _ = self.launchpad.detect_lostruns(
            expiration_secs=RUN_EXPIRATION_SECS, rerun=True, query=query or None
        )
        for fw_id in lost:
            self.log(
                f"Firework {fw_id} was lost (no ping for {RUN_EXPIRATION_SECS} s: its queue "
                "job was killed or its node failed); set back to READY"
            )

    def _release_dead_reservations(self, query: dict) -> None:
        """A RESERVED Firework whose queue job is gone, seen twice: its job ended without
        starting the rocket. Release it and stop, naming the job's output."""
        reserved = list(self.launchpad.fireworks.find({**query, "state": "RESERVED"}, {"fw_id": 1}))
        if not reserved:
            self._suspects.clear()
            return
        schedulers = {scheduler_of(lane.qadapter) for lane in self.lanes}
        live: set[str] = set()
        for scheduler in schedulers:
            ids = live_job_ids(scheduler)
            if ids is None:
                return  # the queue cannot be read just now: judge nothing
            live |= ids
        suspects = set()
        for doc in reserved:
            job_id = self.launchpad.get_reservation_id_from_fw_id(doc["fw_id"])
            if job_id is None or str(job_id) in live:
                continue
            key = f"{doc['fw_id']}:{job_id}"
            fw = self.launchpad.fireworks.find_one({"fw_id": doc["fw_id"]}, {"state": 1})
            if fw is None or fw["state"] != "RESERVED":
                continue
            if key in self._suspects:
                self.launchpad.cancel_reservation_by_reservation_id(job_id)
                folders = {Path(lane.qadapter.get("logdir", ".")) for lane in self.lanes}
                files = sorted(str(p) for d in folders for p in d.glob(f"*-{job_id}.*"))
                tail = _last_line(files)
                raise QueueError(
                    f"queue job {job_id} of Firework {doc['fw_id']} ended without starting "
                    f"its rocket (reservation released): {tail or 'no output'}; see "
                    f"{', '.join(files) or 'the adapter logdir'}; `cryin config check` tests "
                    "that a job finds rlaunch"
                )
            suspects.add(key)
        self._suspects = suspects

    def _feed(self, lane: Lane, query: dict) -> None:
        from fireworks.queue.queue_launcher import launch_rocket_to_queue

        _quiet(lane.qadapter)

        lane_query = {**query, **lane.query}
        queued = self.launchpad.fireworks.count_documents({**lane_query, "state": "RESERVED"})
        while self.max_queued is None or queued < self.max_queued:
            ready = self.launchpad.fireworks.count_documents({**lane_query, "state": "READY"})
            if not ready:
                return
            job_id = launch_rocket_to_queue(
                self.launchpad,
                lane.fworker,
                lane.qadapter,
                str(self.launch_dir),
                reserve=True,
                strm_lvl="ERROR",
                create_launcher_dir=True,
            )
            if not job_id:
                if job_id is None:  # nothing for this worker after all (a race): next round
                    return
                reason = dry_run_submission(lane.qadapter, self.launch_dir)
                submit = SCHEDULERS[scheduler_of(lane.qadapter)]["submit"]
                raise QueueError(
                    f"{submit} refused the {lane.category} job ({lane.adapter_path}): "
                    f"{reason or 'see the adapter logdir'}; edit the adapter and run "
                    "`cryin config check`"
                )
            queued += 1
            self._submitted += 1
            fw_ids = self.launchpad.get_fw_ids_from_reservation_id(job_id)
            names = [d["name"] for d in self.launchpad.fireworks.find({"fw_id": {"$in": fw_ids}})]
            self.log(
                f"submitted {lane.category} queue job {job_id}: Firework "
                f"{', '.join(map(str, fw_ids))} ({', '.join(names)})"
            )


def _quiet(qadapter) -> None:
    """The adapter's logger keeps its file in logdir but stops echoing INFO lines to the
    terminal: the loop prints its own line per submission."""
    import logging

    logger = qadapter.get_qlogger(f"qadapter.{qadapter.q_name}")
    for handler in logger.handlers:
        if type(handler) is logging.StreamHandler:
            handler.setLevel(logging.WARNING)


def _last_line(files: list[str]) -> str:
    for name in sorted(files, key=lambda n: not n.endswith(".error")):
        lines = [line for line in Path(name).read_text(errors="replace").splitlines() if line]
        if lines:
            return lines[-1].strip()[:300]
    return ""
