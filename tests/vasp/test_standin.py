"""The VASP executable is the only thing replaced: custodian runs the stand-in on our inputs."""

import json
import sys

import numpy as np
import pytest
from ase.build import bulk
from custodian import Custodian
from custodian.vasp.handlers import UnconvergedErrorHandler, VaspErrorHandler
from custodian.vasp.jobs import VaspJob
from custodian.vasp.validators import VaspFilesValidator, VasprunXMLValidator
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.vasp import Incar, Oszicar, Outcar, Poscar, Vasprun

from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
from cryin_flows.potentials.frames import harvest
from cryin_flows.vasp.frames import trajectory_from_ionic_steps
from cryin_flows.vasp.sets import write_inputs

STANDIN = [sys.executable, "-m", "cryin_flows.vasp.standin"]
LJ = '{"sigma": 2.2, "epsilon": 0.05, "rc": 6.0}'


def run_custodian(directory, monkeypatch):
    monkeypatch.chdir(directory)
    job = VaspJob(STANDIN, final=True, suffix="", auto_npar=False, copy_magmom=False)
    custodian = Custodian(
        [VaspErrorHandler(), UnconvergedErrorHandler()],
        [job],
        validators=[VasprunXMLValidator(), VaspFilesValidator()],
        max_errors=3,
    )
    return custodian.run()


def test_custodian_runs_the_standin_and_fixes_an_error(tmp_path, monkeypatch):
    atoms = bulk("LiCl", "rocksalt", a=5.14, cubic=True)
    atoms.rattle(0.1, seed=1)
    write_inputs(AseAtomsAdaptor.get_structure(atoms), "stage2", tmp_path, potcar_spec=True)
    monkeypatch.setenv("CRYIN_STANDIN_KWARGS", LJ)
    monkeypatch.setenv("CRYIN_STANDIN_ERROR", "zbrent")
    history = run_custodian(tmp_path, monkeypatch)
    # the first run died with ZBRENT; VaspErrorHandler changed the INCAR and custodian reran
    corrections = history[0]["corrections"]
    assert corrections[0]["errors"] == ["zbrent"]
    assert Incar.from_file(tmp_path / "INCAR")["EDIFF"] == pytest.approx(1e-7)
    assert (tmp_path / "error.1.tar.gz").exists()
    assert json.loads((tmp_path / "custodian.json").read_text())
    # outputs parse with pymatgen
    run = Vasprun(
        tmp_path / "vasprun.xml", parse_dos=False, parse_eigen=False, parse_potcar_file=False
    )
    assert run.converged_ionic and len(run.ionic_steps) > 1
    assert run.final_energy == pytest.approx(Oszicar(tmp_path / "OSZICAR").final_energy)
    assert Outcar(tmp_path / "OUTCAR").final_fr_energy == pytest.approx(run.final_energy)
    forces = np.asarray(run.ionic_steps[-1]["forces"])
    assert np.abs(forces).max() < 0.1  # EDIFFG = -0.1 honoured
    # and feed the same frame harvesting as the potentials stage
    frames = harvest(trajectory_from_ionic_steps(run.ionic_steps, "dft-licl"))
    assert frames[-1].get_potential_energy() == pytest.approx(run.final_energy)


def test_stage1_moves_only_the_region(template, tmp_path, monkeypatch):
    structure = RandomInterfaceGenerator(template).generate(1, seed=0).structure(0)
    write_inputs(
        structure,
        "stage1",
        tmp_path,
        template=template,
        potcar_spec=True,
        user_incar_settings={"NSW": 4},
    )
    monkeypatch.setenv("CRYIN_STANDIN_KWARGS", '{"sigma": 2.0, "epsilon": 0.01, "rc": 4.0}')
    monkeypatch.delenv("CRYIN_STANDIN_ERROR", raising=False)
    run_custodian(tmp_path, monkeypatch)
    start = Poscar.from_file(tmp_path / "POSCAR.orig")  # custodian may have rerun from CONTCAR
    end = Poscar.from_file(tmp_path / "CONTCAR")
    moved = np.abs(end.structure.cart_coords - start.structure.cart_coords).max(axis=1) > 1e-8
    mobile = np.array([all(f) for f in start.selective_dynamics])
    assert moved.any() and not moved[~mobile].any()
    assert np.array_equal(np.flatnonzero(mobile), template.indices("region"))
    assert np.array_equal(end.selective_dynamics, start.selective_dynamics)
