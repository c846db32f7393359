"""The screening funnel's stages on hand-built entries and structures."""

from __future__ import annotations

import pytest
from pymatgen.analysis.phase_diagram import PDEntry
from pymatgen.core import Composition, Lattice, Structure

from cryin_flows.errors import ConfigurationError
from cryin_flows.stability.analysis import phase_diagram
from cryin_flows.stability.funnel import (
    CandidateResult,
    ScreenCriteria,
    assess,
    electrolyte_window,
    prefilter,
    stage_counts,
)

from .test_analysis import ENERGIES


def rocksalt(a: float, species=("Li", "Cl")) -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), list(species), [[0, 0, 0], [0.5] * 3]
    )


def test_prefilter_drops_close_contacts_and_duplicates():
    squeezed = Structure(Lattice.cubic(5.0), ["Li", "Cl"], [[0, 0, 0], [0.1, 0, 0]])  # 0.5 Å
    shifted = rocksalt(5.13)
    shifted.translate_sites(range(len(shifted)), [0.13, 0.2, 0.05])
    candidates = [
        ("a", rocksalt(5.13)),
        ("b", squeezed),
        ("c", shifted),
        ("d", rocksalt(4.2, ("Li", "F"))),
    ]
    results, kept = prefilter(candidates, ScreenCriteria())
    by_name = {r.name: r for r in results}
    assert [n for n, _ in kept] == ["a", "d"]
    assert by_name["b"].stage == "candidates" and "d_min 0.50" in by_name["b"].reason
    assert by_name["c"].stage == "valid" and by_name["c"].duplicate_of == "a"
    assert stage_counts(results) == {
        "candidates": 4, "valid": 3, "unique": 2, "relaxed": 0, "stable": 0, "compatible": 0
    }  # fmt: skip
    _, kept_all = prefilter(candidates, ScreenCriteria(unique=False, d_min=0.4))
    assert len(kept_all) == 4
    with pytest.raises(ConfigurationError, match="candidate set is empty"):
        prefilter([], ScreenCriteria())


def reference():
    names = ("Li", "Y", "Cl2", "LiCl", "YCl3", "Li3YCl6")
    return phase_diagram([PDEntry(Composition(n), ENERGIES[n], name=n) for n in names])


def candidate(e_hull: float) -> tuple[CandidateResult, PDEntry]:
    """LiYCl4 at ``e_hull`` above LiCl + YCl3."""
    hull = ENERGIES["LiCl"] + ENERGIES["YCl3"]
    entry = PDEntry(Composition("LiYCl4"), hull + 6 * e_hull, name="cand")
    result = CandidateResult(name="cand", formula="LiYCl4", n_atoms=6, stage="relaxed", d_min=2.5)
    return result, entry


@pytest.fixture()
def pd():
    pd = reference()
    for e in pd.all_entries:
        e.data = {"name": e.name}
    return pd


def test_assess_applies_the_hull_cut(pd):
    criteria = ScreenCriteria(electrolyte="Li3YCl6", cathode="LiCl")
    result, entry = candidate(0.25)
    assess(result, entry, pd, criteria, electrolyte_window(pd, criteria))
    assert result.stage == "relaxed" and result.e_hull == pytest.approx(0.25)
    assert "E_hull 0.250 >= 0.2" in result.reason


def test_assess_roles_follow_the_window_cuts(pd):
    criteria = ScreenCriteria(electrolyte="Li3YCl6", cathode="LiCl")
    se = electrolyte_window(pd, criteria)
    result, entry = candidate(0.05)
    assess(result, entry, pd, criteria, se)
    # YCl3 + 3 Li -> 3 LiCl + Y at 1.1 V; LiCl -> Cl2 at 4.2 V: neither AC nor CC by default
    assert result.stage == "stable"
    assert (result.e_red, result.e_ox) == pytest.approx((1.1, 4.2))
    assert result.e_rxn == pytest.approx({"Li3YCl6": 0.0, "LiCl": 0.0})
    # a cathode cut of 4.0 V lets it through as a cathode coating
    relaxed = ScreenCriteria(electrolyte="Li3YCl6", cathode="LiCl", cathode_oxidation_min=4.0)
    result, entry = candidate(0.05)
    assess(result, entry, pd, relaxed, se)
    assert result.stage == "compatible" and result.roles == ["cathode"]
    anode = ScreenCriteria(electrolyte="Li3YCl6", cathode="LiCl", anode_reduction_max=1.2)
    result, entry = candidate(0.05)
    assess(result, entry, pd, anode, se)
    assert result.roles == ["anode"]  # E_ox 4.2 > E_red(SE) 1.1
