import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from cryin_flows.errors import ConfigurationError
from cryin_flows.potentials.frames import harvest
from cryin_flows.units import ase_stress_to_gpa, vasp_stress_to_ase, vasp_stress_to_gpa
from cryin_flows.vasp.frames import trajectory_from_ionic_steps


def ionic_steps(n: int):
    """Steps shaped like pymatgen's Vasprun.ionic_steps."""
    rng = np.random.default_rng(0)
    base = Structure(Lattice.cubic(5.14), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    steps = []
    for i in range(n):
        s = base.copy()
        s.translate_sites([0], [0.001 * i, 0, 0])
        steps.append(
            {
                "structure": s,
                "e_fr_energy": -7.0 - 0.01 * i,
                "e_0_energy": -7.001 - 0.01 * i,
                "forces": rng.normal(0, 0.1, (2, 3)).tolist(),
                "stress": [[10.0, 1.0, 0.0], [1.0, -5.0, 0.0], [0.0, 0.0, 2.0]],  # kbar
            }
        )
    return steps


def test_stress_conversion_matches_the_gpa_convention():
    kbar = np.array([[10.0, 1.0, 0.0], [1.0, -5.0, 0.0], [0.0, 0.0, 2.0]])
    ase = vasp_stress_to_ase(kbar)
    # through ASE units or directly from kbar, the same GPa (compressive negative)
    assert ase_stress_to_gpa(ase) == pytest.approx(vasp_stress_to_gpa([10.0, -5.0, 2.0, 0, 0, 1.0]))


def test_dft_steps_feed_the_same_harvest():
    steps = ionic_steps(27)
    traj = trajectory_from_ionic_steps(steps, "dft-0")
    frames = harvest(traj)
    assert [f.info["ionic_step"] for f in frames] == [5, 15, 25, 27]
    fourth = frames[1]
    assert fourth.get_potential_energy() == pytest.approx(steps[14]["e_fr_energy"])
    assert np.allclose(fourth.get_forces(), steps[14]["forces"])
    assert ase_stress_to_gpa(fourth.get_stress())[0] == pytest.approx(-1.0)  # 10 kbar compressive


def test_missing_forces_are_named():
    steps = ionic_steps(3)
    steps[1]["forces"] = None
    with pytest.raises(ConfigurationError, match="ionic step 2: needs structure, e_fr_energy"):
        trajectory_from_ionic_steps(steps, "dft-1")
    with pytest.raises(ConfigurationError, match="no ionic steps"):
        trajectory_from_ionic_steps([], "dft-2")
