"""One function per metric of an evaluation, each on the fingerprinted datasets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryin_flows.analysis.fingerprints import DEFAULT_ANIONS
from cryin_flows.analysis.results import (
    BondCounts,
    DatasetSummary,
    EnergySummary,
    EvaluationSettings,
    FingerprintDistance,
    MotifRow,
    RdfCurve,
    RegionProfile,
)
from cryin_flows.analysis.sites import StructureSites
from cryin_flows.analysis.statistics import (
    Interval,
    Stats,
    bootstrap,
    fingerprint_metrics,
    interval,
    structure_means,
)
from cryin_flows.interfaces.energy import GAMMA_CUTS
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.neighbours import count_close_pairs, pair_distances
from cryin_flows.interfaces.template import InterfaceTemplate


@dataclass
class DatasetData:
    """One dataset and everything computed from it (what plots need beyond the document)."""

    name: str
    structures: InterfaceSet
    sites: list[StructureSites]
    energies: np.ndarray | None
    n_requested: int


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


def fingerprint_distances(
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


def motifs_and_bonds(
    data: dict[str, DatasetData], reference: str, elements: list[str], settings: EvaluationSettings
) -> tuple[dict[str, list[MotifRow]], dict[str, dict[str, BondCounts]]]:
    """Most likely motifs (split by O neighbours) and O / Cl bond counts per cation.

    Motifs shown are those of more than ``motif_min_fraction`` of the reference's sites.
    """
    ref = data[reference]
    anions = DEFAULT_ANIONS
    rs = settings.n_resamples
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

    return motifs, bonds


def dataset_summaries(
    data: dict[str, DatasetData], template: InterfaceTemplate, settings: EvaluationSettings
) -> dict[str, DatasetSummary]:
    """Sizes, failures, close pairs, energies and region gaps of every dataset."""
    rs = settings.n_resamples
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
                **{
                    name: interval(
                        lambda i, e=e, cut=cut: (e[i] <= cut).mean(), (len(e),), rs, settings.seed
                    )
                    for name, cut in GAMMA_CUTS.items()
                },
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
            content_hash=d.structures.content_hash(),
        )

    return summaries


def region_profile(template: InterfaceTemplate, structures: InterfaceSet) -> RegionProfile:
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


def interval_method(settings: EvaluationSettings) -> str:
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


def rdf_curve(
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
