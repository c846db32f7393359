"""FireWorks submission of a study: ``cryin submit`` converts the flow and adds it to the
LaunchPad, or writes ``wf.yaml`` for ``lpad add``.

The workflow carries no store: every worker writes to the JobStore of its own jobflow
configuration (``JOBFLOW_CONFIG_FILE``), so no credentials are ever serialised.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from jobflow import Flow, Job
from jobflow.managers.fireworks import flow_to_workflow

from cryin_flows.errors import ConfigurationError, StoreConnectionError

INIT_HINT = (
    "`cryin config init --dir DIR --store mongodb --mongodb-uri mongodb://HOST:PORT/DB`, then "
    "`source DIR/env.sh` (sets FW_CONFIG_FILE)"
)


def categorised(flow: Flow | Job) -> Flow | Job:
    """``flow`` with its categories kept and a job without one given its kind's
    (``assign_categories``), so the cpu and gpu workers run every job; returns ``flow``."""
    from cryin_flows.makers.common import assign_categories

    jobs = [flow] if isinstance(flow, Job) else [job for job, _ in flow.iterflow()]
    for job in jobs:
        if not job.config.manager_config.get("_category"):
            assign_categories(job)
    return flow


def study_workflow(flow: Flow | Job):
    """The FireWorks Workflow of ``flow``: one Firework per job, in its category
    (``categorised``)."""
    return flow_to_workflow(categorised(flow))


def workflow_summary(wf) -> dict[str, str]:
    """Fireworks per category, for the submission message."""
    categories = Counter(fw.spec.get("_category", "(any worker)") for fw in wf.fws)
    rows = {"workflow": wf.name, "fireworks": str(len(wf.fws))}
    rows.update({f"category {k}": str(v) for k, v in sorted(categories.items())})
    return rows


def submit_workflow(wf, out: str | Path | None = None, launchpad_file: str | Path | None = None):
    """Write ``wf`` to ``out`` (YAML/JSON by suffix), or add it to the LaunchPad.

    The LaunchPad is ``launchpad_file`` or FireWorks' own lookup (``FW_CONFIG_FILE``,
    ``LAUNCHPAD_LOC``, ``my_launchpad.yaml`` in the working directory). Returns the path written
    or FireWorks' id map.
    """
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        wf.to_file(str(out))
        return out
    return open_launchpad(launchpad_file).add_wf(wf)


def launchpad_target(launchpad) -> str:
    """'host:port, database NAME' of a LaunchPad, without credentials."""
    from cryin_flows.launchpad.stores import mongodb_target

    if "mongomock" in type(launchpad.connection).__module__:
        return f"FireWorks file-backed LaunchPad, database {launchpad.name!r}"
    uri = launchpad.host if launchpad.uri_mode else f"mongodb://{launchpad.host}:{launchpad.port}"
    return mongodb_target(uri, launchpad.name)


def open_launchpad(launchpad_file: str | Path | None = None, timeout_s: float | None = None):
    """The configured LaunchPad, reachable and initialised, or a one-line error saying how to fix.

    ``launchpad_file`` or FireWorks' own lookup (``FW_CONFIG_FILE``, ``LAUNCHPAD_LOC``,
    ``my_launchpad.yaml`` in the working directory); with none configured FireWorks would wait
    on localhost:27017, so that is refused at once. Waits at most ``timeout_s`` (default: the
    ``connect_timeout_s`` setting) for the server.
    """
    from fireworks import LaunchPad
    from fireworks.fw_config import LAUNCHPAD_LOC
    from monty.serialization import loadfn
    from pymongo.errors import OperationFailure, PyMongoError

    from cryin_flows.settings import get_settings

    path = launchpad_file or LAUNCHPAD_LOC
    if path is None:
        raise ConfigurationError(
            f"no FireWorks LaunchPad is configured (FW_CONFIG_FILE is not set and there is no "
            f"my_launchpad.yaml here): run {INIT_HINT}"
        )
    if not Path(path).is_file():
        raise ConfigurationError(f"{path}: LaunchPad file does not exist")
    # read the file once: a file-backed LaunchPad opened twice in one process lets the second
    # copy overwrite the first one's writes when the process ends
    settings = loadfn(str(path))
    timeout_ms = int(
        1000 * (timeout_s if timeout_s is not None else get_settings().connect_timeout_s)
    )
    kwargs = dict(settings.get("mongoclient_kwargs") or {})
    kwargs.update(serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
    launchpad = LaunchPad.from_dict({**settings, "mongoclient_kwargs": kwargs})
    target = launchpad_target(launchpad)
    try:
        initialised = launchpad.fw_id_assigner.find_one({}) is not None
    except OperationFailure as exc:
        raise StoreConnectionError(
            f"LaunchPad ({target}, from {path}) refused the request: {exc.code} "
            f"{exc.details.get('codeName', '') if exc.details else ''} (check the credentials "
            "in the LaunchPad file)"
        ) from None
    except PyMongoError as exc:
        raise StoreConnectionError(
            f"cannot reach the LaunchPad ({target}, from {path}) within {timeout_ms / 1000:g} s: "
            f"{type(exc).__name__}; check that the server runs and the host, port and "
            "credentials in that file"
        ) from None
    if not initialised:
        raise ConfigurationError(
            f"the LaunchPad ({target}) is not initialised: run `lpad reset` once (it asks you "
            "to type the database's name; without a prompt: lpad reset --password "
            "<today's date as YYYY-MM-DD>)"
        )
    return launchpad
