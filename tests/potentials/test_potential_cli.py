import csv
import json

from typer.testing import CliRunner

from cryin_flows.cli import app
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
from cryin_flows.potentials.frames import write_frames

from .conftest import labelled_rocksalt
from .test_relax import rattled_set

runner = CliRunner()


def label(path, out, *extra):
    return runner.invoke(
        app,
        [
            "label",
            str(path),
            "--out",
            str(out),
            "--calculator",
            "ase.calculators.lj:LennardJones",
            "--stage1-steps",
            "2",
            "--max-steps",
            "6",
            *extra,
        ],
    )


def test_cli_label_writes_trajectories_and_split_frames(template, tmp_path):
    from monty.serialization import loadfn

    structures = RandomInterfaceGenerator(template).generate(3, seed=8)
    path = structures.write_extxyz(tmp_path / "random.extxyz")
    result = label(path, tmp_path / "labels", "--n-per-bulk", "1", "--contacts", "2")
    assert result.exit_code == 0, result.output
    labels = [t.label for t in loadfn(tmp_path / "labels" / "trajectories.json.gz")]
    # the label job's data set: relaxations, one cell per bulk, 2 contacts per relaxation
    assert labels[:3] == ["8-0", "8-1", "8-2"]
    assert sorted(labels[3:5]) == ["bulk-Li3ScCl6-0", "bulk-LiCoO2-0"]
    assert len(labels) == 11 and all(x.startswith("contact-8-") for x in labels[5:])
    for split in ("train", "val", "test"):
        assert (tmp_path / "labels" / f"{split}.extxyz").exists()
    output = " ".join(result.output.split())
    assert "3 relaxations" in output and "8 single-point labels" in output
    assert "Note:" not in output
    # two structures cannot fill three splits: said at the end, not found out by `train`
    two = RandomInterfaceGenerator(template).generate(2, seed=8)
    result = label(two.write_extxyz(tmp_path / "two.extxyz"), tmp_path / "two", "--workers", "2")
    assert result.exit_code == 0, result.output
    note = " ".join(result.output.split())
    assert "no frames for" in note and "label at least 3 structures" in note


def test_cli_train_and_relax(tmp_path):
    frames = labelled_rocksalt(12, seed=3)
    for name, part in (("train", frames[:8]), ("val", frames[8:10]), ("test", frames[10:])):
        write_frames(part, tmp_path / "frames" / f"{name}.extxyz")
    result = runner.invoke(
        app,
        [
            "potential",
            "train",
            str(tmp_path / "frames"),
            "--out",
            str(tmp_path / "pot"),
            "--epochs",
            "3",
            "--units",
            "16",
            "--nblocks",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "meV/atom" in result.output
    summary = json.loads((tmp_path / "pot" / "training_summary.json").read_text())
    assert set(summary["metrics"]) == {"train", "val", "test"}
    # fine-tuning it: the first model's size, whatever --units says
    args = ["potential", "train", str(tmp_path / "frames"), "--out", str(tmp_path / "tuned")]
    result = runner.invoke(
        app, [*args, "--epochs", "1", "--units", "8", "--init-from", str(tmp_path / "pot")]
    )
    assert result.exit_code == 0, result.output
    assert f"fine-tuned from {tmp_path / 'pot' / 'potential'}" in result.output.replace("\n", "")
    tuned = json.loads((tmp_path / "tuned" / "training_summary.json").read_text())
    assert tuned["settings"]["units"] == 16 and tuned["epochs"] == 1

    to_relax = rattled_set(3).write_extxyz(tmp_path / "in.extxyz")
    out = tmp_path / "relaxed.extxyz"
    result = runner.invoke(
        app,
        [
            "relax",
            str(to_relax),
            "--potential",
            str(tmp_path / "pot"),  # the folder `potential train --out` named
            "--out",
            str(out),
            "--max-steps",
            "50",
        ],
    )
    assert result.exit_code == 0, result.output
    relaxed = InterfaceSet.read_extxyz(out)
    assert len(relaxed) == 3 and "final_energy" in relaxed.infos[0]
    with open(out.with_suffix(".csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["index"]) for r in rows] == [0, 1, 2]
    missing = runner.invoke(
        app, ["relax", str(to_relax), "--potential", str(tmp_path), "--out", str(out)]
    )
    assert missing.exit_code == 1 and "not a saved potential directory" in missing.output
    # the saved model folder itself works too, and gives the same relaxation
    again = tmp_path / "again.extxyz"
    result = runner.invoke(
        app,
        [
            "relax",
            str(to_relax),
            "--potential",
            str(tmp_path / "pot" / "potential"),
            "--out",
            str(again),
            "--max-steps",
            "50",
        ],
    )
    assert result.exit_code == 0, result.output
    assert InterfaceSet.read_extxyz(again).frac_coords.tolist() == relaxed.frac_coords.tolist()
