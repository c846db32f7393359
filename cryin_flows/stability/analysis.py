"""Convex hulls, electrochemical windows and mixing energies, computed by pymatgen.

* E_hull: ``PhaseDiagram.get_decomp_and_e_above_hull`` (negative below the hull).
* Electrochemical window versus Li/Li+ (Ong et al. 2008): ``PhaseDiagram.get_element_profile``
  along the Li chemical potential. The composition is stable while it neither takes up nor
  gives off Li; V = -(mu_Li - mu_Li(metal))/e. A composition above the hull gets the window of
  its hull decomposition, as pymatgen's profile gives it (seed 003's tables share limits this
  way: every chloride's oxidation limit is LiCl's).
* Mixing (interfacial reaction) energy (Richards et al. 2016): ``InterfacialReactivity``, the
  most negative reaction energy over mixing ratios, eV/atom of the mixture.
"""

from __future__ import annotations

import warnings

from pydantic import BaseModel, Field
from pymatgen.analysis.interface_reactions import InterfacialReactivity
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.core import Composition, Element
from pymatgen.entries.computed_entries import ComputedEntry

from cryin_flows.errors import ConfigurationError

ION = "Li"


def phase_diagram(entries: list[ComputedEntry]) -> PhaseDiagram:
    """pymatgen's phase diagram of ``entries``; a one-line error naming the elements without an
    elemental entry."""
    elements = {el for e in entries for el in e.composition.elements}
    have = {e.composition.elements[0] for e in entries if len(e.composition.elements) == 1}
    if missing := sorted(el.symbol for el in elements - have):
        raise ConfigurationError(f"no elemental reference energy for {', '.join(missing)}")
    return PhaseDiagram(entries)


def e_above_hull(pd: PhaseDiagram, entry: ComputedEntry) -> tuple[float, list[str]]:
    """Energy above the hull (eV/atom; negative when below it) and the decomposition products
    (reduced formulas) of ``entry``, which need not be one of the diagram's entries."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        decomp, e_hull = pd.get_decomp_and_e_above_hull(entry, allow_negative=True)
    return float(e_hull), sorted(e.composition.reduced_formula for e in decomp)


class Window(BaseModel):
    """Electrochemical stability window of a composition versus Li/Li+."""

    formula: str = Field(description="Reduced formula")
    e_red: float | None = Field(
        description="Reduction limit, V vs Li/Li+ (None: stable down to Li metal)"
    )
    e_ox: float | None = Field(
        description="Oxidation limit, V vs Li/Li+ (None: no Li to give off, no upper limit "
        "from Li exchange)"
    )
    empty: bool = Field(
        False,
        description="True when the composition exchanges Li at every potential (no window; "
        "both limits at the potential where uptake turns to release)",
    )
    reduction_products: list[str] = Field(description="Phases below the reduction limit")
    oxidation_products: list[str] = Field(description="Phases above the oxidation limit")
    profile: list[dict] = Field(
        description="The Li profile: voltage (V), Li taken up (+) or given off (-) per formula "
        "unit and the phases, from Li metal upwards"
    )


def _names(entries) -> list[str]:
    return sorted({e.composition.reduced_formula for e in entries})


def electrochemical_window(pd: PhaseDiagram, composition: str | Composition) -> Window:
    """The window of ``composition`` in ``pd`` (which must contain Li)."""
    comp = Composition(composition)
    li = Element(ION)
    if li not in pd.elements:
        raise ConfigurationError(f"{comp.reduced_formula}: the phase diagram has no {ION}")
    mu_li = pd.el_refs[li].energy_per_atom
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile = pd.get_element_profile(li, comp)
    # pymatgen lists critical compositions from Li-rich (high mu_Li) to Li-poor; 'evolution' is
    # the Li taken up per formula unit when comp turns into that region's phases
    steps = [
        {
            "voltage": -(p["chempot"] - mu_li),
            "li_uptake": float(p["evolution"]),
            "phases": _names(p["entries"]),
        }
        for p in profile
    ]
    stable = [i for i, p in enumerate(profile) if abs(p["evolution"]) < 1e-6]
    if not stable:
        # comp lies inside a Li-exchanging facet: it takes up Li below one potential and gives
        # it off above it, so its window is empty (both limits at that potential)
        k = next((i for i, p in enumerate(profile) if p["evolution"] < 0), len(steps) - 1)
        return Window(
            formula=comp.reduced_formula,
            e_red=steps[k]["voltage"],
            e_ox=steps[k]["voltage"],
            empty=True,
            reduction_products=steps[k - 1]["phases"] if k > 0 else [],
            oxidation_products=steps[k]["phases"],
            profile=steps,
        )
    first, last = stable[0], stable[-1]
    reduction = steps[first]["voltage"] if first > 0 else None
    oxidation = steps[last + 1]["voltage"] if last + 1 < len(steps) else None
    return Window(
        formula=comp.reduced_formula,
        e_red=None if reduction is None or reduction < 1e-9 else reduction,
        e_ox=oxidation,
        reduction_products=steps[first - 1]["phases"] if first > 0 else [],
        oxidation_products=steps[last + 1]["phases"] if last + 1 < len(steps) else [],
        profile=steps,
    )


class Mixing(BaseModel):
    """The most negative reaction between two phases mixed in any ratio (Richards et al.)."""

    reactants: tuple[str, str] = Field(description="The two phases (reduced formulas)")
    energy: float = Field(description="Most negative reaction energy, eV/atom of the mixture")
    ratio: float = Field(description="Atomic fraction x of the first phase at that minimum")
    products: list[str] = Field(description="Phases formed at the minimum")
    reaction: str = Field(description="The balanced reaction at the minimum")
    curve: list[tuple[float, float]] = Field(
        description="Reaction energy (eV/atom) at each kink, (x, energy), x from 0 to 1"
    )


def mixing(
    pd: PhaseDiagram,
    first: str | Composition,
    second: str | Composition,
    use_hull_energy: bool = True,
) -> Mixing:
    """Interfacial reaction energy between ``first`` and ``second`` with pymatgen's
    ``InterfacialReactivity``, normalised per atom of the mixture. With ``use_hull_energy``
    (default) each reactant sits at the hull energy of its composition, so a metastable phase's
    own decomposition (its E_hull) is not counted as reaction with its partner (seed 003 reports
    E_rxn = 0 for phases with E_hull > 0); without it, at its own entry's energy."""
    c1, c2 = Composition(first), Composition(second)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reactivity = InterfacialReactivity(c1, c2, pd, norm=True, use_hull_energy=use_hull_energy)
        kinks = list(reactivity.get_kinks())
    # kink: (index, x, energy, reaction, energy per mol); x: atomic fraction of c1
    best = min(kinks, key=lambda k: k[2])
    products = sorted(
        {c.reduced_formula for c in best[3].products}
        - ({c1.reduced_formula, c2.reduced_formula} if abs(best[2]) < 1e-9 else set())
    ) or sorted({c.reduced_formula for c in best[3].products})
    return Mixing(
        reactants=(c1.reduced_formula, c2.reduced_formula),
        energy=float(best[2]),
        ratio=float(best[1]),
        products=products,
        reaction=str(best[3]),
        curve=[(float(k[1]), float(k[2])) for k in kinks],
    )
