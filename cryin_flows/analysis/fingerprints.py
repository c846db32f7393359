"""CrystalNN site fingerprints of cations coordinated by anions, as Dismai-Bench publishes them.

The vector of a site has 109 values (SPEC.md §6; Dismai-Bench ``benchmark/int/motif``):

* 61 values of matminer's CrystalNNFingerprint "ops" preset: for each coordination number
  CN = 1..24 the CN likelihood ("wt") followed by wt x the local structure order parameter of
  each target motif of that CN, in matminer's order and with its labels ("wt CN_6",
  "octahedral CN_6", ...);
* 48 values, for each CN = 1..24 in turn, the plain fraction of Cl and then of O among that
  CN's neighbours (count / CN, *not* multiplied by wt; 0 and 0 where wt is 0), labelled
  "Cl fraction coord num 1", "O fraction coord num 1", "Cl fraction coord num 2", ...

CrystalNN runs in cation-anion mode on oxidation-state-decorated structures, so only anions
count as neighbours.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from pymatgen.analysis.local_env import CN_OPT_PARAMS, CrystalNN, LocalStructOrderParams
from pymatgen.core import Structure

MAX_CN = 24
# Target motifs per coordination number (the "ops" preset of CrystalNNFingerprint).
MOTIFS: dict[int, list[str]] = {
    1: ["sgl_bd"],
    2: ["L-shaped", "water-like", "bent 120 degrees", "bent 150 degrees", "linear"],
    3: ["trigonal planar", "trigonal non-coplanar", "T-shaped"],
    4: [
        "square co-planar",
        "tetrahedral",
        "rectangular see-saw-like",
        "see-saw-like",
        "trigonal pyramidal",
    ],
    5: ["pentagonal planar", "square pyramidal", "trigonal bipyramidal"],
    6: ["hexagonal planar", "octahedral", "pentagonal pyramidal"],
    7: ["hexagonal pyramidal", "pentagonal bipyramidal"],
    8: ["body-centered cubic", "hexagonal bipyramidal"],
    9: ["q2", "q4", "q6"],
    10: ["q2", "q4", "q6"],
    11: ["q2", "q4", "q6"],
    12: ["cuboctahedral", "q2", "q4", "q6"],
}
DEFAULT_ANIONS = ("Cl", "O")
PAPER_OXIDATION_STATES = {"Li": 1, "Sc": 3, "Co": 3, "Cl": -1, "O": -2}


def feature_labels(anions: tuple[str, ...] = DEFAULT_ANIONS) -> list[str]:
    """Names of the fingerprint's entries, in order."""
    labels = []
    for cn in range(1, MAX_CN + 1):
        labels.append(f"wt CN_{cn}")
        labels += [f"{motif} CN_{cn}" for motif in MOTIFS.get(cn, [])]
    for cn in range(1, MAX_CN + 1):
        labels += [f"{anion} fraction coord num {cn}" for anion in anions]
    return labels


@contextmanager
def shared_voronoi(all_sites: bool = False) -> Iterator[None]:
    """Within the block, CrystalNNs reuse each site's Voronoi neighbours once computed.

    ``CrystalNN.get_nn_data`` builds a ``VoronoiNN`` (solid-angle weights, the CrystalNN's
    targets and search cutoff) for every call; its Voronoi cell is most of the call's time.
    Several CrystalNNs that differ only after that step (a-Si's motif and bond-angle ones)
    then tessellate every site twice. Here pymatgen's ``VoronoiNN`` is swapped for one that
    remembers its answer per structure, site and settings and hands out copies of the entries
    (CrystalNN rescales their weights in place), so the values are those of separate calls.
    With ``all_sites``, the first call on a structure (all elements as targets) tessellates
    it once for every site (``voronoi.all_site_neighbours``: 8x faster for an a-Si block).
    Not thread-safe: one block per process at a time.
    """
    from pymatgen.core import local_env

    from cryin_flows.analysis.voronoi import all_site_neighbours

    original = local_env.VoronoiNN
    cache: dict[tuple, list[dict]] = {}

    class RememberingVoronoiNN(original):  # type: ignore[misc, valid-type]
        def get_nn_info(self, structure, n):
            settings = (repr(self.targets), self.cutoff, self.weight)
            key = (id(structure), n, *settings)
            if key not in cache:
                if all_sites and self.targets is None and self.weight == "solid_angle":
                    for i, entries in enumerate(all_site_neighbours(structure, self.cutoff)):
                        cache[(id(structure), i, *settings)] = entries
                else:
                    cache[key] = original.get_nn_info(self, structure, n)
            return [dict(entry) for entry in cache[key]]

    local_env.VoronoiNN = RememberingVoronoiNN
    try:
        yield
    finally:
        local_env.VoronoiNN = original


@dataclass
class SiteFingerprint:
    """One site's fingerprint and its most likely motif."""

    vector: np.ndarray
    cn: int  # coordination number with the highest likelihood
    motif: str  # its motif with the highest order parameter (or "CN k" when it has none)
    anion_counts: dict[str, int]  # anions of each kind in that most likely shell


class SiteFingerprinter:
    """Computes SiteFingerprints with CrystalNN (cation-anion mode unless told) and order
    parameters."""

    def __init__(
        self,
        oxidation_states: dict[str, float] | None = None,
        anions: tuple[str, ...] = DEFAULT_ANIONS,
        cation_anion: bool = True,
    ):
        """``cation_anion=False`` (a-Si in Dismai-Bench): every atom is a neighbour
        candidate, no oxidation states, no anion fractions: the 61 "ops" values only."""
        self.cation_anion = cation_anion
        self.oxidation_states = dict(oxidation_states or PAPER_OXIDATION_STATES)
        self.anions = tuple(anions) if cation_anion else ()
        self.cnn = CrystalNN(cation_anion=cation_anion)
        self.ops: dict[tuple[int, str], LocalStructOrderParams] = {}
        for cn, motifs in MOTIFS.items():
            for motif in motifs:
                op_type, params = motif, None
                if motif in CN_OPT_PARAMS.get(cn, {}):
                    spec = CN_OPT_PARAMS[cn][motif]
                    op_type = spec[0]
                    params = spec[1] if len(spec) > 1 else None
                self.ops[(cn, motif)] = LocalStructOrderParams([op_type], parameters=[params])
        self.labels = feature_labels(self.anions)

    @property
    def size(self) -> int:
        """Length of the vector."""
        return len(self.labels)

    def decorate(self, structure: Structure) -> Structure:
        """A copy with the oxidation states CrystalNN's cation-anion mode needs (the
        structure itself without that mode)."""
        if not self.cation_anion:
            return structure
        decorated = structure.copy()
        decorated.remove_oxidation_states()
        decorated.add_oxidation_state_by_element(self.oxidation_states)
        return decorated

    def site(self, structure: Structure, index: int) -> SiteFingerprint:
        """Fingerprint of site ``index`` of an oxidation-state-decorated structure."""
        try:
            data = self.cnn.get_nn_data(structure, index)
        except ValueError:
            # pymatgen's Voronoi step finds no neighbour cell (e.g. an atom sitting on another
            # in a collapsed structure): no coordination to describe, the all-zero vector
            return SiteFingerprint(np.zeros(self.size), 0, "CN 0", dict.fromkeys(self.anions, 0))
        ops_part, fractions = [], np.zeros((MAX_CN, len(self.anions)))
        best_cn, best_wt = 0, -1.0
        raw: dict[int, list[float]] = {}
        for cn in range(1, MAX_CN + 1):
            wt = float(data.cn_weights.get(cn, 0.0))
            ops_part.append(wt)
            neighbours = [d["site"] for d in data.cn_nninfo.get(cn, [])] if wt else []
            raw[cn] = [
                self._order_parameter(structure, index, cn, motif, neighbours) if wt else 0.0
                for motif in MOTIFS.get(cn, [])
            ]
            ops_part += [wt * value for value in raw[cn]]
            if wt:
                symbols = [n.specie.symbol for n in neighbours]
                fractions[cn - 1] = [symbols.count(anion) / cn for anion in self.anions]
                if wt > best_wt:
                    best_cn, best_wt = cn, wt
        vector = np.concatenate([ops_part, fractions.ravel()])
        if best_cn == 0:
            return SiteFingerprint(vector, 0, "CN 0", dict.fromkeys(self.anions, 0))
        shell = [d["site"].specie.symbol for d in data.cn_nninfo[best_cn]]
        motifs = MOTIFS.get(best_cn, [])
        motif = motifs[int(np.argmax(raw[best_cn]))] if motifs else f"CN {best_cn}"
        counts = {a: shell.count(a) for a in self.anions}
        return SiteFingerprint(vector, best_cn, motif, counts)

    def _order_parameter(
        self, structure: Structure, index: int, cn: int, motif: str, neighbours: list
    ) -> float:
        if not neighbours:
            return 0.0
        value = self.ops[(cn, motif)].get_order_parameters(
            [structure[index], *neighbours], 0, indices_neighs=list(range(1, len(neighbours) + 1))
        )[0]
        return float(value or 0.0)
