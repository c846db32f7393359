"""The stability makers as jobs: the funnel flow, the study's stability stage, the queries."""

from __future__ import annotations

import pytest
from jobflow import JobStore, run_locally
from maggma.stores import MemoryStore
from pymatgen.core import Structure

from cryin_flows.flows.stability import StabilityFlowMaker
from cryin_flows.launchpad.queries import query_outputs
from cryin_flows.makers.stability import (
    CandidatesMaker,
    PhaseEnergiesMaker,
    ScreenFlowMaker,
    ScreenMaker,
)
from cryin_flows.schemas.stability import ScreenDoc, StabilityDoc
from cryin_flows.stability.funnel import STAGES, ScreenCriteria
from cryin_flows.stability.relaxation import PhaseRelaxSettings

LJ = "ase.calculators.lj:LennardJones"


def store() -> JobStore:
    return JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})


def categories(flow) -> dict[str, str]:
    return {job.name: job.config.manager_config["_category"] for job, _ in flow.iterflow()}


def test_screen_flow_runs_the_funnel_as_jobs(tmp_path):
    maker = ScreenFlowMaker(
        candidates_maker=CandidatesMaker(elements=("Li", "Y", "Cl"), n=3, seed=2, max_atoms=8),
        energies_maker=PhaseEnergiesMaker(
            calculator=LJ, energy_scheme="none", settings=PhaseRelaxSettings(max_steps=4),
            work_dir=str(tmp_path / "phases"),
        ),
        screen_maker=ScreenMaker(
            criteria=ScreenCriteria(electrolyte="Li3YCl6", cathode="LiCl"),
            work_dir=str(tmp_path / "screen"),
        ),
    )  # fmt: skip
    assert maker.chemistry() == ["Cl", "Li", "Y"]
    flow = maker.make()
    assert categories(flow) == {"candidates": "cpu", "phase energies": "gpu", "screen": "gpu"}
    jobs_store = store()
    responses = run_locally(flow, store=jobs_store, create_folders=True, ensure_success=True)
    doc = responses[flow.output.uuid][1].output
    assert isinstance(doc, ScreenDoc)
    assert doc.counts["candidates"] == 3 and list(doc.counts) == list(STAGES)
    assert (
        sum(c.stage == "relaxed" or STAGES.index(c.stage) >= 3 for c in doc.candidates)
        == (doc.counts["relaxed"])
    )
    assert (tmp_path / "screen" / "funnel.png").stat().st_size > 1000
    assert (
        len((tmp_path / "screen" / "candidates_relaxed.jsonl").read_text().splitlines())
        == (doc.counts["unique"])
    )
    assert "band gap" in doc.left_out[0]
    rows = query_outputs(jobs_store, "screens")
    assert rows[0]["counts"]["candidates"] == 3
    assert query_outputs(jobs_store, "phase-energies")[0]["energy_scheme"] == "none"


def test_empty_candidate_files_are_refused(tmp_path):
    (tmp_path / "empty.extxyz").write_text("")
    flow = CandidatesMaker(files=(str(tmp_path / "empty.extxyz"),)).make()
    with pytest.raises(Exception, match=r"cannot read structures|candidate set is empty"):
        run_locally(flow, store=store(), ensure_success=True, raise_immediately=True)


def test_study_stage_li2o_licl_with_chgnet(tmp_path):
    """The demo's pair with the offline reference: CHGNet puts Li3OCl on the hull, so Li2O and
    LiCl react to it (DFT has Li3OCl slightly above the hull: the sign is CHGNet's)."""
    stage = StabilityFlowMaker(energies=PhaseEnergiesMaker(work_dir=str(tmp_path / "phases"))).make(
        "li2o-licl"
    )
    jobs_store = store()
    responses = run_locally(stage, store=jobs_store, create_folders=True, ensure_success=True)
    doc = responses[stage.output.uuid][1].output
    assert isinstance(doc, StabilityDoc)
    assert [w.formula for w in doc.windows] == ["LiCl", "Li2O"]
    licl, li2o = doc.windows
    assert licl.e_red is None and licl.e_ox == pytest.approx(4.23, abs=0.1)
    assert li2o.oxidation_products == ["Li2O2"]
    (mix,) = doc.mixings
    assert mix.reactants == ("LiCl", "Li2O") and mix.products == ["Li3ClO"]
    assert -0.1 < mix.energy < 0 and mix.ratio == pytest.approx(0.4)
    assert doc.e_hull["Li3OCl"] == pytest.approx(0.0, abs=1e-9)
    assert set(doc.figures) == {"windows", "mixing", "hull"}
    row = query_outputs(jobs_store, "stability")[0]
    assert "LiCl|Li2O" in row["summary"]
    relaxed = Structure.from_dict(
        next(
            p for p in responses[stage.jobs[0].uuid][1].output.phases if p.name == "LiCl"
        ).structure
    )
    assert relaxed.lattice.abc[0] == pytest.approx(5.13, rel=0.05)  # CHGNet keeps rock salt


def test_makers_survive_fireworks_serialisation():
    """FireWorks writes a job's maker through as_dict: settings must come back as models (a
    plain pydantic model would come back as its str and fizzle the job)."""
    import json

    from fireworks import Workflow
    from jobflow.managers.fireworks import flow_to_workflow

    flow = ScreenFlowMaker(
        energies_maker=PhaseEnergiesMaker(settings=PhaseRelaxSettings(max_steps=7)),
        screen_maker=ScreenMaker(criteria=ScreenCriteria(e_hull_max=0.1)),
    ).make()
    wf = Workflow.from_dict(json.loads(json.dumps(flow_to_workflow(flow).to_dict(), default=str)))
    makers = {
        fw.name: fw.tasks[0]["job"].function.__self__ for fw in wf.fws
    }  # bound maker of each job
    assert makers["phase energies"].settings == PhaseRelaxSettings(max_steps=7)
    assert makers["screen"].criteria == ScreenCriteria(e_hull_max=0.1)
