"""Generated vs training structures: fingerprints, motifs, bonds, RDFs, energies, failures."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import Field

from cryin_flows.analysis.fingerprints import DEFAULT_ANIONS, PAPER_OXIDATION_STATES
from cryin_flows.analysis.sites import (
    CATIONS,
    FingerprintCache,
    StructureSites,
    fingerprint_dataset,
    in_region,
)
from cryin_flows.analysis.statistics import Interval, bootstrap, cosine, euclidean, interval
from cryin_flows.analysis.statistics import structure_means as _means
from cryin_flows.errors import ConfigurationError, TemplateMismatchError
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.neighbours import count_close_pairs, pair_distances
from cryin_flows.potentials.interface_energy import (
    LOWEST_GAMMA,
    e_ref_for_lowest,
    interface_energy,
)
from cryin_flows.schemas.evaluation import (
    BondCounts,
    DatasetSummary,
    EnergySummary,
    EvaluationDoc,
    FingerprintDistance,
    MotifRow,
    RdfCurve,
)
from cryin_flows.utils import SerializableModel


class EvaluationSettings(SerializableModel):
    """How datasets are compared; recorded in the EvaluationDoc."""

    sites: str = Field("region", description="'region' (interface cations) or 'all' cations")
    region_z: tuple[float, float] | None = Field(
        None, description="z window (Å) of the interface region; None = the template's"
    )
    cations: tuple[str, ...] = Field(CATIONS, description="Elements fingerprinted")
    oxidation_states: dict[str, float] = Field(
        default_factory=lambda: dict(PAPER_OXIDATION_STATES), description="For CrystalNN"
    )
    n_resamples: int = Field(1000, ge=10, description="Bootstrap resamples of structures")
    seed: int = Field(0, description="Bootstrap seed")
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
    area: float,
    region_z: tuple[float, float] | None,
    settings: EvaluationSettings | None = None,
    requested: dict[str, int] | None = None,
    cache_dir: str | Path | None = None,
    template_hash: str = "",
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[EvaluationDoc, dict[str, DatasetData]]:
    """Compare every dataset with ``reference``; returns the document and per-dataset data.

    ``progress(dataset, done, total)`` is called as structures are fingerprinted.
    """
    settings = settings or EvaluationSettings()
    if reference not in datasets:
        raise ConfigurationError(f"reference dataset {reference!r} not among {list(datasets)}")
    _check_same_system(datasets, reference)
    region = settings.region_z or region_z
    if settings.sites == "region" and region is None:
        raise ConfigurationError("sites='region' needs region z bounds (a template or region_z)")
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
            region,
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
    distances: dict[str, dict[str, FingerprintDistance]] = {}
    for name, d in data.items():
        if name == reference:
            continue
        distances[name] = {}
        for el in [*elements, None]:
            ref_sums, ref_counts = _element_sums(ref.sites, el)
            sums, counts = _element_sums(d.sites, el)
            if not counts.any():
                continue

            def stat(i_ref, i_gen, fn, rs_=ref_sums, rc=ref_counts, s=sums, c=counts):
                return fn(_means(rs_, rc, i_ref), _means(s, c, i_gen))

            sizes = (len(ref.sites), len(d.sites))
            distances[name][el or "all"] = FingerprintDistance(
                euclidean=interval(
                    lambda a, b, s=stat: s(a, b, euclidean), sizes, rs, settings.seed
                ),
                cosine=interval(lambda a, b, s=stat: s(a, b, cosine), sizes, rs, settings.seed),
                n_sites=int(counts.sum()),
            )

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

    rdfs = [_rdf(data, pair, region, settings) for pair in settings.rdf_pairs]

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
        region_z=region,
        area=area,
        e_ref=e_ref,
        template_hash=template_hash,
        cache_hits=cache.hits,
    )
    return doc, data


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
    region: tuple[float, float] | None = None,
    r_max: float = 8.0,
    bin_width: float = 0.05,
    n_resamples: int = 1000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """g_AB(r) with centres A inside the z window ``region`` (anywhere if None), B anywhere.

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
    cart_z = structures.cart_coords()[:, :, 2]
    for k in range(len(structures)):
        mask = species == a
        if region is not None:
            mask &= in_region(cart_z[k], region)
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
    region: tuple[float, float] | None,
    settings: EvaluationSettings,
) -> RdfCurve:
    curves = {}
    r = np.zeros(0)
    for name, d in data.items():
        r, value, low, high = partial_rdf(
            d.structures,
            pair,
            region if settings.sites == "region" else None,
            settings.rdf_r_max,
            settings.rdf_bin,
            settings.n_resamples,
            settings.seed,
        )
        curves[name] = {"g": value.tolist(), "low": low.tolist(), "high": high.tolist()}
    return RdfCurve(pair=f"{pair[0]}-{pair[1]}", r=r.tolist(), curves=curves)
