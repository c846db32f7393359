"""Generated vs training structures: fingerprints, motifs, bonds, RDFs, energies, failures."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from cryin_flows.analysis.fingerprints import DEFAULT_ANIONS, PAPER_OXIDATION_STATES
from cryin_flows.analysis.sites import (
    CATIONS,
    FingerprintCache,
    StructureSites,
    fingerprint_dataset,
)
from cryin_flows.analysis.statistics import (
    Interval,
    bootstrap,
    fingerprint_metrics,
    interval,
    structure_means,
)
from cryin_flows.errors import ConfigurationError, TemplateMismatchError
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.neighbours import count_close_pairs, pair_distances
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.potentials.interface_energy import (
    LOWEST_GAMMA,
    e_ref_for_lowest,
    interface_energy,
)
from cryin_flows.schemas.common import Stats
from cryin_flows.schemas.evaluation import (
    BondCounts,
    DatasetSummary,
    EnergySummary,
    EvaluationDoc,
    FingerprintDistance,
    MotifRow,
    RdfCurve,
    RegionProfile,
)
from cryin_flows.utils import SerializableModel


class EvaluationSettings(SerializableModel):
    """How datasets are compared; recorded in the EvaluationDoc."""

    sites: Literal["region", "all"] = Field(
        "region",
        description="'region': the cations of each structure's own interface region (the "
        "CryinGAN paper); 'all': every Li, Sc, Co site (Dismai-Bench)",
    )
    cations: tuple[str, ...] = Field(CATIONS, description="Elements fingerprinted")
    oxidation_states: dict[str, float] = Field(
        default_factory=lambda: dict(PAPER_OXIDATION_STATES), description="For CrystalNN"
    )
    n_resamples: int = Field(1000, ge=10, description="Bootstrap resamples of structures")
    bootstrap: Literal["generated", "both"] = Field(
        "generated",
        description="Fingerprint-distance intervals: resample the compared set against the "
        "fixed reference average (the published Dismai-Bench scripts), or both sets",
    )
    seed: int = Field(7, description="Bootstrap seed (7, the published scripts' default)")
    workers: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1), description="Processes"
    )
    motif_min_fraction: float = Field(0.01, description="Motifs shown: > this share of ref sites")
    rdf_pairs: list[tuple[str, str]] = Field(
        default_factory=lambda: [("Sc", "O"), ("Sc", "Sc"), ("Li", "Li")],
        description="Partial RDFs (centre in the region, neighbour anywhere)",
    )
    rdf_r_max: float = Field(8.0, description="RDF range, Å")
    rdf_bin: float = Field(0.05, description="RDF bin width, Å")
    e_ref: float | None = Field(
        None, description="eV/atom; None = the lowest reference structure at lowest_gamma"
    )
    lowest_gamma: float = Field(LOWEST_GAMMA, description="J/m² for the e_ref rule")
    energy_bin: float = Field(0.05, description="Histogram bin width, J/m²")
    close_threshold: float = Field(1.5, description="Close-pair threshold, Å")


@dataclass
class DatasetData:
    """One dataset and everything computed from it (what plots need beyond the document)."""

    name: str
    structures: InterfaceSet
    sites: list[StructureSites]
    energies: np.ndarray | None
    n_requested: int


def _dataset_hash(structures: InterfaceSet) -> str:
    import hashlib

    digest = hashlib.sha256()
    digest.update(np.round(structures.frac_coords, 6).tobytes())
    digest.update(np.round(structures.lattice, 6).tobytes())
    digest.update(",".join(structures.species).encode())
    return digest.hexdigest()


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


def _element_sums(
    sites: list[StructureSites], element: str | None
) -> tuple[np.ndarray, np.ndarray]:
    n_features = next((s.vectors.shape[1] for s in sites if len(s.vectors)), 109)
    sums = np.zeros((len(sites), n_features))
    counts = np.zeros(len(sites))
    for k, s in enumerate(sites):
        mask = (
            np.ones(len(s.elements), bool)
            if element is None
            else np.array([e == element for e in s.elements], bool)
        )
        if mask.any():
            sums[k] = s.vectors[mask].sum(axis=0)
            counts[k] = mask.sum()
    return sums, counts


def _motif_label(site: StructureSites, i: int, anions: tuple[str, ...]) -> str:
    n_o = int(site.anion_counts[i][anions.index("O")]) if "O" in anions else 0
    return f"{site.motifs[i]} ({n_o} O)"


def evaluate(
    datasets: dict[str, InterfaceSet],
    reference: str,
    template: InterfaceTemplate,
    settings: EvaluationSettings | None = None,
    requested: dict[str, int] | None = None,
    cache_dir: str | Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[EvaluationDoc, dict[str, DatasetData]]:
    """Compare every dataset with ``reference``; returns the document and per-dataset data.

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
    anions = DEFAULT_ANIONS
    rs = settings.n_resamples
    elements = [el for el in settings.cations if any(el in s.elements for s in ref.sites)]

    # fingerprint distances to the reference, per element and over all cation sites
    distances = {
        name: _fingerprint_distances(ref.sites, d.sites, elements, settings)
        for name, d in data.items()
        if name != reference
    }

    # most likely motifs (split by O neighbours) and O / Cl bond counts per cation
    motifs: dict[str, list[MotifRow]] = {}
    bonds: dict[str, dict[str, BondCounts]] = {}
    for el in elements:
        labels_ref: dict[str, int] = {}
        for s in ref.sites:
            for i, e in enumerate(s.elements):
                if e == el:
                    label = _motif_label(s, i, anions)
                    labels_ref[label] = labels_ref.get(label, 0) + 1
        total_ref = sum(labels_ref.values())
        shown = sorted(
            (lab for lab, c in labels_ref.items() if c / total_ref > settings.motif_min_fraction),
            key=lambda lab: (_cn_of(lab), lab),
        )
        rows = {lab: MotifRow(label=lab, element=el, fractions={}) for lab in shown}
        bonds[el] = {}
        for name, d in data.items():
            counts = np.zeros((len(d.sites), len(shown)))
            totals = np.zeros(len(d.sites))
            bond_sums = np.zeros((len(d.sites), len(anions)))
            for k, s in enumerate(d.sites):
                for i, e in enumerate(s.elements):
                    if e != el:
                        continue
                    totals[k] += 1
                    bond_sums[k] += s.anion_counts[i]
                    label = _motif_label(s, i, anions)
                    if label in rows:
                        counts[k, shown.index(label)] += 1
            if not totals.any():
                continue
            value, low, high = bootstrap(
                lambda idx, c=counts, t=totals: c[idx].sum(0) / max(t[idx].sum(), 1),
                (len(d.sites),),
                rs,
                settings.seed,
            )
            for j, lab in enumerate(shown):
                rows[lab].fractions[name] = Interval(
                    value=float(value[j]), low=float(low[j]), high=float(high[j])
                )
            value, low, high = bootstrap(
                lambda idx, b=bond_sums, t=totals: b[idx].sum(0) / max(t[idx].sum(), 1),
                (len(d.sites),),
                rs,
                settings.seed,
            )
            bonds[el][name] = BondCounts(
                **{
                    a: Interval(value=float(value[j]), low=float(low[j]), high=float(high[j]))
                    for j, a in enumerate(anions)
                }
            )
        motifs[el] = list(rows.values())

    rdfs = [_rdf(data, pair, template, settings) for pair in settings.rdf_pairs]

    summaries = {}
    energy_edges = _energy_edges(data, settings.energy_bin)
    for name, d in data.items():
        close = count_close_pairs(
            d.structures.frac_coords, d.structures.lattice, settings.close_threshold
        )
        not_converged = sum(1 for info in d.structures.infos if info.get("converged") is False)
        failed = d.n_requested - len(d.structures) + not_converged
        energy = None
        if d.energies is not None:
            e = d.energies
            energy = EnergySummary(
                mean=float(e.mean()),
                fraction_below_0=interval(
                    lambda i, e=e: (e[i] <= 0).mean(), (len(e),), rs, settings.seed
                ),
                fraction_below_minus_0_2=interval(
                    lambda i, e=e: (e[i] <= -0.2).mean(), (len(e),), rs, settings.seed
                ),
                histogram_edges=energy_edges.tolist(),
                histogram_counts=np.histogram(e, energy_edges)[0].tolist(),
            )
        gaps = (
            Stats.of(template.locate_region(c).gap for c in d.structures.cart_coords())
            if settings.sites == "region"
            else None
        )
        summaries[name] = DatasetSummary(
            n_structures=len(d.structures),
            n_requested=d.n_requested,
            failed_percent=100.0 * failed / d.n_requested if d.n_requested else 0.0,
            sites_per_element={
                el: int(sum(s.elements.count(el) for s in d.sites)) for el in settings.cations
            },
            close_pairs_mean=float(close.mean()),
            fraction_with_close_pairs=float((close > 0).mean()),
            energy=energy,
            region_gap=gaps,
            content_hash=_dataset_hash(d.structures),
        )

    doc = EvaluationDoc(
        reference=reference,
        datasets=summaries,
        fingerprint_distances=distances,
        motifs=motifs,
        bond_counts=bonds,
        rdfs=rdfs,
        settings=settings,
        interval_method=_interval_method(settings),
        region_profile=_region_profile(template, ref_set) if settings.sites == "region" else None,
        area=area,
        e_ref=e_ref,
        template_hash=template.template_hash,
        cache_hits=cache.hits,
    )
    return doc, data


def _fingerprint_distances(
    ref_sites: list[StructureSites],
    sites: list[StructureSites],
    elements: list[str],
    settings: EvaluationSettings,
) -> dict[str, FingerprintDistance]:
    """Distances of a dataset's average fingerprints to the reference's, per element and 'all'.

    Per element: the average over the element's sites of each structure, then over
    structures. 'all': the mean of the per-element averages weighted by the reference's
    sites per structure of each element (Dismai-Bench: 72 Li, 36 Co, 12 Sc with all sites),
    over the elements both datasets have. Intervals: ``settings.bootstrap``.
    """
    present = [
        el for el in elements if any(el in s.elements for s in sites)
    ]  # elements with sites in this dataset (the reference has all of ``elements``)
    if not present:
        return {}
    ref_parts = {el: _element_sums(ref_sites, el) for el in present}
    parts = {el: _element_sums(sites, el) for el in present}
    weights = np.array([ref_parts[el][1].sum() / len(ref_sites) for el in present])

    def averages(parts_, idx) -> np.ndarray:
        return np.array([structure_means(*parts_[el], idx) for el in present])

    def statistic(i_ref, i_gen) -> np.ndarray:
        ref_avg, avg = averages(ref_parts, i_ref), averages(parts, i_gen)
        rows = [fingerprint_metrics(ref_avg[k], avg[k]) for k in range(len(present))]
        rows.append(
            fingerprint_metrics(weights @ ref_avg / weights.sum(), weights @ avg / weights.sum())
        )
        return np.array(rows)

    full_ref = np.arange(len(ref_sites))
    if settings.bootstrap == "generated":
        value, low, high = bootstrap(
            lambda i: statistic(full_ref, i), (len(sites),), settings.n_resamples, settings.seed
        )
    else:
        value, low, high = bootstrap(
            statistic, (len(ref_sites), len(sites)), settings.n_resamples, settings.seed
        )
    out = {}
    for k, el in enumerate([*present, "all"]):
        ivs = [
            Interval(value=float(value[k, j]), low=float(low[k, j]), high=float(high[k, j]))
            for j in range(3)
        ]
        n_sites = (
            int(parts[el][1].sum()) if el != "all" else int(sum(p[1].sum() for p in parts.values()))
        )
        out[el] = FingerprintDistance(
            euclidean=ivs[0], cosine_similarity=ivs[1], cosine_distance=ivs[2], n_sites=n_sites
        )
    return out


def _region_profile(template: InterfaceTemplate, structures: InterfaceSet) -> RegionProfile:
    geometry = template.locate_region(structures.cart_coords()[0])
    in_region = np.zeros(len(structures.species), dtype=bool)
    in_region[geometry.indices] = True
    return RegionProfile(
        structure=0,
        species=structures.species,
        heights=np.round(geometry.heights, 4).tolist(),
        in_region=in_region.tolist(),
        substrate_plane_z=geometry.substrate_plane_z,
        film_plane_z=geometry.film_plane_z,
    )


def _interval_method(settings: EvaluationSettings) -> str:
    resampled = (
        "the compared set's structures, the reference average held fixed (as the published "
        "Dismai-Bench scripts)"
        if settings.bootstrap == "generated"
        else "the structures of both the compared set and the reference"
    )
    return (
        f"95 % pivotal (basic) bootstrap intervals, [2θ̂ − q97.5, 2θ̂ − q2.5], from "
        f"{settings.n_resamples} resamples (seed {settings.seed}); fingerprint distances "
        f"resample {resampled}; shares, bond counts and RDFs resample the dataset's own "
        "structures"
    )


def _cn_of(label: str) -> int:
    from cryin_flows.analysis.fingerprints import MOTIFS

    motif = label.rsplit(" (", 1)[0]
    if motif.startswith("CN "):
        return int(motif.split()[1])
    return next((cn for cn, names in MOTIFS.items() if motif in names), 99)


def _energy_edges(data: dict[str, DatasetData], width: float) -> np.ndarray:
    values = np.concatenate([d.energies for d in data.values() if d.energies is not None] or [[0]])
    lo = np.floor(values.min() / width) * width
    hi = np.ceil(values.max() / width) * width + width
    return np.arange(lo, hi + width / 2, width)


def partial_rdf(
    structures: InterfaceSet,
    pair: tuple[str, str],
    template: InterfaceTemplate | None = None,
    r_max: float = 8.0,
    bin_width: float = 0.05,
    n_resamples: int = 1000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """g_AB(r) with centres A in each structure's interface region found with ``template``
    (anywhere if None), B anywhere.

    Normalised by the mean density of B in the cell. Returns (r, g, low, high), the band being
    the 95 % pivotal bootstrap interval over structures.
    """
    a, b = pair
    edges = np.arange(0.0, r_max + bin_width / 2, bin_width)
    r = 0.5 * (edges[1:] + edges[:-1])
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    species = np.array(structures.species)
    density = (species == b).sum() / abs(np.linalg.det(structures.lattice))
    hist = np.zeros((len(structures), len(r)))
    n_centres = np.zeros(len(structures))
    cart = structures.cart_coords()
    for k in range(len(structures)):
        mask = species == a
        if template is not None:
            mask &= template.region_mask(cart[k])
        centres = np.flatnonzero(mask)
        n_centres[k] = len(centres)
        if len(centres):
            _, j, dist = pair_distances(
                structures.frac_coords[k], structures.lattice, centres, r_max
            )
            hist[k] = np.histogram(dist[species[j] == b], edges)[0]

    def g(idx):
        return hist[idx].sum(0) / max(n_centres[idx].sum(), 1) / (density * shell)

    value, low, high = bootstrap(g, (len(structures),), n_resamples, seed)
    return r, value, low, high


def _rdf(
    data: dict[str, DatasetData],
    pair: tuple[str, str],
    template: InterfaceTemplate,
    settings: EvaluationSettings,
) -> RdfCurve:
    curves = {}
    r = np.zeros(0)
    for name, d in data.items():
        r, value, low, high = partial_rdf(
            d.structures,
            pair,
            template if settings.sites == "region" else None,
            settings.rdf_r_max,
            settings.rdf_bin,
            settings.n_resamples,
            settings.seed,
        )
        curves[name] = {"g": value.tolist(), "low": low.tolist(), "high": high.tolist()}
    return RdfCurve(pair=f"{pair[0]}-{pair[1]}", r=r.tolist(), curves=curves)
