"""The one-gradient CHGNet gives CHGNet's own numbers (its ASE calculator, not ours, is the
reference): energies, forces, stresses and magnetic moments, one structure or a batch."""

import warnings

import numpy as np
import pytest
from ase.build import bulk

from cryin_flows.potentials.calculators import (
    _chgnet_model,
    batch_evaluator,
    get_calculator,
    one_gradient_chgnet,
)


@pytest.fixture(scope="module")
def cells():
    licl = bulk("LiCl", "rocksalt", a=5.2, cubic=True).repeat((2, 1, 1))
    licl.rattle(0.05, seed=1)
    licl.set_cell(licl.cell * [1.01, 0.99, 1.0], scale_atoms=True)
    li2o = bulk("Li2O", "fluorite", a=4.6)
    li2o.rattle(0.05, seed=2)
    return [licl, li2o]


def _chgnets_own(atoms):
    from chgnet.model.dynamics import CHGNetCalculator

    atoms = atoms.copy()
    atoms.calc = CHGNetCalculator(model=_chgnet_model(), use_device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "energy": atoms.get_potential_energy(),
            "forces": atoms.get_forces(),
            "stress": atoms.get_stress(),
            "magmoms": atoms.get_magnetic_moments(),
        }


def _close(found, expected, n_atoms):
    assert found["energy"] / n_atoms == pytest.approx(expected["energy"] / n_atoms, abs=1e-6)
    np.testing.assert_allclose(found["forces"], expected["forces"], atol=1e-4)
    np.testing.assert_allclose(found["stress"], expected["stress"], atol=1e-6)
    if "magmoms" in found:
        np.testing.assert_allclose(found["magmoms"], expected["magmoms"], atol=1e-6)


def test_one_gradient_chgnet_gives_chgnets_numbers(cells):
    calculator = get_calculator("chgnet", device="cpu")
    assert isinstance(calculator, one_gradient_chgnet())
    for atoms in cells:
        ours = atoms.copy()
        ours.calc = calculator
        found = {
            "energy": ours.get_potential_energy(),
            "forces": ours.get_forces(),
            "stress": ours.get_stress(),
            "magmoms": ours.get_magnetic_moments(),
        }
        _close(found, _chgnets_own(atoms), len(atoms))
        ours.positions[0] += 0.1  # a moved atom is recomputed, not served from the last call
        assert ours.get_potential_energy() != pytest.approx(found["energy"], abs=1e-6)


def test_a_batch_of_different_cells_gives_each_ones_numbers(cells):
    evaluate = batch_evaluator(get_calculator("chgnet", device="cpu"))
    found = evaluate(cells)
    for atoms, result in zip(cells, found, strict=True):
        expected = _chgnets_own(atoms)
        result = result | {"stress": _voigt(result["stress"])}
        _close(result, expected, len(atoms))
    no_stress = batch_evaluator(get_calculator("chgnet", device="cpu"), stress=False)(cells)
    assert all("stress" not in r for r in no_stress)
    np.testing.assert_allclose(no_stress[1]["forces"], found[1]["forces"], atol=1e-6)


def _voigt(stress):
    """A 3×3 stress as ASE's Voigt six (xx yy zz yz xz xy)."""
    stress = np.asarray(stress)
    return stress[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
