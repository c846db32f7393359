"""Results of a study taken out of the store as files another tool reads: the interface
benchmark system's dataset (a study's GAN training set, its template, its potential)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from cryin_flows.bench.common import DatasetDoc, Progress
from cryin_flows.bench.interface import InterfaceDatasetSettings
from cryin_flows.errors import ConfigurationError
from cryin_flows.launchpad.queries import query_outputs
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.settings import get_settings


def _newest(store, criteria: dict, what: str) -> dict:
    docs = list(store.query(criteria, properties=["uuid", "name"], sort={"completed_at": -1}))
    if not docs:
        raise ConfigurationError(f"no {what} in the store: run the study first (cryin demo/run)")
    return docs[0]


def export_interface_dataset(
    out_dir: Path,
    settings: InterfaceDatasetSettings | None = None,
    progress: Progress | None = None,
) -> DatasetDoc:
    """Export a study's training set, its template and its potential (the interface's
    dataset is built by the study: template, random fill, relaxation, γ̃ <= 0)."""
    settings = settings or InterfaceDatasetSettings()
    start = time.perf_counter()
    store = get_job_store(
        get_settings(**({"project_dir": settings.project_dir} if settings.project_dir else {}))
    )
    store.connect()
    if settings.energy_job:
        uuid = settings.energy_job
        if store.query_one({"uuid": uuid, "output.@class": "EnergyDoc"}) is None:
            raise ConfigurationError(f"energy_job {uuid}: no interface-energy job of that uuid")
    else:
        name = settings.energy_job_name
        rows = query_outputs(store, "energies", [f"name={name}"], limit=1)
        if not rows:
            raise ConfigurationError(
                f"no interface-energy job called {name!r} in the store: run the study first "
                "(cryin demo/run)"
            )
        uuid = rows[0]["uuid"]
    energies = load_output(uuid, store)
    if len(energies.training_set) == 0:
        raise ConfigurationError(f"interface-energy job {uuid} kept no training structures")
    criteria = {
        "output.@class": "InterfaceTemplate",
        "output.template_hash": energies.template_hash,
    }
    found = _newest(store, criteria, "template of that training set")
    template = load_output(found["uuid"], store)
    elements = sorted(set(template.species))
    potentials = [
        doc
        for doc in store.query(
            {"output.@class": "PotentialDoc"},
            properties=["uuid", "output.potential_dir", "output.elements"],
            sort={"completed_at": -1},
        )
        if set(elements) <= set(doc["output"]["elements"])
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    training = energies.training_set.write_extxyz(out_dir / "interface_training.extxyz")
    template_file = template.to_json_file(out_dir / "template.json")
    # the newest potential that knows the elements: the study's chosen one
    potential = potentials[0]["output"]["potential_dir"] if potentials else None
    if progress is not None:
        progress(f"interface: {len(energies.training_set)} structures from job {uuid}")
    gamma = [float(i["interface_energy"]) for i in energies.training_set.infos]
    doc = DatasetDoc(
        system="interface",
        files={"training": str(training), "template": str(template_file)},
        summary={
            "energy_job": uuid,
            "potential_dir": potential,
            "e_ref": energies.e_ref,
            "n_structures": len(energies.training_set),
            "n_atoms": len(template.species),
            "composition": template.composition,
            "template_hash": template.template_hash,
            "interface_energy_mean": float(np.mean(gamma)),
            "max_gamma": energies.max_gamma,
        },
        settings=settings.model_dump(mode="json"),
        seconds=time.perf_counter() - start,
    )
    return doc.write(out_dir)
