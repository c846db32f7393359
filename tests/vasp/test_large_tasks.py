"""A stage-2 relaxation long enough to break MongoDB's 16 MB document limit if its ionic steps
stayed in the TaskDoc: 420 steps of the 264-atom interface (~58 kB per step inline), through
the makers into the MongoDB server, frames harvested from the data-store Trajectory."""

import bson
import numpy as np
import pymongo
import pytest
from jobflow import Flow, run_locally

from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.makers.potentials import FramesMaker
from cryin_flows.makers.vasp import (
    InterfacesDftMaker,
    InterfaceStage1Maker,
    InterfaceStage2Maker,
    TwoStageInterfaceMaker,
    stage1_handlers,
)
from cryin_flows.potentials.frames import harvest_indices
from cryin_flows.settings import get_settings
from cryin_flows.vasp.sets import CryinVaspSetGenerator

from .test_makers import RUN, SPEC, quick

MONGODB_LIMIT = 16 * 1024 * 1024
N_STEPS = 420


@pytest.mark.mongodb
def test_420_step_stage2_fits_mongodb_with_steps_in_gridfs(
    template, tmp_path, monkeypatch, mongodb_database
):
    # a soft potential and an unreachable force threshold: the stand-in runs all NSW steps
    monkeypatch.setenv("CRYIN_STANDIN_KWARGS", '{"sigma": 2.0, "epsilon": 0.001, "rc": 4.0}')
    monkeypatch.delenv("CRYIN_STANDIN_ERROR", raising=False)
    generator = CryinVaspSetGenerator(
        preset="stage2", user_incar_settings={"NSW": N_STEPS, "EDIFFG": -1e-6}
    )
    stage2 = InterfaceStage2Maker(
        input_set_generator=generator,
        write_input_set_kwargs=SPEC,
        # the run ends at NSW unconverged by construction: no custodian reruns, no failure
        run_vasp_kwargs={"handlers": stage1_handlers(), **RUN},
        stop_children_kwargs={"handle_unsuccessful": False},
    )
    two_stage = TwoStageInterfaceMaker(
        stage1=quick(InterfaceStage1Maker, "stage1", 2), stage2=stage2
    )
    structures = RandomInterfaceGenerator(template).generate(1, seed=3)
    dft = InterfacesDftMaker(two_stage=two_stage).make(structures, template)
    frames = FramesMaker(fractions=(1.0, 0.0, 0.0), out_dir=str(tmp_path / "frames")).make(
        dft.output
    )
    uri, database = mongodb_database
    store = get_job_store(get_settings(mongodb_uri=uri, mongodb_database=database))
    run_locally(
        Flow([dft, frames]),
        store=store,
        create_folders=True,
        root_dir=tmp_path / "runs",
        log=False,
        ensure_success=True,
    )
    db = pymongo.MongoClient(uri)[database]
    stage2_job = dft.jobs[0].jobs[1]
    raw = db["outputs"].find_one({"uuid": stage2_job.uuid})
    size = len(bson.encode(raw))
    assert size < MONGODB_LIMIT / 4, f"stage-2 TaskDoc is {size / 1e6:.1f} MB"
    assert raw["output"]["calcs_reversed"][0]["output"]["ionic_steps"] is None
    blob = raw["output"]["vasp_objects"]["trajectory"]["blob_uuid"]
    blob_file = db["outputs_data.files"].find_one({"metadata.blob_uuid": blob})
    trajectory_mb = blob_file["length"] / 1e6
    print(f"stage-2 TaskDoc: document {size / 1e6:.3f} MB, trajectory {trajectory_mb:.1f} MB")
    assert blob_file["length"] > MONGODB_LIMIT / 4  # the steps, in GridFS chunks
    # every stored document is under the limit
    for doc in db["outputs"].find({}):
        assert len(bson.encode(doc)) < MONGODB_LIMIT
    # frames come from the trajectory: step 5, every 10th, and the last
    labels = load_output(dft.jobs[-1].uuid, store)
    assert len(labels.trajectories[0]) == N_STEPS
    doc = load_output(frames.uuid, store)
    assert doc.counts["train"] == len(harvest_indices(N_STEPS))
    assert np.isfinite(labels.trajectories[0].energies).all()
