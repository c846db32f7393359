import numpy as np
import pytest
from ase.build import bulk
from scipy.stats import spearmanr

from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.potentials.calculators import get_calculator
from cryin_flows.potentials.check import check_against_reference

LJ = ("ase.calculators.lj:LennardJones", {"sigma": 2.2, "epsilon": 0.05, "rc": 6.0})


def licl_set(n: int) -> InterfaceSet:
    frames = []
    for i in range(n):
        atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
        atoms.rattle(0.05 * (i + 1), seed=i)
        frames.append(atoms.get_scaled_positions())
    return InterfaceSet(np.array(atoms.cell), atoms.get_chemical_symbols(), np.array(frames))


def test_reference_check_measures_offset_ranking_and_forces():
    calculator = get_calculator(LJ[0], **LJ[1])
    structures = licl_set(5)
    truth = []
    for i in range(5):
        atoms = structures.atoms(i)
        atoms.calc = calculator
        truth.append((atoms.get_potential_energy(), np.linalg.norm(atoms.get_forces(), axis=1)))
    # a "potential" 20 meV/atom below the reference, ranking of two swapped
    shifted = [e - 0.020 * 8 for e, _ in truth]
    shifted[1], shifted[2] = shifted[2], shifted[1]
    for info, energy in zip(structures.infos, shifted, strict=True):
        info["energy"] = energy
    check = check_against_reference(structures, calculator, n=4)
    assert check.indices == [0, 1, 2, 3]
    assert check.reference_energy == pytest.approx([e / 8 for e, _ in truth[:4]])
    assert check.reference_max_force == pytest.approx([f.max() for _, f in truth[:4]])
    expected = 1000 * (np.array([e / 8 for e, _ in truth[:4]]) - np.array(shifted[:4]) / 8)
    assert check.energy_offset_mev_atom == pytest.approx(expected.mean())
    assert check.energy_mae_mev_atom == pytest.approx(np.abs(expected).mean())
    reference = [e / 8 for e, _ in truth[:4]]
    assert check.rank_correlation == pytest.approx(spearmanr(reference, shifted[:4])[0])
    assert check.rank_correlation < 1.0  # the swapped pair shows
    assert check_against_reference(structures, calculator, n=2).rank_correlation is None


def test_reference_check_needs_relaxed_energies():
    structures = licl_set(2)
    with pytest.raises(ConfigurationError, match="structure 0 has no relaxed energy"):
        check_against_reference(structures, get_calculator(LJ[0], **LJ[1]))
