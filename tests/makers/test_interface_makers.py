import numpy as np
import pytest
from jobflow import Flow, run_locally

from cryin_flows.interfaces.random_fill import (
    PAPER_EXCHANGES,
    RandomFillSettings,
    RandomInterfaceGenerator,
)
from cryin_flows.interfaces.template import InterfaceTemplate
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.makers import InterfaceTemplateMaker, RandomInterfacesMaker
from cryin_flows.schemas.interfaces import RandomInterfacesDoc
from cryin_flows.settings import get_settings


@pytest.fixture
def store(tmp_path):
    return get_job_store(get_settings(project_dir=tmp_path / "proj"))


def test_flow_stores_summary_in_docs_and_structures_in_data(store, template):
    template_job = InterfaceTemplateMaker().make()
    fill = RandomFillSettings(exchanges=PAPER_EXCHANGES)
    random_job = RandomInterfacesMaker(n=6, seed=4, fill=fill).make(template_job.output, start=10)
    run_locally(Flow([template_job, random_job]), store=store, log=False, ensure_success=True)

    stored_template = load_output(template_job.uuid, store)
    assert isinstance(stored_template, InterfaceTemplate)
    assert stored_template.template_hash == template.template_hash

    doc = load_output(random_job.uuid, store)
    assert isinstance(doc, RandomInterfacesDoc)
    assert doc.n_structures == 6 and doc.start_index == 10 and doc.seed == 4
    assert doc.composition == {"Li": 72, "Sc": 12, "Co": 36, "Cl": 72, "O": 72}
    assert 4.0 <= doc.region_thickness.min <= doc.region_thickness.max <= 6.0
    assert doc.min_region_distance.min >= 1.5
    assert doc.exchanges_limits == PAPER_EXCHANGES
    assert sum(doc.exchanges_performed.values()) == sum(
        info[k]
        for info in doc.structures.infos
        for k in info
        if k.startswith("exchanges_") and not k.endswith("_drawn")
    )
    assert "pymatgen" in doc.versions

    # the very same structures as drawing them directly
    direct = RandomInterfaceGenerator(template, fill).generate(6, seed=4, start=10)
    diff = doc.structures.frac_coords - direct.frac_coords
    assert np.abs(diff - np.round(diff)).max() < 1e-8

    # the docs collection holds a reference, not the coordinates
    store.connect()
    raw = store.docs_store.query_one({"uuid": random_job.uuid})
    assert set(raw["output"]["structures"]) >= {"blob_uuid", "store"}
    assert raw["output"]["structures"]["store"] == "data"
    assert store.additional_stores["data"].count() == 1


def test_maker_round_trips_through_json():
    import json

    from monty.json import MontyDecoder, MontyEncoder

    job = RandomInterfacesMaker(n=3, fill=RandomFillSettings(min_distances={"Cl-Cl": 2.8})).make(
        InterfaceTemplateMaker(system="lsc-lco-paper-cell").make().output
    )
    back = MontyDecoder().decode(json.dumps(job, cls=MontyEncoder))
    assert back.maker.fill.min_distances == {"Cl-Cl": 2.8}
    assert back.maker.n == 3
