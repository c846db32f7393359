import numpy as np
import pytest
from ase.build import bulk
from ase.io import read
from monty.json import MontyDecoder, jsanitize

from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.energy import interface_energy
from cryin_flows.potentials.calculators import get_calculator
from cryin_flows.potentials.frames import (
    frames_hash,
    harvest,
    harvest_indices,
    split_labels,
    write_frames,
)
from cryin_flows.potentials.labelling import (
    LabelSettings,
    RelaxationTrajectory,
    label_contacts,
    relax_two_stage,
)
from cryin_flows.units import ase_stress_to_gpa, vasp_stress_to_gpa

LJ = "ase.calculators.lj:LennardJones"


def rattled_licl(seed=0):
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    atoms.rattle(0.15, seed=seed)
    return atoms


def test_harvest_indices_follow_the_paper():
    assert harvest_indices(1) == [0]
    assert harvest_indices(4) == [3]  # shorter than 5 steps: the final only
    assert harvest_indices(5) == [4]
    assert harvest_indices(30) == [4, 14, 24, 29]
    assert harvest_indices(25) == [4, 14, 24]  # the final is step 25 already


def test_stress_units():
    assert ase_stress_to_gpa(1.0) == pytest.approx(160.21766208)
    # VASP kbar are compressive positive; matgl's GPa compressive negative
    assert vasp_stress_to_gpa([10.0, -5.0]).tolist() == pytest.approx([-1.0, 0.5])


def test_interface_energy_hand_calculation():
    """The paper's constants: 264 atoms, A = 207.80 Å², e_ref = -4.78 eV/atom."""
    total = -1262.5
    expected = (total - 264 * -4.78) / 207.80 * 16.0218
    assert interface_energy(total, 264, -4.78, 207.80) == pytest.approx(expected)
    assert expected == pytest.approx(-0.0447, abs=1e-4)


def test_two_stage_relaxation_records_every_step():
    calc = get_calculator(LJ, sigma=2.2, epsilon=0.05, rc=6.0)
    atoms = rattled_licl()
    traj = relax_two_stage(atoms, calc, [0, 1], LabelSettings(stage1_steps=4), label="lj-0")
    stage1 = np.flatnonzero(traj.stage == 1)
    assert len(stage1) == 5  # the start + 4 region-only steps
    # stage 1 moved only the region atoms
    moved = np.abs(traj.positions[stage1[-1]] - traj.positions[0]).max(axis=1) > 1e-9
    assert set(np.flatnonzero(moved)) <= {0, 1} and moved.any()
    assert traj.converged and np.abs(traj.forces[-1]).max() < 0.1
    assert traj.forces.shape == traj.positions.shape and traj.stresses.shape == (len(traj), 6)
    back = MontyDecoder().process_decoded(jsanitize(traj, strict=True))
    assert isinstance(back, RelaxationTrajectory) and np.allclose(back.forces, traj.forces)


def test_contacts_move_one_atom_to_the_asked_distance():
    calc = get_calculator(LJ, sigma=2.2, epsilon=0.05, rc=6.0)
    traj = relax_two_stage(rattled_licl(), calc, [0, 1], LabelSettings(stage1_steps=2), "r-0")
    contacts = label_contacts(calc, [traj], 40, (1.2, 1.6), seed=3, calculator_name="lj")
    assert [c.label for c in contacts[:2]] == ["contact-r-0-0", "contact-r-0-1"]
    last = traj.positions[-1]
    kinds = set()
    for c in contacts:
        assert len(c) == 1 and c.stage.tolist() == [2] and c.calculator == "lj"
        moved = np.flatnonzero(np.abs(c.positions[0] - last).max(axis=1) > 1e-9)
        assert len(moved) == 1  # one atom moved
        atoms = c.atoms(0)
        d = atoms.get_distances(int(moved[0]), range(len(atoms)), mic=True)
        d[moved[0]] = np.inf
        assert 1.2 - 1e-9 <= d.min() <= 1.6 + 1e-9  # towards a neighbour, to the asked range
        partner = int(np.argmin(d))
        kinds.add("-".join(sorted((atoms[moved[0]].symbol, atoms[partner].symbol))))
        # the label is the calculator's energy of that geometry (repulsive: above the start)
        assert c.energies[0] > traj.energies[-1]
    assert kinds == {"Cl-Cl", "Cl-Li", "Li-Li"}  # every species pair is drawn
    with pytest.raises(ConfigurationError, match="contact distances"):
        label_contacts(calc, [traj], 1, (2.0, 1.0))


def test_chgnet_reference_runs_offline():
    traj = relax_two_stage(
        rattled_licl(1),
        get_calculator("chgnet"),
        [0, 1],
        LabelSettings(stage1_steps=2, stage2_max_steps=40),
    )
    assert traj.energies[-1] < traj.energies[0]
    assert traj.energies[-1] / 8 == pytest.approx(-4.0, abs=1.0)  # LiCl, eV/atom


def test_frames_and_split_by_relaxation(tmp_path):
    calc = get_calculator(LJ, sigma=2.2, epsilon=0.05, rc=6.0)
    trajectories = [
        relax_two_stage(rattled_licl(i), calc, [0, 1], LabelSettings(stage1_steps=2), f"r{i}")
        for i in range(10)
    ]
    frames = [f for t in trajectories for f in harvest(t)]
    assert all(f.info["stage"] == 2 for f in frames)
    split = split_labels([t.label for t in trajectories], seed=3)
    assert [len(split[k]) for k in ("train", "val", "test")] == [8, 1, 1]
    sides = {label: name for name, labels in split.items() for label in labels}
    assert len(sides) == 10  # every relaxation on exactly one side
    paths = {}
    for name in ("train", "val", "test"):
        part = [f for f in frames if sides[f.info["trajectory"]] == name]
        paths[name] = write_frames(part, tmp_path / f"{name}.extxyz")
    for name, path in paths.items():
        labels = {a.info["trajectory"] for a in read(path, index=":")}
        assert labels <= set(split[name])
    assert split_labels([t.label for t in trajectories], seed=3) == split
    assert frames_hash(frames) != frames_hash(frames[1:])


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(ConfigurationError, match="use 'chgnet' or"):
        get_calculator("nonsense")
    with pytest.raises(ConfigurationError, match="cannot import calculator"):
        get_calculator("ase.calculators.nothere:Nope")
    with pytest.raises(ConfigurationError, match="VASP reference labels"):
        get_calculator("vasp")
    atoms = rattled_licl()
    with pytest.raises(ConfigurationError, match="frame 0 has no forces"):
        write_frames([atoms], tmp_path / "x.extxyz")
    with pytest.raises(ConfigurationError, match="sum to 1"):
        split_labels(["a", "b"], (0.5, 0.2, 0.2))


def test_low_energy_training_set_from_the_cli(template, tmp_path):
    from typer.testing import CliRunner

    from cryin_flows.cli import app
    from cryin_flows.interfaces.interface_set import InterfaceSet
    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator

    structures = RandomInterfaceGenerator(template).generate(6, seed=2)
    energies = [-1265.0, -1262.0, -1261.0, -1259.0, -1258.0, -1255.0]
    for info, e in zip(structures.infos, energies, strict=True):
        info["energy"] = e
    structures.infos[1]["converged"] = False
    path = structures.write_extxyz(tmp_path / "relaxed.extxyz")
    out = tmp_path / "train.extxyz"
    result = CliRunner().invoke(app, ["energy", str(path), "--training-set", str(out)])
    assert result.exit_code == 0, result.output
    chosen = InterfaceSet.read_extxyz(out)
    gamma = [info["interface_energy"] for info in chosen.infos]
    assert gamma[0] == pytest.approx(-0.4)  # the rule puts the lowest at -0.4 J/m²
    assert all(g <= 0 for g in gamma) and gamma == sorted(gamma)
    assert all(info.get("converged", True) for info in chosen.infos)  # unconverged dropped
    expected = interface_energy(np.array(energies), 264, chosen.infos[0]["e_ref"], template.area)
    assert len(chosen) == int((expected <= 0).sum()) - 1
    bad = CliRunner().invoke(app, ["energy", str(tmp_path / "missing.extxyz")])
    assert bad.exit_code == 1 and "does not exist" in bad.output


def test_interface_energy_maker(template, tmp_path):
    from jobflow import run_locally

    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
    from cryin_flows.launchpad.stores import get_job_store, load_output
    from cryin_flows.makers.potentials import InterfaceEnergyMaker
    from cryin_flows.settings import get_settings

    structures = RandomInterfaceGenerator(template).generate(5, seed=4)
    for info, e in zip(
        structures.infos, [-1266.0, -1263.0, -1262.0, -1258.0, -1250.0], strict=True
    ):
        info["energy"] = e
    store = get_job_store(get_settings(project_dir=tmp_path / "proj"))
    job = InterfaceEnergyMaker(e_ref=-4.78, training_set_size=2).make(structures, template)
    run_locally(job, store=store, log=False, ensure_success=True)
    doc = load_output(job.uuid, store)
    gamma = interface_energy(
        np.array([-1266.0, -1263.0, -1262.0, -1258.0, -1250.0]), 264, -4.78, template.area
    )
    assert doc.interface_energy.min == pytest.approx(gamma.min())
    assert doc.fraction_below_0 == pytest.approx((gamma <= 0).mean())
    assert doc.n_training_set == min(2, int((gamma <= 0).sum()))


def test_training_set_leaves_out_unconverged_unless_asked(template):
    from cryin_flows.interfaces.energy import low_energy_subset
    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator

    structures = RandomInterfaceGenerator(template).generate(4, seed=2)
    for info, converged in zip(structures.infos, [True, False, True, False], strict=True):
        info["converged"] = converged
    gamma = np.array([-0.3, -0.4, -0.1, 0.2])
    kept = low_energy_subset(structures, gamma)
    assert [info["index"] for info in kept.infos] == [0, 2]  # lowest first, converged only
    kept = low_energy_subset(structures, gamma, converged_only=False)
    assert [info["index"] for info in kept.infos] == [1, 0, 2]
