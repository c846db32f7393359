"""MD runs: supercells by paper 003's rule, production frames, and a killed run that resumes
from its last checkpoint with the frames an uninterrupted run has."""

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from cryin_flows.dynamics.md import MDSettings, run_md, supercell_size
from cryin_flows.dynamics.trajectory import Trajectory
from cryin_flows.errors import CryinError

EMT = "ase.calculators.emt:EMT"


def _cu():
    return Structure(
        Lattice.cubic(3.61), ["Cu"] * 4, [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    )


def _settings(**kw):
    base = dict(
        temperatures=[300.0, 900.0], thermalise_ps=0.02, production_ps=0.3, frame_fs=10.0,
        checkpoint_ps=0.05, min_atoms=32, sphere_diameter=0.0, relax_max_steps=20,
        device="cpu", berendsen_tau_fs=20.0,
    )  # fmt: skip
    return MDSettings(**(base | kw))


def test_supercell_holds_the_atoms_and_the_sphere():
    hexagonal = Structure(Lattice.hexagonal(11.22, 6.04), ["Cl"], [[0, 0, 0]])
    # widths 9.72 Å in-plane and 6.04 Å along c: a 10 Å sphere needs 2 x 2 x 2
    assert supercell_size(hexagonal, 1, 10.0) == (2, 2, 2)
    assert supercell_size(_cu(), 100, 10.0) == (3, 3, 3)  # 108 atoms, 10.8 Å wide
    assert supercell_size(_cu(), 100, 0.0) == (1, 5, 5)  # without the sphere: fewest atoms
    assert np.prod(supercell_size(_cu(), 500, 10.0)) * 4 >= 500


def test_frames_every_frame_fs_and_a_round_trip_through_json(tmp_path):
    trajectories, device = run_md([_cu()], EMT, _settings(), tmp_path, echo=lambda _: None)
    assert device == "cpu" and [t.temperature for t in trajectories] == [300.0, 900.0]
    t = trajectories[1]
    assert t.positions.shape == (31, 32, 3) and t.duration_ps == pytest.approx(0.3)
    # Berendsen with τ = 20 fs has brought the hot run up: mean T of production near 900 K
    assert 600 < t.temperatures.mean() < 1200
    back = Trajectory.from_dict(t.as_dict())
    assert np.array_equal(back.positions, t.positions) and back.start == t.start
    with pytest.raises(CryinError, match="other settings"):
        run_md([_cu()], EMT, _settings(temperatures=[300.0, 600.0]), tmp_path, echo=print)
    # a longer production continues the run: the first 0.3 ps are the same frames
    longer, _ = run_md([_cu()], EMT, _settings(production_ps=0.4), tmp_path, echo=print)
    assert longer[1].positions.shape[0] == 41
    assert np.array_equal(longer[1].positions[:31], t.positions)
    shorter, _ = run_md([_cu()], EMT, _settings(production_ps=0.2), tmp_path, echo=print)
    assert np.array_equal(shorter[1].positions, t.positions[:21])


def test_bad_frame_interval_is_one_clear_error():
    with pytest.raises(ValueError, match=r"whole number of 2\.0 fs steps"):
        MDSettings(frame_fs=25.0)


SCRIPT = """
import sys
from tests.dynamics.test_md import _cu, _settings, EMT
from cryin_flows.dynamics.md import run_md
run_md([_cu()], EMT, _settings(thermostat=sys.argv[2]), sys.argv[1])
"""


@pytest.mark.parametrize("thermostat", ["nose-hoover", "langevin"])
def test_a_killed_run_resumes_to_the_same_frames(tmp_path, thermostat):
    whole, _ = run_md(
        [_cu()], EMT, _settings(thermostat=thermostat), tmp_path / "whole", echo=lambda _: None
    )
    folder = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(folder), thermostat],
        cwd=Path(__file__).parents[2], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in proc.stdout:  # kill it hard once production has checkpointed twice
        if "production 0.1" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-2000:]
    lines = []
    resumed, _ = run_md([_cu()], EMT, _settings(thermostat=thermostat), folder, echo=lines.append)
    assert lines[0].startswith("md: resuming at step")
    for a, b in zip(whole, resumed, strict=True):
        assert np.array_equal(a.positions, b.positions)
