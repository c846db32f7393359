"""FireWorks submission of a study: ``cryin submit`` converts the flow and adds it to the
LaunchPad, or writes ``wf.yaml`` for ``lpad add``.

The workflow carries no store: every worker writes to the JobStore of its own jobflow
configuration (``JOBFLOW_CONFIG_FILE``), so no credentials are ever serialised.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from jobflow import Flow
from jobflow.managers.fireworks import flow_to_workflow

from cryin_flows.errors import ConfigurationError


def study_workflow(flow: Flow):
    """The FireWorks Workflow of ``flow`` (one Firework per job, categories kept)."""
    return flow_to_workflow(flow)


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
    from fireworks import LaunchPad

    if launchpad_file is not None:
        if not Path(launchpad_file).is_file():
            raise ConfigurationError(f"{launchpad_file}: LaunchPad file does not exist")
        launchpad = LaunchPad.from_file(str(launchpad_file))
    else:
        launchpad = LaunchPad.auto_load()
    return launchpad.add_wf(wf)
