"""``cryin screen`` on files: phases, assess, candidates, run; bad inputs give one line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cryin_flows.cli import app
from cryin_flows.data import load_bulk

from .test_candidates import WYFORMER

LJ = "ase.calculators.lj:LennardJones"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert text.startswith("Error:") and all(n in text for n in needles), text
    assert result.output.count("Error:") == 1


def test_screen_commands_end_to_end(tmp_path):
    phases = tmp_path / "phases"
    result = invoke(
        "screen", "phases", "Li-Y-Cl", "--out", str(phases), "--calculator", LJ,
        "--energy-scheme", "none", "--max-steps", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    energies = json.loads((phases / "phase_energies.json").read_text())
    assert {p["name"] for p in energies["phases"]} == {"Li", "Y", "Cl2", "LiCl", "YCl3", "Li3YCl6"}
    result = invoke(
        "screen", "assess", str(phases), "--phase", "LiCl", "--pair", "LiCl:YCl3",
        "--figures", str(tmp_path / "fig"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "LiCl: window" in result.output and "LiCl | YCl3: E_rxn" in result.output
    assert (tmp_path / "fig" / "hull.png").exists() and (tmp_path / "fig" / "mixing.png").exists()
    (tmp_path / "wf.json").write_text(json.dumps(WYFORMER[:2]))
    result = invoke(
        "screen",
        "candidates",
        "--from",
        str(tmp_path / "wf.json"),
        "--out",
        str(tmp_path / "c.extxyz"),
    )
    assert result.exit_code == 0 and "2 candidates written" in result.output
    result = invoke(
        "screen", "run", str(tmp_path / "c.extxyz"), "--energies", str(phases), "--out",
        str(tmp_path / "run"), "--electrolyte", "Li3YCl6", "--cathode", "LiCl",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    screen = json.loads((tmp_path / "run" / "screen.json").read_text())
    assert screen["counts"]["candidates"] == 2
    assert (tmp_path / "run" / "funnel.png").exists()


def test_screen_bad_inputs_are_one_line(tmp_path):
    one_line_error(invoke("screen", "phases", "Li-Br", "--out", str(tmp_path)), "Li-Br: Br")
    one_line_error(
        invoke("screen", "phases", "Li-Cl", "--out", str(tmp_path), "--calculator", LJ),
        "say how its energies relate to MP2020",
    )
    phases = tmp_path / "phases"
    invoke(
        "screen", "phases", "li2o-licl", "--out", str(phases), "--calculator", LJ,
        "--energy-scheme", "none", "--max-steps", "2",
    )  # fmt: skip
    one_line_error(invoke("screen", "assess", str(phases), "--pair", "LiCl"), "write it as A:B")
    (tmp_path / "wf.json").write_text(json.dumps(WYFORMER[:2]))
    invoke(
        "screen",
        "candidates",
        "--from",
        str(tmp_path / "wf.json"),
        "--out",
        str(tmp_path / "c.extxyz"),
    )
    # Li-Y-Cl candidates against Li-O-Cl phases: Y is outside the chemistry, nothing relaxed
    one_line_error(
        invoke("screen", "run", str(tmp_path / "c.extxyz"), "--energies", str(phases), "--out",
               str(tmp_path / "run"), "--electrolyte", "LiCl", "--cathode", "Li2O"),
        "candidate wf:1: element(s) Y are outside the chemistry",
    )  # fmt: skip
    assert not (tmp_path / "run" / "candidates_relaxed.jsonl").exists()
    # an electrolyte the phases do not have is named before anything is relaxed
    (tmp_path / "licl.cif").write_text(load_bulk("LiCl").to(fmt="cif"))
    one_line_error(
        invoke("screen", "run", str(tmp_path / "licl.cif"), "--energies", str(phases), "--out",
               str(tmp_path / "run3"), "--electrolyte", "Li3ScCl6"),
        "phase 'Li3ScCl6' is not among the computed phases",
    )  # fmt: skip
    assert not (tmp_path / "run3" / "candidates_relaxed.jsonl").exists()
    (tmp_path / "empty.extxyz").write_text("")
    one_line_error(
        invoke("screen", "run", str(tmp_path / "empty.extxyz"), "--energies", str(phases),
               "--out", str(tmp_path / "run2")),
        "empty",
    )  # fmt: skip
    one_line_error(
        invoke("screen", "candidates", "--out", str(tmp_path / "x.extxyz")), "--elements"
    )
