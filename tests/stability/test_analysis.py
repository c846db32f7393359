"""Hulls, windows and mixing energies equal pymatgen's own functions on hand-built entries
(issue 22 acceptance), and the closed forms they must reduce to."""

from __future__ import annotations

import pytest
from pymatgen.analysis.interface_reactions import InterfacialReactivity
from pymatgen.analysis.phase_diagram import GrandPotentialPhaseDiagram, PDEntry, PhaseDiagram
from pymatgen.core import Composition, Element

from cryin_flows.errors import ConfigurationError
from cryin_flows.stability.analysis import (
    e_above_hull,
    electrochemical_window,
    mixing,
    phase_diagram,
)

# made-up total energies (eV per formula unit), chosen so every phase below is on the hull
# except Li3YCl6 (10 meV/atom above LiCl + YCl3) and Li2Y (not a real phase: far above)
LI, Y, CL = -1.9, -6.4, -1.8
ENERGIES = {
    "Li": LI, "Y": Y, "Cl2": 2 * CL,
    "LiCl": LI + CL - 4.2,  # formation -4.2 eV: LiCl's oxidation limit is 4.2 V
    "YCl3": Y + 3 * CL - 9.3,
    "Li3YCl6": 3 * (LI + CL - 4.2) + (Y + 3 * CL - 9.3) + 10 * 0.010,
    "Li2O": 2 * LI - 4.9 - 1.0, "O2": -9.8,
}  # fmt: skip


def entries(names=("Li", "Y", "Cl2", "LiCl", "YCl3", "Li3YCl6")):
    return [PDEntry(Composition(n), ENERGIES[n], name=n) for n in names]


def test_e_hull_is_pymatgens():
    pd = phase_diagram(entries())
    for entry in pd.all_entries:
        e_hull, decomposition = e_above_hull(pd, entry)
        assert e_hull == pytest.approx(pd.get_e_above_hull(entry))
        assert decomposition == sorted(
            e.composition.reduced_formula for e in pd.get_decomposition(entry.composition)
        )
    li3ycl6 = next(e for e in pd.all_entries if e.name == "Li3YCl6")
    assert e_above_hull(pd, li3ycl6) == (pytest.approx(0.010), ["LiCl", "YCl3"])
    # a structure below the hull gets a negative E_hull (allow_negative)
    low = PDEntry(Composition("Li3YCl6"), ENERGIES["Li3YCl6"] - 10 * 0.05)
    assert e_above_hull(pd, low)[0] == pytest.approx(-0.04)


def _stable_at(pd: PhaseDiagram, formula: str, voltage: float) -> bool:
    """pymatgen's grand potential diagram open to Li at this voltage: is the Li-free part of
    ``formula`` a single phase whose Li content is the formula's (no Li taken or given)?"""
    mu = pd.el_refs[Element("Li")].energy_per_atom - voltage
    gpd = GrandPotentialPhaseDiagram(pd.all_entries, {Element("Li"): mu})
    comp = Composition(formula)
    decomposition = gpd.get_decomposition(
        Composition({el: n for el, n in comp.items() if el.symbol != "Li"})
    )
    li_after = sum(
        e.original_entry.composition["Li"] / e.composition.num_atoms * amount
        for e, amount in decomposition.items()
    )
    li_per_rest = comp["Li"] / (comp.num_atoms - comp["Li"])
    return abs(li_after - li_per_rest) < 1e-6


@pytest.mark.parametrize("formula", ["LiCl", "Li3YCl6"])
def test_window_is_where_pymatgens_grand_potential_diagram_keeps_the_phase(formula):
    pd = phase_diagram(entries())
    window = electrochemical_window(pd, formula)
    assert window.e_ox == pytest.approx(4.2)  # LiCl -> Li+ + e- + 1/2 Cl2, by construction
    assert window.oxidation_products[0] in ("Cl2", "YCl3")
    low = window.e_red or 0.0
    for inside in (low + 0.02, (low + window.e_ox) / 2, window.e_ox - 0.02):
        assert _stable_at(pd, formula, inside)
    assert not _stable_at(pd, formula, window.e_ox + 0.02)
    if window.e_red is not None:
        assert not _stable_at(pd, formula, window.e_red - 0.02)


def test_reduction_limit_is_the_closed_form():
    """YCl3 + 3 Li -> 3 LiCl + Y: E_red = -ΔE / 3 per Li."""
    pd = phase_diagram(entries())
    d_e = 3 * ENERGIES["LiCl"] + ENERGIES["Y"] - ENERGIES["YCl3"] - 3 * ENERGIES["Li"]
    window = electrochemical_window(pd, "Li3YCl6")  # on LiCl + YCl3, 10 meV above
    assert window.e_red == pytest.approx(-d_e / 3)
    assert window.reduction_products == ["LiCl", "Y"]
    assert electrochemical_window(pd, "LiCl").e_red is None  # stable against Li metal


def test_mixing_is_pymatgens_interfacial_reactivity():
    names = ("Li", "Y", "Cl2", "LiCl", "YCl3", "Li3YCl6")
    pd = phase_diagram(entries(names))
    ours = mixing(pd, "YCl3", "LiCl")
    theirs = InterfacialReactivity(
        Composition("YCl3"), Composition("LiCl"), pd, norm=True, use_hull_energy=True
    )
    assert (ours.ratio, ours.energy) == pytest.approx(theirs.minimum)
    assert [e for _, e in ours.curve] == pytest.approx([k[2] for k in theirs.get_kinks()])


def test_mixing_closed_form_for_one_ternary_product():
    """Li2O + LiCl -> Li3OCl with ΔE = -0.1 eV: E_rxn = -0.1/5 eV/atom at x(Li2O) = 3/5."""
    e = dict(ENERGIES, Li3OCl=ENERGIES["Li2O"] + ENERGIES["LiCl"] - 0.1)
    items = [
        PDEntry(Composition(n), e[n], name=n) for n in ("Li", "Cl2", "O2", "LiCl", "Li2O", "Li3OCl")
    ]
    m = mixing(phase_diagram(items), "Li2O", "LiCl")
    assert m.energy == pytest.approx(-0.1 / 5)
    assert m.ratio == pytest.approx(3 / 5)
    assert m.products == ["Li3ClO"]


def test_metastable_reactant_its_own_decomposition_is_not_reaction():
    pd = phase_diagram(entries())
    # Li3YCl6 sits 10 meV/atom above LiCl + YCl3, which do not react with LiCl
    assert mixing(pd, "Li3YCl6", "LiCl").energy == pytest.approx(0.0, abs=1e-9)
    own = mixing(pd, "Li3YCl6", "LiCl", use_hull_energy=False)
    assert own.energy == pytest.approx(-0.010, abs=1e-6)


def test_missing_elemental_reference_is_one_line():
    with pytest.raises(ConfigurationError, match=r"no elemental reference energy for Y$"):
        phase_diagram([e for e in entries() if e.name != "Y"])


def test_a_composition_inside_a_li_exchanging_facet_has_no_window():
    """Li4YCl6 lies in the LiCl-YCl3-Y triangle: it takes up Li below YCl3's reduction
    (1.1 V here) and gives it off above: an empty window at 1.1 V."""
    pd = phase_diagram(entries())
    window = electrochemical_window(pd, "Li4YCl6")
    assert window.empty
    assert window.e_red == window.e_ox == pytest.approx(1.1)
    assert not _stable_at(pd, "Li4YCl6", 1.0) and not _stable_at(pd, "Li4YCl6", 1.2)
    assert not electrochemical_window(pd, "Li3YCl6").empty
