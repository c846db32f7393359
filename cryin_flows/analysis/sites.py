"""Which sites to fingerprint, and fingerprints of whole datasets: parallel, cached, resumable."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cryin_flows.analysis.fingerprints import SiteFingerprinter
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.template import InterfaceTemplate

CATIONS = ("Li", "Sc", "Co")
SITE_MODES = ("region", "all")


def select_sites(
    species: list[str],
    cart_coords: np.ndarray,
    mode: str,
    template: InterfaceTemplate | None = None,
    cations: tuple[str, ...] = CATIONS,
) -> np.ndarray:
    """Indices of cations to analyse: all of them, or those in the structure's own interface
    region (``InterfaceTemplate.locate_region``)."""
    is_cation = np.array([s in cations for s in species])
    if mode == "all":
        return np.flatnonzero(is_cation)
    if mode != "region":
        raise ValueError(f"sites must be one of {SITE_MODES}, got {mode!r}")
    if template is None:
        raise ValueError("sites='region' needs the interface template (to find the region)")
    return np.flatnonzero(is_cation & template.region_mask(cart_coords))


@dataclass
class StructureSites:
    """Fingerprints of the selected sites of one structure."""

    elements: list[str]
    vectors: np.ndarray  # (n_sites, n_features)
    cn: np.ndarray  # most likely coordination number per site
    motifs: list[str]
    anion_counts: np.ndarray  # (n_sites, n_anions)

    def to_npz(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".part.npz")
        np.savez(
            tmp,
            elements=np.array(self.elements, dtype="U3"),
            vectors=self.vectors,
            cn=self.cn,
            motifs=np.array(self.motifs, dtype="U40"),
            anion_counts=self.anion_counts,
        )
        os.replace(tmp, path)

    @classmethod
    def from_npz(cls, path: Path) -> StructureSites:
        with np.load(path) as data:
            return cls(
                elements=[str(e) for e in data["elements"]],
                vectors=data["vectors"],
                cn=data["cn"],
                motifs=[str(m) for m in data["motifs"]],
                anion_counts=data["anion_counts"],
            )


def structure_key(
    species: list[str], lattice: np.ndarray, frac: np.ndarray, sites: np.ndarray, settings: str
) -> str:
    """Content hash of what a structure's fingerprints depend on."""
    digest = hashlib.sha256()
    digest.update(",".join(species).encode())
    digest.update(np.round(lattice, 6).tobytes())
    digest.update(np.round(frac % 1.0, 6).tobytes())
    digest.update(np.asarray(sites, dtype=np.int64).tobytes())
    digest.update(settings.encode())
    return digest.hexdigest()


_WORKER: SiteFingerprinter | None = None


def _init_worker(oxidation_states: dict, anions: tuple[str, ...]) -> None:
    global _WORKER
    _WORKER = SiteFingerprinter(oxidation_states, anions)


def _fingerprint_one(args) -> tuple[str, StructureSites]:
    key, lattice, species, frac, sites = args
    from pymatgen.core import Lattice, Structure

    assert _WORKER is not None
    structure = _WORKER.decorate(Structure(Lattice(lattice), species, frac))
    n_features = _WORKER.size
    records = [_WORKER.site(structure, int(i)) for i in sites]
    result = StructureSites(
        elements=[species[int(i)] for i in sites],
        vectors=np.array([r.vector for r in records]).reshape(-1, n_features),
        cn=np.array([r.cn for r in records], dtype=int),
        motifs=[r.motif for r in records],
        anion_counts=np.array(
            [[r.anion_counts[a] for a in _WORKER.anions] for r in records], dtype=int
        ).reshape(-1, len(_WORKER.anions)),
    )
    return key, result


class FingerprintCache:
    """One .npz per structure, named by its content hash; written atomically as results come."""

    def __init__(self, directory: str | Path | None):
        self.directory = Path(directory) if directory else None
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path | None:
        return self.directory / f"{key}.npz" if self.directory else None

    def get(self, key: str) -> StructureSites | None:
        path = self._path(key)
        if path is not None and path.exists():
            self.hits += 1
            return StructureSites.from_npz(path)
        self.misses += 1
        return None

    def put(self, key: str, value: StructureSites) -> None:
        path = self._path(key)
        if path is not None:
            value.to_npz(path)


def fingerprint_dataset(
    structures: InterfaceSet,
    mode: str = "region",
    template: InterfaceTemplate | None = None,
    oxidation_states: dict[str, float] | None = None,
    cache: FingerprintCache | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[StructureSites]:
    """Fingerprints of the selected sites of every structure, in order.

    Cached structures are read back; the rest are computed in ``workers`` processes and cached
    as each finishes, so an interrupted run resumes where it stopped.
    """
    fingerprinter = SiteFingerprinter(oxidation_states)
    settings = json.dumps(
        {"ox": fingerprinter.oxidation_states, "anions": fingerprinter.anions, "v": 2},
        sort_keys=True,
    )
    cache = cache or FingerprintCache(None)
    cart = structures.cart_coords()
    results: list[StructureSites | None] = [None] * len(structures)
    todo = []
    for i in range(len(structures)):
        sites = select_sites(structures.species, cart[i], mode, template)
        key = structure_key(
            structures.species, structures.lattice, structures.frac_coords[i], sites, settings
        )
        cached = cache.get(key)
        if cached is not None:
            results[i] = cached
            if progress:
                progress(1)
        else:
            todo.append(
                (i, (key, structures.lattice, structures.species, structures.frac_coords[i], sites))
            )
    init_args = (fingerprinter.oxidation_states, fingerprinter.anions)
    if workers <= 1 or len(todo) <= 1:
        _init_worker(*init_args)
        outputs = (_fingerprint_one(args) for _, args in todo)
        for (i, _), (key, value) in zip(todo, outputs, strict=True):
            cache.put(key, value)
            results[i] = value
            if progress:
                progress(1)
    else:
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=init_args) as pool:
            outputs = pool.map(_fingerprint_one, [args for _, args in todo], chunksize=1)
            for (i, _), (key, value) in zip(todo, outputs, strict=True):
                cache.put(key, value)
                results[i] = value
                if progress:
                    progress(1)
    return results  # type: ignore[return-value]
