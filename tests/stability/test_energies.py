"""Phase and candidate energies: relaxation, energy schemes, resuming, failures, and CHGNet's
numbers beside the published ones."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from ase.filters import FrechetCellFilter
from ase.optimize import FIRE
from pymatgen.core import Lattice, Structure

from cryin_flows.errors import CryinError
from cryin_flows.stability.energies import scheme_of, to_entries
from cryin_flows.stability.library import load_library
from cryin_flows.stability.pipeline import assess_phases, compute_phase_energies
from cryin_flows.stability.relaxation import (
    PhaseRelaxSettings,
    RelaxedEnergy,
    relax_batch,
    relax_logged,
    relax_structure,
)

LJ = "ase.calculators.lj:LennardJones"


class Exploding(Calculator):
    """An ASE calculator that fails for cells with more than ``limit`` atoms."""

    implemented_properties = ("energy", "forces", "stress")

    def __init__(self, limit: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.limit = limit

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        if len(atoms) > self.limit:
            raise RuntimeError("model blew up")
        LJCalc = __import__("ase.calculators.lj", fromlist=["LennardJones"]).LennardJones
        inner = LJCalc()
        inner.calculate(atoms, properties, system_changes)
        self.results = inner.results


def fcc(a: float, element: str = "Cu") -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [element], [[0, 0, 0]])


def test_relaxation_finds_the_calculators_lattice():
    relaxed = relax_structure(fcc(3.9), EMT(), PhaseRelaxSettings(), "Cu")
    a = Structure.from_dict(relaxed.structure).lattice.abc[0]  # conventional cell
    assert relaxed.converged and a == pytest.approx(3.59, abs=0.02)  # EMT's Cu
    fixed = relax_structure(fcc(3.9), EMT(), PhaseRelaxSettings(relax_cell=False), "Cu")
    assert fixed.energy > relaxed.energy


def ase_relaxation(structure: Structure, calculator, steps: int) -> tuple[float, int]:
    """Energy and steps of ASE's own FIRE.run on FrechetCellFilter, the reference."""
    atoms = structure.to_ase_atoms()
    atoms.calc = calculator
    opt = FIRE(FrechetCellFilter(atoms), logfile=None)
    opt.run(fmax=0.05, steps=steps)
    return atoms.get_potential_energy(), opt.nsteps


def test_batched_relaxation_steps_as_ases_fire_does():
    """Five cells relaxed two at a time (places refilled as they finish) end where ASE's FIRE.run
    on each ends: the same steps and energies; a structure the calculator refuses is named and
    the others go on."""
    cells = [fcc(a) for a in (3.5, 3.6, 3.75, 3.9)] + [fcc(3.7).make_supercell([2, 1, 1])]
    items = [(f"Cu{i}", s) for i, s in enumerate(cells)]
    found = {}
    relax_batch(
        items, EMT(), PhaseRelaxSettings(batch_size=2), lambda r, n, e: found.update({n: r})
    )
    assert list(found) != [n for n, _ in items]  # finished out of order: places were refilled
    for name, structure in items:
        energy, steps = ase_relaxation(structure, EMT(), 500)
        assert found[name].steps == steps and found[name].energy == pytest.approx(energy, abs=1e-9)
    errors = {}
    relax_batch(
        [("small", fcc(3.6)), ("big", fcc(3.6).make_supercell(2)), ("mid", fcc(3.7))],
        Exploding(limit=4), PhaseRelaxSettings(batch_size=3, max_steps=5),
        lambda r, n, e: errors.update({n: e}),
    )  # fmt: skip
    assert errors["small"] is None and errors["mid"] is None
    assert errors["big"] == "big: relaxation failed: RuntimeError: model blew up"


def test_chgnet_batches_match_its_ase_calculator():
    """CHGNet's graphs of different cells in one forward pass give what its ASE calculator
    gives one structure at a time, step for step (float32 model: 1e-4 eV/atom)."""
    from cryin_flows.potentials.calculators import get_calculator

    calculator = get_calculator("chgnet", device="cpu")
    licl = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.3), ["Li", "Cl"], [[0] * 3, [0.5] * 3]
    )
    li2o = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.5), ["Li", "O"], [[0.25] * 3, [0] * 3]
    )
    items = [("LiCl", licl), ("Li2O", li2o.get_primitive_structure())]
    found = {}
    settings = PhaseRelaxSettings(max_steps=15)
    relax_batch(items, calculator, settings, lambda r, n, e: found.update({n: r}))
    for name, structure in items:
        energy, steps = ase_relaxation(structure, calculator, 15)
        assert found[name].steps == steps
        assert found[name].energy_per_atom == pytest.approx(energy / len(structure), abs=1e-4)


def test_mp2020_scheme_applies_pymatgens_corrections():
    """Raw energies get MP2020's oxide and Co +U corrections; CHGNet's are left alone."""
    coo = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.26), ["Co", "O"], [[0, 0, 0], [0.5] * 3]
    )
    raw = RelaxedEnergy(
        name="CoO", formula="CoO", energy=-30.0, energy_per_atom=-3.75, n_atoms=8,
        converged=True, steps=1, seconds=0.0, structure=coo.as_dict(),
    )  # fmt: skip
    corrected = to_entries([raw], "mp2020")[0]
    names = {adj.name for adj in corrected.energy_adjustments}
    assert any("oxide" in n for n in names) and any("Co" in n for n in names)
    assert corrected.energy < raw.energy - 4 * (0.5 + 1.0)  # O and Co(U) both lower it
    assert to_entries([raw], "mp2020-included")[0].energy == raw.energy
    assert scheme_of("chgnet") == "mp2020-included"
    with pytest.raises(Exception, match="say how its energies relate to MP2020"):
        scheme_of(LJ)


def test_a_failed_relaxation_keeps_the_others_and_a_rerun_resumes(tmp_path):
    library = load_library()
    name = f"{__name__}:Exploding"
    with pytest.raises(CryinError, match=r"phase\(s\) of li2o-licl failed to relax") as err:
        compute_phase_energies(
            library, "li2o-licl", name, "none", PhaseRelaxSettings(max_steps=3), tmp_path,
            echo=lambda s: None,
        )  # fmt: skip
    assert "model blew up" in str(err.value) and "\n" not in str(err.value)
    saved = [json.loads(line)["name"] for line in (tmp_path / "phases_relaxed.jsonl").open()]
    assert "Li" in saved and "Li3OCl" not in saved  # 1-3 atom cells relaxed, bigger failed
    # a rerun with a calculator that works relaxes only what is missing
    lines = []
    energies = compute_phase_energies(
        library,
        "li2o-licl",
        LJ,
        "none",
        PhaseRelaxSettings(max_steps=3),
        tmp_path,
        echo=lines.append,
    )
    assert f"{len(saved)} of 7 already relaxed" in lines[0]
    assert sum(": " in line and "/7" in line for line in lines) == 7 - len(saved)
    assert {p.name for p in energies.phases} == {
        "Li", "Cl2", "O2", "LiCl", "Li2O", "Li2O2", "Li3OCl"
    }  # fmt: skip


def test_relaxation_log_survives_a_cut_line(tmp_path):
    log = tmp_path / "log.jsonl"
    relax_logged(
        [("a", fcc(3.7)), ("b", fcc(3.5))], LJ, PhaseRelaxSettings(max_steps=2), log, "t",
        echo=lambda s: None,
    )  # fmt: skip
    text = log.read_text().splitlines()
    log.write_text(text[0] + "\n" + text[1][:40])  # killed while writing b
    lines = []
    relax_logged(
        [("a", fcc(3.7)), ("b", fcc(3.5))], LJ, PhaseRelaxSettings(max_steps=2), log, "t",
        echo=lines.append,
    )  # fmt: skip
    assert "1 of 2 already relaxed" in lines[0] and "b:" in lines[1]


@pytest.fixture(scope="module")
def chgnet_li_y_cl(tmp_path_factory):
    library = load_library()
    return compute_phase_energies(
        library, "Li-Y-Cl", "chgnet", "mp2020-included", PhaseRelaxSettings(),
        tmp_path_factory.mktemp("liycl"), echo=lambda s: None,
    )  # fmt: skip


def test_chgnet_windows_beside_the_published_values(chgnet_li_y_cl):
    """Li3YCl6: seed 003 (MACE-MPA-0 + MP2020) 0.64/4.28 V, DFT (Wang et al., Angew. Chem.
    2019) 0.62/4.21 V; LiCl's oxidation from its experimental formation enthalpy
    (-408.3 kJ/mol) is 4.23 V. CHGNet must land within 0.1 V of experiment for LiCl and
    within 0.3 V of both for Li3YCl6, with the published products."""
    result = assess_phases(chgnet_li_y_cl, ["LiCl", "Li3YCl6"], [])
    licl, li3ycl6 = result.windows
    assert licl.e_ox == pytest.approx(408.3e3 / 96485.33, abs=0.1)
    assert licl.oxidation_products == ["Cl2"]
    assert li3ycl6.e_red == pytest.approx(0.62, abs=0.3)
    assert li3ycl6.e_ox == pytest.approx(4.21, abs=0.3)
    assert li3ycl6.reduction_products == ["LiCl", "Y"]
    assert li3ycl6.oxidation_products == ["Cl2", "YCl3"]
    by_name = {p.name: p for p in chgnet_li_y_cl.phases}
    assert by_name["Li3YCl6"].e_hull < 0.06  # seed 003's P312 polymorph sat at 0.06
    assert all(p.converged for p in chgnet_li_y_cl.phases)


class Uphill(Calculator):
    """Energy that rises with every call: a relaxation that never comes down."""

    implemented_properties = ("energy", "forces", "stress")
    calls = 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        Uphill.calls += 1
        n = len(atoms)
        self.results = {
            "energy": 0.5 * n * Uphill.calls / 50,
            "forces": np.full((n, 3), 1.0),
            "stress": np.zeros(6),
        }


def test_a_diverging_relaxation_is_stopped_after_50_steps():
    Uphill.calls = 0
    with pytest.raises(
        CryinError, match=r"Cu: relaxation diverged \(\+0\.5\d eV/atom after 5\d steps"
    ):
        relax_structure(fcc(3.6), Uphill(), PhaseRelaxSettings(), "Cu")
    assert Uphill.calls < 60
    Uphill.calls = 0
    relaxed = relax_structure(
        fcc(3.6), Uphill(), PhaseRelaxSettings(diverged_above=None, max_steps=80), "Cu"
    )
    assert not relaxed.converged and relaxed.steps == 80
