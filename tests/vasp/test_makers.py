"""atomate2 makers end to end: run_vasp -> custodian -> the stand-in -> TaskDoc -> frames."""

import sys

import numpy as np
import pytest
from emmet.core.tasks import TaskDoc
from jobflow import Flow, run_locally

from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.makers.potentials import FramesMaker
from cryin_flows.makers.vasp import (
    InterfacesDftMaker,
    InterfaceStage1Maker,
    InterfaceStage2Maker,
    TwoStageInterfaceMaker,
)
from cryin_flows.settings import get_settings
from cryin_flows.vasp.frames import task_ionic_steps
from cryin_flows.vasp.sets import CryinVaspSetGenerator

RUN = {"vasp_cmd": f"{sys.executable} -m cryin_flows.vasp.standin"}
SPEC = {"potcar_spec": True}


def quick(maker_cls, preset, nsw):
    generator = CryinVaspSetGenerator(preset=preset, user_incar_settings={"NSW": nsw})
    maker = maker_cls(input_set_generator=generator, write_input_set_kwargs=SPEC)
    maker.run_vasp_kwargs = {**maker.run_vasp_kwargs, **RUN}  # keep the maker's handlers
    return maker


@pytest.fixture
def standin_env(monkeypatch):
    monkeypatch.setenv("CRYIN_STANDIN_KWARGS", '{"sigma": 2.0, "epsilon": 0.01, "rc": 4.0}')
    monkeypatch.delenv("CRYIN_STANDIN_ERROR", raising=False)


def test_two_stage_flow_to_task_documents_and_frames(template, tmp_path, standin_env):
    structures = RandomInterfaceGenerator(template).generate(1, seed=3)
    two_stage = TwoStageInterfaceMaker(
        stage1=quick(InterfaceStage1Maker, "stage1", 3),
        stage2=quick(InterfaceStage2Maker, "stage2", 200),
    )
    dft = InterfacesDftMaker(two_stage=two_stage).make(structures, template)
    frames = FramesMaker(fractions=(1.0, 0.0, 0.0), out_dir=str(tmp_path / "frames")).make(
        dft.output
    )
    store = get_job_store(get_settings(project_dir=tmp_path / "proj"))
    run_locally(
        Flow([dft, frames]),
        store=store,
        create_folders=True,
        root_dir=tmp_path / "runs",
        log=False,
        ensure_success=True,
    )
    stage1_job, stage2_job = dft.jobs[0].jobs
    task1, task2 = load_output(stage1_job.uuid, store), load_output(stage2_job.uuid, store)
    assert isinstance(task1, TaskDoc) and isinstance(task2, TaskDoc)
    assert task1.input.parameters["ENCUT"] == pytest.approx(374.3)
    assert task2.input.parameters["ENCUT"] == pytest.approx(450)
    # stage 2 starts where stage 1 ended, with every atom free
    start2 = np.array(task2.input.structure.cart_coords)
    end1 = np.array(task1.output.structure.cart_coords)
    assert np.allclose(start2, end1, atol=1e-6)
    assert "selective_dynamics" not in task2.input.structure.site_properties
    assert task1.custodian[0].corrections == []  # stage 1 ends unconverged by design
    doc = load_output(frames.uuid, store)
    # the ionic steps are a Trajectory in the data store, not inside the document
    assert task2.calcs_reversed[0].output.ionic_steps is None
    raw = store.query_one({"uuid": stage2_job.uuid})
    assert raw["output"]["vasp_objects"]["trajectory"]["store"] == "data"
    steps = len(task_ionic_steps(task2))
    assert steps > 1
    assert doc.counts["train"] == len(range(4, steps - 1, 10)) + 1


def test_bulk_and_rerelax_makers_run_with_their_presets(template, tmp_path, standin_env):
    """The bulk relaxation (SPEC §2: ENCUT 520, ISIF 3, the paper's mesh) and the stage-2-only
    re-relaxation of a potential-relaxed interface, each run by custodian on the stand-in."""
    from cryin_flows.data import load_bulk
    from cryin_flows.makers.vasp import BulkRelaxMaker, ReRelaxMaker

    bulk = quick(BulkRelaxMaker, "bulk", 200).make(load_bulk("LiCoO2"))
    interface = RandomInterfaceGenerator(template).generate(1, seed=4).structure(0)
    rerelax = quick(ReRelaxMaker, "rerelax", 200).make(interface)
    store = get_job_store(get_settings(project_dir=tmp_path / "proj"))
    run_locally(
        Flow([bulk, rerelax]),
        store=store,
        create_folders=True,
        root_dir=tmp_path / "runs",
        log=False,
        ensure_success=True,
    )
    task = load_output(bulk.uuid, store)
    assert task.input.parameters["ENCUT"] == pytest.approx(520)
    assert task.input.parameters["ISIF"] == 3
    assert tuple(task.orig_inputs.kpoints.kpts[0]) == (9, 9, 1)
    assert task.output.structure.composition.reduced_formula == "LiCoO2"
    task = load_output(rerelax.uuid, store)
    assert task.input.parameters["ENCUT"] == pytest.approx(450)
    assert task.input.parameters["ISIF"] == 2 and len(task.output.structure) == template.n_atoms
    assert "selective_dynamics" not in task.input.structure.site_properties
