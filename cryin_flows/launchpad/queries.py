"""Queries of the results collections (``cryin query``): every job output is one document in
the JobStore's docs collection; its kind is the output's class.

The same in Python::

    store = get_job_store(); store.connect()
    store.query({"output.@class": "PotentialDoc"}, properties=["uuid", "output.metrics"])
"""

from __future__ import annotations

from typing import Any

from jobflow import JobStore

from cryin_flows.errors import ConfigurationError
from cryin_flows.utils import parse_key_value

KINDS: dict[str, str] = {
    "interfaces": "RandomInterfacesDoc",
    "labels": "LabelDoc",
    "frames": "FrameSetDoc",
    "potentials": "PotentialDoc",
    "relaxations": "RelaxDoc",
    "energies": "EnergyDoc",
    "reference-checks": "ReferenceCheckDoc",
    "gan-runs": "GanTrainDoc",
    "generated": "GanGenerateDoc",
    "evaluations": "EvaluationDoc",
    "phase-energies": "PhaseEnergiesDoc",
    "stability": "StabilityDoc",
    "candidates": "CandidatesDoc",
    "screens": "ScreenDoc",
    "md": "MDDoc",
    "transport": "TransportDoc",
    "barriers": "PercolationDoc",
}

# the columns shown per kind (paths inside the output document)
COLUMNS: dict[str, tuple[str, ...]] = {
    "interfaces": ("system", "n_structures", "seed", "start_index", "exchanges_performed"),
    "labels": (
        "calculator",
        "n_relaxations",
        "n_converged",
        "n_bulk_labels",
        "n_contact_labels",
        "n_steps",
    ),
    "frames": ("counts", "n_bulk_frames", "n_contact_frames", "seed"),
    "potentials": (
        "settings.learning_rate",
        "settings.batch_size",
        "epochs",
        "best_epoch",
        "fine_tunes",
        "val_loss",
        "metrics.test.energy_mae_mev_atom",
        "metrics.test.force_mae_mev_a",
        "metrics.test.stress_mae_gpa",
    ),
    "relaxations": ("n_structures", "n_converged", "steps.mean", "settings.fmax"),
    "energies": (
        "e_ref",
        "interface_energy.min",
        "interface_energy.mean",
        "fraction_below_0",
        "n_training_set",
    ),
    "reference-checks": (
        "calculator",
        "energy_offset_mev_atom",
        "energy_mae_mev_atom",
        "reference_max_force_mean",
        "rank_correlation",
    ),
    "gan-runs": ("variant", "bond_weight", "seed", "epochs", "final_losses.wasserstein"),
    "generated": ("variant", "bond_weight", "training_seed", "n_generated", "n_rejected"),
    "evaluations": ("reference", "report"),
    "phase-energies": ("chemistry", "calculator", "energy_scheme", "n_converged"),
    "stability": ("chemistry", "calculator", "summary"),
    "candidates": ("source", "n_candidates", "seed"),
    "screens": ("chemistry", "calculator", "counts", "survivors"),
    "md": ("label", "calculator", "temperatures", "n_atoms", "production_ps", "device", "seconds"),
    "transport": ("species", "summary"),
    "barriers": ("formula", "calculator", "barriers", "barrier", "passes"),
}

# short names for paths inside an output, usable as columns and in filters
ALIASES: dict[str, dict[str, str]] = {
    "gan-runs": {
        "variant": "config.variant",
        "bond_weight": "config.bond_weight",
        "seed": "config.seed",
    },
}

# fields people filter and sort by; indexed on MongoDB (montydb ignores indexes)
INDEXED = (
    "output.@class",
    "uuid",
    "name",
    "completed_at",
    "output.template_hash",
    "output.reference",
    "output.variant",
    "output.bond_weight",
    "output.training_seed",
    *(f"output.{path}" for aliases in ALIASES.values() for path in aliases.values()),
)


def ensure_indexes(store: JobStore) -> None:
    """Create the query indexes (a no-op where the backend has none)."""
    for key in INDEXED:
        try:
            store.docs_store.ensure_index(key)
        except (NotImplementedError, AttributeError):
            return


def parse_filters(pairs: list[str], aliases: dict[str, str] | None = None) -> dict[str, Any]:
    """``["variant=cryingan", "bond_weight=0.05"]`` -> a MongoDB query on the outputs.

    ``name`` and ``uuid`` are the job's; anything else is a path inside the output (or one of
    the kind's ``aliases``).
    """
    aliases = aliases or {}
    query: dict[str, Any] = {}
    for pair in pairs:
        key, value = parse_key_value(pair, "filter", "bond_weight=0.05")
        path = key if key in ("name", "uuid") else f"output.{aliases.get(key, key)}"
        query[path] = value
    return query


def _get(doc: dict, path: str) -> Any:
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def query_outputs(
    store: JobStore,
    kind: str,
    filters: list[str] | None = None,
    limit: int = 0,
) -> list[dict[str, Any]]:
    """Rows (uuid, name, completed_at and the kind's columns), newest first."""
    if kind not in KINDS:
        raise ConfigurationError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    store.connect()
    ensure_indexes(store)
    aliases = ALIASES.get(kind, {})
    criteria = {"output.@class": KINDS[kind], **parse_filters(filters or [], aliases)}
    docs = store.query(
        criteria,
        properties=["uuid", "name", "completed_at", "output"],
        sort={"completed_at": -1},
        limit=limit,
    )
    rows = []
    for doc in docs:
        row = {"uuid": doc["uuid"], "name": doc["name"], "completed_at": doc["completed_at"]}
        row.update({col: _get(doc["output"], aliases.get(col, col)) for col in COLUMNS[kind]})
        rows.append(row)
    return rows


def low_energy_structures(
    store: JobStore, max_energy: float, filters: list[str] | None = None, limit: int = 0
):
    """(rows, InterfaceSet) of every stored structure with γ̃ <= ``max_energy`` J/m².

    Searches the structures of interface-energy documents (random and generated sets); each row
    names the energy job, the frame and its γ̃.
    """
    from cryin_flows.interfaces.interface_set import InterfaceSet
    from cryin_flows.launchpad.stores import load_output

    rows, sets = [], []
    for doc in query_outputs(store, "energies", filters):
        if doc["interface_energy.min"] is None or doc["interface_energy.min"] > max_energy:
            continue
        structures = load_output(doc["uuid"], store).structures
        keep = [
            i
            for i, info in enumerate(structures.infos)
            if float(info.get("interface_energy", float("inf"))) <= max_energy
        ]
        for i in keep:
            rows.append(
                {
                    "energy job": doc["name"],
                    "uuid": doc["uuid"],
                    "frame": i,
                    "interface_energy": structures.infos[i]["interface_energy"],
                    "energy": structures.infos[i].get("energy"),
                    "converged": structures.infos[i].get("converged"),
                }
            )
        if keep:
            sets.append(
                InterfaceSet(
                    structures.lattice,
                    structures.species,
                    structures.frac_coords[keep],
                    [structures.infos[i] for i in keep],
                    structures.template_hash,
                )
            )
    order = sorted(range(len(rows)), key=lambda k: rows[k]["interface_energy"])
    if limit:
        order = order[:limit]
    rows = [rows[k] for k in order]
    if not sets:
        return rows, None
    merged = InterfaceSet.concatenate(sets)  # frames in the order rows were made
    return rows, InterfaceSet(
        merged.lattice,
        merged.species,
        merged.frac_coords[order],
        [merged.infos[k] for k in order],
        merged.template_hash,
    )
