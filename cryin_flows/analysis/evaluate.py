"""Generated vs training structures: fingerprints, motifs, bonds, RDFs, energies, failures.

``evaluate`` fingerprints every dataset once and calls one function per metric
(``analysis.metrics``); it returns an ``EvaluationResult`` and builds no document.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from cryin_flows.analysis.metrics import (
    DatasetData,
    dataset_summaries,
    fingerprint_distances,
    interval_method,
    motifs_and_bonds,
    rdf_curve,
    region_profile,
)
from cryin_flows.analysis.results import EvaluationResult, EvaluationSettings
from cryin_flows.analysis.sites import FingerprintCache, fingerprint_dataset
from cryin_flows.errors import ConfigurationError, TemplateMismatchError
from cryin_flows.interfaces.energy import e_ref_for_lowest, interface_energy
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.template import InterfaceTemplate


def _check_same_system(datasets: dict[str, InterfaceSet], reference: str) -> None:
    ref = datasets[reference]
    for name, data in datasets.items():
        if len(data) == 0:
            raise TemplateMismatchError(f"dataset {name!r} has no structures")
        if data.species != ref.species:
            raise TemplateMismatchError(
                f"dataset {name!r} has another atom order or composition than {reference!r} "
                "(different template)"
            )
        if np.abs(data.lattice - ref.lattice).max() > 1e-3:
            raise TemplateMismatchError(
                f"dataset {name!r} has another lattice than {reference!r} (different template)"
            )


def _energies(
    data: InterfaceSet, n_atoms: int, area: float, e_ref: float | None
) -> np.ndarray | None:
    if all("interface_energy" in info for info in data.infos):
        return np.array([float(info["interface_energy"]) for info in data.infos])
    if all("energy" in info for info in data.infos) and e_ref is not None:
        total = np.array([float(info["energy"]) for info in data.infos])
        return interface_energy(total, n_atoms, e_ref, area)
    return None


def evaluate(
    datasets: dict[str, InterfaceSet],
    reference: str,
    template: InterfaceTemplate,
    settings: EvaluationSettings | None = None,
    requested: dict[str, int] | None = None,
    cache_dir: str | Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> EvaluationResult:
    """Compare every dataset with ``reference``.

    ``template`` gives the interface area and finds each structure's region.
    ``progress(dataset, done, total)`` is called as structures are fingerprinted.
    """
    settings = settings or EvaluationSettings()
    if reference not in datasets:
        raise ConfigurationError(f"reference dataset {reference!r} not among {list(datasets)}")
    _check_same_system(datasets, reference)
    area = template.area
    cache = FingerprintCache(cache_dir)
    ref_set = datasets[reference]
    n_atoms = len(ref_set.species)

    e_ref = settings.e_ref
    if e_ref is None and all("energy" in i for i in ref_set.infos):
        e_ref = e_ref_for_lowest(
            [float(i["energy"]) for i in ref_set.infos], n_atoms, area, settings.lowest_gamma
        )

    data: dict[str, DatasetData] = {}
    for name, structures in datasets.items():
        done = [0]
        total = len(structures)

        def tick(k: int, name=name, done=done, total=total) -> None:
            done[0] += k
            if progress:
                progress(name, done[0], total)

        sites = fingerprint_dataset(
            structures,
            settings.sites,
            template,
            settings.oxidation_states,
            cache,
            settings.workers,
            tick,
        )
        data[name] = DatasetData(
            name=name,
            structures=structures,
            sites=sites,
            energies=_energies(structures, n_atoms, area, e_ref),
            n_requested=(requested or {}).get(name, len(structures)),
        )

    ref = data[reference]
    elements = [el for el in settings.cations if any(el in s.elements for s in ref.sites)]
    distances = {
        name: fingerprint_distances(ref.sites, d.sites, elements, settings)
        for name, d in data.items()
        if name != reference
    }
    motifs, bonds = motifs_and_bonds(data, reference, elements, settings)
    return EvaluationResult(
        reference=reference,
        datasets=dataset_summaries(data, template, settings),
        fingerprint_distances=distances,
        motifs=motifs,
        bond_counts=bonds,
        rdfs=[rdf_curve(data, pair, template, settings) for pair in settings.rdf_pairs],
        settings=settings,
        interval_method=interval_method(settings),
        region_profile=region_profile(template, ref_set) if settings.sites == "region" else None,
        area=area,
        e_ref=e_ref,
        template_hash=template.template_hash,
        cache_hits=cache.hits,
    )
