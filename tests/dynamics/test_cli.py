"""`cryin md`, `cryin transport` and `cryin barrier` on files, and their one-line errors."""

import json

import numpy as np
from pymatgen.core import Lattice, Structure
from typer.testing import CliRunner

from cryin_flows.cli import app
from cryin_flows.dynamics.trajectory import Trajectory

from .test_diffusion import walk

runner = CliRunner()


def test_md_writes_trajectories_and_resumes(tmp_path):
    cu = Structure(
        Lattice.cubic(3.61), ["Cu"] * 4, [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    )
    cu.to(filename=str(tmp_path / "Cu.cif"))
    args = [
        "md", str(tmp_path / "Cu.cif"), "--out", str(tmp_path / "run"), "--calculator",
        "ase.calculators.emt:EMT", "--temperatures", "300,600", "--production-ps", "0.1",
        "--thermalise-ps", "0.02", "--frame-fs", "10", "--min-atoms", "32", "--sphere", "0",
        "--device", "cpu",
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "run" / "trajectories").glob("*.json"))
    assert [f.name for f in files] == ["Cu_300K.json", "Cu_600K.json"]
    t = Trajectory.from_dict(json.loads(files[1].read_text()))
    assert t.positions.shape == (11, 32, 3) and t.temperature == 600.0
    again = runner.invoke(app, args)  # everything is there: resumes at the end, same frames
    assert "resuming" in again.output
    assert np.array_equal(
        Trajectory.from_dict(json.loads(files[1].read_text())).positions, t.positions
    )


def test_transport_reads_trajectories_and_reports(tmp_path):
    paths = []
    for temperature, d in ((500.0, 0.05), (800.0, 0.2)):
        structure, positions = walk(1, d=d)
        t = Trajectory(
            "walk",
            temperature,
            structure.as_dict(),
            50.0,
            positions,
            np.full(len(positions), temperature),
            np.zeros(len(positions)),
        )
        paths.append(tmp_path / f"walk_{temperature:.0f}.json")
        paths[-1].write_text(json.dumps(t.as_dict()))
    out = tmp_path / "transport.json"
    result = runner.invoke(
        app, ["transport", *map(str, paths), "--out", str(out), "--figures", str(tmp_path / "fig")]
    )
    assert result.exit_code == 0, result.output
    (found,) = json.loads(out.read_text())
    # the same walk with steps twice as long: D exactly 4x, E_a = k ln 4 / (1/500 - 1/800)
    expected = 8.617333262e-5 * np.log(4) / (1 / 500 - 1 / 800)
    assert abs(found["arrhenius"]["activation_energy"] - expected) < 1e-6
    assert (tmp_path / "fig" / "arrhenius.png").is_file() and "σ(300 K)" in result.output


def test_bad_inputs_are_one_line_errors(tmp_path):
    (tmp_path / "junk.json").write_text("{}")
    for args, expected in (
        (["transport", str(tmp_path / "none.json")], "does not exist"),
        (["transport", str(tmp_path / "junk.json")], "not a trajectory"),
        (["md", str(tmp_path / "none.cif"), "--out", str(tmp_path)], "does not exist"),
        (
            ["md", str(tmp_path / "junk.json"), "--out", str(tmp_path), "--temperatures", "hot"],
            "give numbers",
        ),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, args
        assert expected in result.output and "Traceback" not in result.output
