"""Phase energies from VASP with the Materials Project's settings, on the VASP stand-in (no
VASP or POTCARs here): atomate2's MP relax maker per phase, custodian, TaskDocs, MP2020."""

from __future__ import annotations

import sys
from dataclasses import replace

import pytest
from atomate2.vasp.jobs.mp import MPGGARelaxMaker
from jobflow import run_locally

from cryin_flows.errors import ConfigurationError
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.makers.stability import VaspPhaseEnergiesMaker
from cryin_flows.settings import get_settings
from cryin_flows.stability.funnel import ScreenCriteria
from cryin_flows.stability.pipeline import PhaseEnergies, run_screen

RUN = {"vasp_cmd": f"{sys.executable} -m cryin_flows.vasp.standin"}


def test_vasp_phase_energies_use_mp_settings_and_mp2020(tmp_path, monkeypatch):
    # sigma 1 Å: every phase binds (custodian refuses a positive energy)
    monkeypatch.setenv("CRYIN_STANDIN_KWARGS", '{"sigma": 1.0, "epsilon": 0.01, "rc": 4.0}')
    monkeypatch.delenv("CRYIN_STANDIN_ERROR", raising=False)
    relax = MPGGARelaxMaker(write_input_set_kwargs={"potcar_spec": True})
    # the stand-in's Lennard-Jones converges to MP's 0.05 eV/Å slowly: a looser EDIFFG
    relax.input_set_generator = replace(
        relax.input_set_generator, user_incar_settings={"EDIFFG": -0.5}
    )
    relax.run_vasp_kwargs = {**relax.run_vasp_kwargs, **RUN}
    flow = VaspPhaseEnergiesMaker(relax_maker=relax).make("Li-Cl")
    category = {job.name: job.config.manager_config["_category"] for job, _ in flow.iterflow()}
    assert len(category) == 4 and set(category.values()) == {"cpu"}  # DFT runs on CPU nodes
    store = get_job_store(get_settings(project_dir=tmp_path / "proj"))
    run_locally(flow, store=store, create_folders=True, root_dir=tmp_path / "runs", log=False,
                ensure_success=True)  # fmt: skip
    task = load_output(flow.jobs[0].uuid, store)
    assert task.input.parameters["ENCUT"] == pytest.approx(520)  # MP's relax set
    assert task.input.parameters["EDIFFG"] == pytest.approx(-0.5)
    assert task.input.parameters["ISIF"] == 3
    doc = load_output(flow.output.uuid, store)
    assert doc.energy_scheme == "mp2020" and doc.calculator == "vasp (MP GGA relax)"
    assert {p.name for p in doc.phases} == {"Li", "Cl2", "LiCl"}
    energies = PhaseEnergies.model_validate(doc.model_dump())
    by_name = {e.data["name"]: e for e in energies.entries()}
    assert by_name["LiCl"].parameters["run_type"] == "GGA"  # emmet's PBE, as MP2020 reads it
    assert any("anion correction (Cl)" in a.name for a in by_name["LiCl"].energy_adjustments)
    assert by_name["Li"].correction == 0.0
    # VASP phase energies need VASP candidates: the screen says so before relaxing anything
    with pytest.raises(ConfigurationError, match="need VASP relaxations too"):
        run_screen([("x", energies.structure("LiCl"))], energies,
                   ScreenCriteria(electrolyte="LiCl", cathode="LiCl"), tmp_path / "s")  # fmt: skip
