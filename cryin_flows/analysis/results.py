"""What an evaluation computes, as plain models: settings, per-metric results, the whole."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from cryin_flows.analysis.fingerprints import PAPER_OXIDATION_STATES
from cryin_flows.analysis.sites import CATIONS
from cryin_flows.analysis.statistics import Interval, Stats
from cryin_flows.interfaces.energy import LOWEST_GAMMA
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


class FingerprintDistance(BaseModel):
    """Average-fingerprint distance of a dataset to the reference."""

    euclidean: Interval = Field(description="Euclidean distance (0 = identical)")
    cosine_similarity: Interval = Field(
        description="Cosine similarity, the CryinGAN paper's measure (1 = identical)"
    )
    cosine_distance: Interval = Field(
        description="Cosine distance = 1 − similarity, as the Dismai-Bench scripts (0 = identical)"
    )
    n_sites: int = Field(description="Sites of the dataset behind it")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outside_range(self) -> list[str]:
        """Metrics whose interval leaves the quantity's natural range (a pivotal interval
        can: a negative distance, a similarity above 1); reported as computed."""
        out = []
        if self.euclidean.low < 0:
            out.append("euclidean")
        if self.cosine_similarity.high > 1 or self.cosine_similarity.low < -1:
            out.append("cosine_similarity")
        if self.cosine_distance.low < 0 or self.cosine_distance.high > 2:
            out.append("cosine_distance")
        return out


class MotifRow(BaseModel):
    """Share of sites whose most likely motif (with its number of O neighbours) is ``label``."""

    label: str = Field(description="Motif and number of O neighbours, e.g. 'octahedral (2 O)'")
    element: str = Field(description="Cation")
    fractions: dict[str, Interval] = Field(description="Per dataset")


class BondCounts(BaseModel):
    """Mean number of O and Cl neighbours per cation (most likely shell)."""

    Cl: Interval = Field(description="Cl neighbours per site")
    O: Interval = Field(description="O neighbours per site")  # noqa: E741 - the element


class RdfCurve(BaseModel):
    """A partial RDF per dataset with its 95 % band."""

    pair: str = Field(description="Centre-neighbour elements, e.g. 'Sc-O'")
    r: list[float] = Field(description="Bin centres, Å")
    curves: dict[str, dict[str, list[float]]] = Field(description="dataset -> g, low, high")


class EnergySummary(BaseModel):
    """Interface-energy distribution of a dataset."""

    mean: float = Field(description="Mean γ̃, J/m²")
    fraction_below_0: Interval = Field(description="Share with γ̃ <= 0")
    fraction_below_minus_0_2: Interval = Field(description="Share with γ̃ <= -0.2 J/m²")
    histogram_edges: list[float] = Field(description="Bin edges, J/m²")
    histogram_counts: list[int] = Field(description="Structures per bin")


class DatasetSummary(BaseModel):
    """Sizes, failures, close pairs and energies of one dataset."""

    n_structures: int = Field(description="Structures evaluated")
    n_requested: int = Field(description="Structures generated before clean-up/relaxation")
    failed_percent: float = Field(description="Lost in clean-up or relaxation, % of requested")
    sites_per_element: dict[str, int] = Field(description="Sites fingerprinted")
    close_pairs_mean: float = Field(description="Pairs <= threshold per structure")
    fraction_with_close_pairs: float = Field(description="Share of structures with any")
    energy: EnergySummary | None = Field(None, description="When energies are known")
    region_gap: Stats | None = Field(
        None,
        description="Distance between the substrate's top and the film's bottom plane found "
        "in each structure, Å (sites='region')",
    )
    content_hash: str = Field(description="sha256 of coordinates, lattice, species")


class RegionProfile(BaseModel):
    """Atom heights of one reference structure and the interface region found in it."""

    structure: int = Field(description="Index of the structure in the reference dataset")
    species: list[str] = Field(description="Element of every atom")
    heights: list[float] = Field(description="Height of every atom along c, Å")
    in_region: list[bool] = Field(description="Whether each atom is in the region")
    substrate_plane_z: float = Field(description="Top substrate plane found, Å")
    film_plane_z: float = Field(description="Bottom film plane found, Å")


class EvaluationResult(BaseModel):
    """Every metric of generated vs reference structures (SPEC.md §6), with its interval."""

    reference: str = Field(description="Name of the reference (training) dataset")
    datasets: dict[str, DatasetSummary] = Field(description="Per dataset")
    fingerprint_distances: dict[str, dict[str, FingerprintDistance]] = Field(
        description="dataset -> element (or 'all') -> distances to the reference"
    )
    motifs: dict[str, list[MotifRow]] = Field(description="element -> motif rows")
    bond_counts: dict[str, dict[str, BondCounts]] = Field(description="element -> dataset")
    rdfs: list[RdfCurve] = Field(description="Partial RDFs of region atoms")
    settings: EvaluationSettings = Field(description="How the datasets were compared")
    interval_method: str = Field("", description="How every interval was computed")
    region_profile: RegionProfile | None = Field(
        None, description="The region found in the first reference structure (sites='region')"
    )
    area: float = Field(description="Interface area, Å²")
    e_ref: float | None = Field(description="eV/atom used for γ̃ (None: energies given)")
    template_hash: str = Field("", description="Template the datasets fit")
    cache_hits: int = Field(0, description="Structures whose fingerprints came from the cache")
