import json
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from jobflow import Flow, run_locally

from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.random_fill import RandomFillSettings, RandomInterfaceGenerator
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.makers.potentials import FramesMaker, LabelMaker, M3GNetTrainMaker
from cryin_flows.potentials.frames import harvest_indices, write_frames
from cryin_flows.potentials.labelling import LabelSettings
from cryin_flows.potentials.m3gnet import M3GNetSettings, load_potential
from cryin_flows.schemas.potentials import FrameSetDoc, LabelDoc, PotentialDoc
from cryin_flows.settings import get_settings

from .conftest import labelled_rocksalt


def test_label_and_frames_jobs(template, tmp_path):
    store = get_job_store(get_settings(project_dir=tmp_path / "proj"))
    # the narrowest gap: a window sized for the widest would take in the film's first planes
    narrow = RandomFillSettings(thickness_range=(4.0, 4.0))
    structures = RandomInterfaceGenerator(template, narrow).generate(4, seed=5)
    label = LabelMaker(
        calculator="ase.calculators.lj:LennardJones",
        calculator_kwargs={"sigma": 2.2, "epsilon": 0.02, "rc": 5.0},
        settings=LabelSettings(stage1_steps=3, stage2_max_steps=12),
        n_per_bulk=2,
        n_contacts=3,
    ).make(structures, template)
    frames = FramesMaker(fractions=(0.5, 0.25, 0.25), out_dir=str(tmp_path / "frames")).make(
        label.output
    )
    run_locally(Flow([label, frames]), store=store, log=False, ensure_success=True)
    labels = load_output(label.uuid, store)
    assert isinstance(labels, LabelDoc) and labels.n_relaxations == 4
    traj = labels.trajectories[0]
    stage1 = np.flatnonzero(traj.stage == 1)
    moved = np.flatnonzero(np.abs(traj.positions[stage1[-1]] - traj.positions[0]).max(1) > 1e-9)
    # stage 1 moves exactly the atoms the fill placed in the region (found by the same rule)
    assert np.array_equal(moved, template.indices("region"))
    assert np.array_equal(moved, template.region_indices(traj.positions[0]))
    doc = load_output(frames.uuid, store)
    assert isinstance(doc, FrameSetDoc)
    assert labels.n_bulk_labels == 4  # 2 x (LiCoO2, Li3ScCl6)
    assert labels.n_contact_labels == 12 == doc.n_contact_frames  # 3 per relaxation, all train
    single = ("bulk-", "contact-")
    interface = {k: [x for x in v if not x.startswith(single)] for k, v in doc.relaxations.items()}
    assert sorted(len(v) for v in interface.values()) == [1, 1, 2]
    assert sum(x.startswith("bulk-") for x in doc.relaxations["train"]) == 4 == doc.n_bulk_frames
    expected = sum(len(harvest_indices(int((t.stage == 2).sum()))) for t in labels.trajectories)
    assert sum(doc.counts.values()) == expected  # one frame per single-point label
    assert set(doc.frames_extxyz) == {"train", "val", "test"}
    assert doc.files["train"].sha256 and (tmp_path / "frames" / "val.extxyz").exists()


def test_tiny_m3gnet_beats_the_mean(tmp_path):
    frames = labelled_rocksalt(40, seed=1)
    for name, part in (("train", frames[:30]), ("val", frames[30:35]), ("test", frames[35:])):
        write_frames(part, tmp_path / "frames" / f"{name}.extxyz")
    store = get_job_store(get_settings(project_dir=tmp_path / "proj"))
    settings = M3GNetSettings(
        units=16, nblocks=1, max_epochs=25, patience=25, learning_rate=3e-3, accelerator="cpu"
    )
    job = M3GNetTrainMaker(settings=settings, out_dir=str(tmp_path / "pot")).make(
        str(tmp_path / "frames")
    )
    run_locally(job, store=store, log=False, ensure_success=True)
    doc = load_output(job.uuid, store)
    assert isinstance(doc, PotentialDoc) and set(doc.files) == {
        "model.pt",
        "model.json",
        "state.pt",
    }
    test = frames[35:]
    per_atom = np.array([a.get_potential_energy() / len(a) for a in frames[:30]])
    baseline_e = np.mean([abs(a.get_potential_energy() / len(a) - per_atom.mean()) for a in test])
    baseline_f = np.mean([np.abs(a.get_forces()).mean() for a in test])
    # the weights kept are the best validation epoch's: re-measured, they give the doc's loss
    summary = json.loads((tmp_path / "pot" / "training_summary.json").read_text())
    assert 1 <= doc.best_epoch == summary["best_epoch"] <= 25
    assert not list((tmp_path / "pot" / ".checkpoints").glob("*.ckpt"))
    assert doc.metrics["test"].energy_mae_mev_atom < 1000 * baseline_e
    assert doc.metrics["test"].force_mae_mev_a < 1000 * baseline_f
    assert (tmp_path / "pot" / "parity.png").exists()
    load_potential(doc.potential_dir)


def test_bad_potential_inputs(tmp_path):
    with pytest.raises(ConfigurationError, match="not a saved potential directory"):
        load_potential(tmp_path)
    from cryin_flows.potentials.m3gnet import split_paths, train_m3gnet

    with pytest.raises(ConfigurationError, match="frame files missing"):
        split_paths(tmp_path)
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    atoms.calc = SinglePointCalculator(atoms, energy=-1.0)
    from ase.io import write

    for name in ("train", "val", "test"):
        write(tmp_path / f"{name}.extxyz", [atoms], format="extxyz")
    with pytest.raises(ConfigurationError, match=r"train\.extxyz, frame 0: no forces"):
        train_m3gnet(tmp_path, tmp_path / "out")


def test_label_workers_give_the_serial_labels_in_order(template):
    """Two spawned workers relax the same structures to the same trajectories, in input order."""
    from cryin_flows.potentials.labelling import label_interfaces

    narrow = RandomFillSettings(thickness_range=(4.0, 4.0))
    structures = RandomInterfaceGenerator(template, narrow).generate(3, seed=2)
    lj = "ase.calculators.lj:LennardJones"
    kwargs = {"sigma": 2.2, "epsilon": 0.02, "rc": 5.0}
    settings = LabelSettings(stage1_steps=2, stage2_max_steps=8)
    done = []
    serial = label_interfaces(structures, template, lj, settings, kwargs)
    parallel = label_interfaces(structures, template, lj, settings, kwargs, 2, done.append)
    assert [t.label for t in parallel] == [t.label for t in serial] == ["2-0", "2-1", "2-2"]
    assert sum(done) == 3
    for a, b in zip(serial, parallel, strict=True):
        assert len(a) == len(b) and a.calculator == b.calculator == lj
        np.testing.assert_allclose(a.positions, b.positions, atol=1e-9)
        np.testing.assert_allclose(a.energies, b.energies, atol=1e-9)
    with pytest.raises(ConfigurationError, match="workers must be >= 1"):
        label_interfaces(structures, template, lj, settings, kwargs, 0)


def test_training_without_stresses_reports_no_stress_error(tmp_path):
    """stress_weight 0 trains a potential without a stress head (the study's cells are fixed);
    its metrics say so instead of failing on the missing stress."""
    from cryin_flows.potentials.m3gnet import train_m3gnet

    frames = labelled_rocksalt(12, seed=3)
    for name, part in (("train", frames[:8]), ("val", frames[8:10]), ("test", frames[10:])):
        write_frames(part, tmp_path / "frames" / f"{name}.extxyz")
    settings = M3GNetSettings(
        units=8, nblocks=1, max_epochs=2, patience=2, stress_weight=0.0, accelerator="cpu"
    )
    summary = train_m3gnet(tmp_path / "frames", tmp_path / "pot", settings)
    test = summary.metrics["test"]
    assert test.stress_mae_gpa is None and test.n_frames == 2
    assert test.errors_text().endswith("meV/Å, no stress")
    assert load_potential(summary.potential_dir).calc_stresses is False
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        M3GNetSettings(stress_weight=-0.1)


def _lj_labels(template, seed: int, n: int = 3) -> LabelDoc:
    """Reference relaxations of ``n`` random interfaces by Lennard-Jones (seconds)."""
    narrow = RandomFillSettings(thickness_range=(4.0, 4.0))
    structures = RandomInterfaceGenerator(template, narrow).generate(n, seed=seed)
    maker = LabelMaker(
        calculator="ase.calculators.lj:LennardJones",
        calculator_kwargs={"sigma": 2.2, "epsilon": 0.02, "rc": 5.0},
        settings=LabelSettings(stage1_steps=0, stage2_max_steps=4),
        n_per_bulk=0,
    )
    return LabelMaker.make.original(maker, structures, template)


def test_frames_extend_a_base_frame_set(template, tmp_path):
    """Active learning adds frames to the splits of the frame set so far: base frames first,
    the split-by-relaxation rule kept, a relaxation already in the base refused."""
    first, second = _lj_labels(template, seed=5), _lj_labels(template, seed=6)
    base = FramesMaker.make.original(
        FramesMaker(first_step=1, every=1, out_dir=str(tmp_path / "f0")), first
    )
    maker = FramesMaker(
        first_step=1, every=2, fractions=(1.0, 0.0, 0.0), out_dir=str(tmp_path / "f1")
    )
    grown = FramesMaker.make.original(maker, second, base)
    new = sum(len(harvest_indices(len(t), 1, 2)) for t in second.trajectories)
    assert grown.base_counts == base.counts
    assert grown.counts == {**base.counts, "train": base.counts["train"] + new}
    n_base = len(base.relaxations["train"])
    assert grown.relaxations["train"][:n_base] == base.relaxations["train"]
    assert sorted(grown.relaxations["train"][n_base:]) == ["6-0", "6-1", "6-2"]
    assert grown.relaxations["test"] == base.relaxations["test"]
    written = grown.read_frames()
    assert [a.get_potential_energy() for a in written["train"][: base.counts["train"]]] == [
        a.get_potential_energy() for a in base.read_frames()["train"]
    ]
    last = next(t for t in second.trajectories if t.label == grown.relaxations["train"][-1])
    np.testing.assert_allclose(written["train"][-1].get_forces(), last.forces[-1], atol=1e-6)
    with pytest.raises(ConfigurationError, match="already in the base frame set: 5-0, 5-1"):
        FramesMaker.make.original(maker, first, base)


def test_fine_tuning_starts_from_the_given_weights(tiny_potential, tmp_path):
    """``init_from`` continues from a potential's weights and element references: with a
    vanishing learning rate its predictions are the start's, not a fresh model's; the
    architecture is the start's whatever the settings say."""
    from cryin_flows.potentials.m3gnet import ase_calculator, train_m3gnet

    frames = labelled_rocksalt(6, seed=4)
    for name, part in (("train", frames[:4]), ("val", frames[4:5]), ("test", frames[5:])):
        write_frames(part, tmp_path / "frames" / f"{name}.extxyz")
    settings = M3GNetSettings(
        units=8, nblocks=2, max_epochs=1, patience=1, learning_rate=1e-12, accelerator="cpu"
    )
    tuned = train_m3gnet(tmp_path / "frames", tmp_path / "tuned", settings, tiny_potential)
    scratch = train_m3gnet(tmp_path / "frames", tmp_path / "scratch", settings)
    assert tuned.init_from == str(Path(tiny_potential).resolve()) and scratch.init_from is None
    assert (tuned.settings.units, tuned.settings.nblocks) == (16, 1)  # the start's
    assert tuned.settings.learning_rate == 1e-12  # what fine-tuning does set
    probe = frames[5].copy()
    energies = {}
    for name, path in (("start", tiny_potential), ("tuned", tuned.potential_dir)):
        probe.calc = ase_calculator(path)
        energies[name] = probe.get_potential_energy()
    probe.calc = ase_calculator(scratch.potential_dir)
    assert energies["tuned"] == pytest.approx(energies["start"], abs=1e-4)
    assert abs(probe.get_potential_energy() - energies["start"]) > 0.1

    sodium = bulk("NaCl", "rocksalt", a=5.6, cubic=True)
    sodium.calc = SinglePointCalculator(sodium, energy=-20.0, forces=np.zeros((8, 3)))
    for name in ("train", "val", "test"):
        write_frames([sodium], tmp_path / "na" / f"{name}.extxyz")
    with pytest.raises(ConfigurationError, match="elements Na are not in the potential"):
        train_m3gnet(tmp_path / "na", tmp_path / "out", settings, tiny_potential)
