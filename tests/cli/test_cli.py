import json

from typer.testing import CliRunner

from cryin_flows.cli import app
from cryin_flows.interfaces.interface_set import InterfaceSet

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_template_command_writes_json(tmp_path):
    out = tmp_path / "template.json"
    result = invoke("interfaces", "template", "--out", out)
    assert result.exit_code == 0, result.output
    assert "264" in result.output and "75.712" in result.output
    data = json.loads(out.read_text())
    assert len(data["species"]) == 264


def test_template_with_paper_lateral_lattice(tmp_path):
    result = invoke("interfaces", "template", "--lateral-lattice", 12.46997, 17.19967, 75.6674)
    assert result.exit_code == 0, result.output
    assert "207.804" in result.output


def test_generate_and_check(tmp_path):
    template = tmp_path / "template.json"
    invoke("interfaces", "template", "--out", template)
    out = tmp_path / "random.extxyz"
    result = invoke(
        "interfaces",
        "generate",
        "--n",
        5,
        "--seed",
        3,
        "--exchanges",
        "--template",
        template,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    structures = InterfaceSet.read_extxyz(out)
    assert len(structures) == 5 and structures.infos[4]["index"] == 4
    assert "exchanges_Cl_O" in structures.infos[0]
    result = invoke("interfaces", "check", out, "--template", template)
    assert result.exit_code == 0 and "5 frames" in result.output


def test_check_names_the_frame_that_does_not_fit(tmp_path):
    out = tmp_path / "other.extxyz"
    assert (
        invoke(
            "interfaces", "generate", "--n", 2, "--out", out, "--preset", "lsc-lco-paper-cell"
        ).exit_code
        == 0
    )
    result = invoke("interfaces", "check", out)  # default preset: different lattice
    assert result.exit_code == 1
    assert "frame 0: lattice vector" in result.output
    assert "Traceback" not in result.output


def test_errors_are_one_line_without_traceback(tmp_path):
    cases = [
        (("interfaces", "template", "--preset", "nope"), "unknown preset 'nope'"),
        (
            (
                "interfaces",
                "generate",
                "--n",
                1,
                "--out",
                tmp_path / "x.extxyz",
                "--thickness",
                0.5,
                0.6,
            ),
            "could not place the region's",
        ),
        (
            (
                "interfaces",
                "generate",
                "--n",
                1,
                "--out",
                tmp_path / "x.extxyz",
                "--min-distance",
                "ClCl",
            ),
            "use PAIR=DIST",
        ),
        (("interfaces", "template", "--system", tmp_path / "missing.yaml"), "does not exist"),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code == 1, (args, result.output)
        assert message in " ".join(result.output.split()), result.output
        assert "Traceback" not in result.output


def test_bad_miller_index_from_system_file(tmp_path):
    system = tmp_path / "system.yaml"
    system.write_text(
        "substrate: {bulk: LiCoO2, miller: [0, 0, 0], layers: 4}\n"
        "film: {bulk: Li3ScCl6, miller: [1, 0, 0], layers: 6, tasker2b: true}\n"
        "region_composition: {Li: 9, Sc: 3, Cl: 18}\n"
    )
    result = invoke("interfaces", "template", "--system", system)
    assert result.exit_code == 1 and "Miller index (0, 0, 0)" in result.output
