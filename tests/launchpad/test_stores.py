import os
import subprocess
import sys
import textwrap
import time

import pytest
import yaml
from maggma.stores import MemoryStore, MontyStore

from cryin_flows.errors import ConfigurationError, StoreConnectionError
from cryin_flows.launchpad.stores import (
    check_mongodb,
    describe_store,
    get_job_store,
    redact_uri,
    resolve_backend,
)
from cryin_flows.settings import get_settings


def test_settings_precedence(tmp_path, monkeypatch):
    config = tmp_path / "cryin.yaml"
    config.write_text(yaml.safe_dump({"project_dir": "from_yaml", "docs_collection": "yaml_docs"}))
    monkeypatch.setenv("CRYIN_CONFIG_FILE", str(config))
    settings = get_settings()
    assert settings.project_dir.name == "from_yaml" and settings.docs_collection == "yaml_docs"
    monkeypatch.setenv("CRYIN_PROJECT_DIR", str(tmp_path / "from_env"))
    assert get_settings().project_dir.name == "from_env"
    assert get_settings().docs_collection == "yaml_docs"
    assert get_settings(project_dir=tmp_path / "from_kwargs").project_dir.name == "from_kwargs"


def test_unknown_setting_is_refused(tmp_path, monkeypatch):
    config = tmp_path / "cryin.yaml"
    config.write_text(yaml.safe_dump({"projcet_dir": "typo"}))
    monkeypatch.setenv("CRYIN_CONFIG_FILE", str(config))
    with pytest.raises(ValueError, match="projcet_dir"):
        get_settings()


def test_backend_resolution(tmp_path, monkeypatch):
    assert resolve_backend(get_settings()) == "embedded"
    jobflow_config = tmp_path / "jobflow.yaml"
    jobflow_config.write_text("JOB_STORE: {}\n")
    monkeypatch.setenv("JOBFLOW_CONFIG_FILE", str(jobflow_config))
    assert resolve_backend(get_settings()) == "jobflow"
    assert resolve_backend(get_settings(mongodb_uri="mongodb://h:1/db")) == "mongodb"
    assert (
        resolve_backend(get_settings(store="embedded", mongodb_uri="mongodb://h:1/db"))
        == "embedded"
    )


def test_embedded_store_has_a_data_store(tmp_path):
    store = get_job_store(get_settings(project_dir=tmp_path / "proj"))
    assert isinstance(store.docs_store, MontyStore)
    assert isinstance(store.additional_stores["data"], MontyStore)
    store.connect()
    store.docs_store.update([{"uuid": "x", "index": 1, "output": 1}], key="uuid")
    assert store.docs_store.count() == 1
    assert (tmp_path / "proj" / "store").is_dir()
    assert "SQLite" in describe_store(get_settings(project_dir=tmp_path / "proj"))


def test_jobflow_configuration_is_honoured(tmp_path, monkeypatch):
    config = {
        "JOB_STORE": {
            "docs_store": {"type": "MemoryStore", "collection_name": "docs"},
            "additional_stores": {"data": {"type": "MemoryStore", "collection_name": "blobs"}},
        }
    }
    path = tmp_path / "jobflow.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("JOBFLOW_CONFIG_FILE", str(path))
    store = get_job_store()
    assert isinstance(store.docs_store, MemoryStore) and store.docs_store.collection_name == "docs"
    assert store.additional_stores["data"].collection_name == "blobs"
    del config["JOB_STORE"]["additional_stores"]
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigurationError, match="no 'data' additional store"):
        get_job_store()


def test_unreachable_mongodb_fails_fast_without_the_password():
    uri = "mongodb://alice:Sup3rSecret@127.0.0.1:1/studydb?authSource=admin"
    start = time.monotonic()
    with pytest.raises(StoreConnectionError) as info:
        get_job_store(get_settings(mongodb_uri=uri, connect_timeout_s=1.5))
    elapsed = time.monotonic() - start
    message = str(info.value)
    assert elapsed < 6
    assert "127.0.0.1:1" in message and "'studydb'" in message
    assert "Sup3rSecret" not in message and "alice" not in message


def test_mongodb_without_uri_and_bad_uri():
    with pytest.raises(ConfigurationError, match="no mongodb_uri"):
        get_job_store(get_settings(store="mongodb"))
    with pytest.raises(ConfigurationError, match="invalid MongoDB URI"):
        check_mongodb("http://not-mongo")
    assert redact_uri("mongodb://u:pw@h:27017/db") == "mongodb://u:***@h:27017/db"
    assert "pw" not in describe_store(get_settings(mongodb_uri="mongodb://u:pw@h:27017/db"))


WRITER = """
from jobflow import Flow, run_locally
from cryin_flows.launchpad.stores import get_job_store
from cryin_flows.makers import InterfaceTemplateMaker, RandomInterfacesMaker
from cryin_flows.settings import get_settings

store = get_job_store(get_settings(project_dir={proj!r}))
tj = InterfaceTemplateMaker().make()
rj = RandomInterfacesMaker(n=3, seed=5).make(tj.output)
run_locally(Flow([tj, rj]), store=store, log=False, ensure_success=True)
print(rj.uuid)
"""

READER = """
import sys
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.settings import get_settings

doc = load_output(sys.argv[1], get_job_store(get_settings(project_dir={proj!r})))
print(len(doc.structures), doc.template_hash, doc.structures.frac_coords[2, 100, 2])
"""


def test_output_written_by_one_process_is_read_by_another(tmp_path):
    proj = str(tmp_path / "shared_project")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    run = dict(capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    writer = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(WRITER.format(proj=proj))], **run
    )
    assert writer.returncode == 0, writer.stderr
    uuid = writer.stdout.strip().splitlines()[-1]
    reader = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(READER.format(proj=proj)), uuid], **run
    )
    assert reader.returncode == 0, reader.stderr
    n, template_hash, z = reader.stdout.split()
    assert n == "3" and len(template_hash) == 64 and 0 < float(z) < 1


@pytest.mark.mongodb
def test_mongodb_round_trip_with_gridfs(mongodb_database):
    from jobflow import Flow, run_locally

    from cryin_flows.launchpad.stores import load_output
    from cryin_flows.makers import InterfaceTemplateMaker, RandomInterfacesMaker

    uri, database = mongodb_database
    store = get_job_store(get_settings(mongodb_uri=uri, mongodb_database=database))
    tj = InterfaceTemplateMaker().make()
    rj = RandomInterfacesMaker(n=2).make(tj.output)
    run_locally(Flow([tj, rj]), store=store, log=False, ensure_success=True)
    assert len(load_output(rj.uuid, store).structures) == 2
    # the structures went to GridFS (the data store), the document holds a reference
    import pymongo

    db = pymongo.MongoClient(uri)[database]
    doc = db[store.docs_store.collection_name].find_one({"uuid": rj.uuid})
    reference = doc["output"]["structures"]
    assert reference["store"] == "data" and reference["blob_uuid"]
    assert (
        db["outputs_data.files"].count_documents({"metadata.blob_uuid": reference["blob_uuid"]})
        == 1
    )


def _run_with_a_lost_blob(store, tmp_path):
    """Two jobs run resumably; then one job's large object is deleted from the data store, as
    when the server goes away between jobflow's document write and its data write."""
    from jobflow import Flow

    from cryin_flows.launchpad.local import completed_uuids, run_resumable
    from cryin_flows.launchpad.stores import load_output
    from cryin_flows.makers import InterfaceTemplateMaker, RandomInterfacesMaker

    tj = InterfaceTemplateMaker().make()
    rj = RandomInterfacesMaker(n=2).make(tj.output)
    flow = Flow([tj, rj])
    assert run_resumable(flow, store, tmp_path / "runs")["ran"] == 2
    assert completed_uuids(store, [tj.uuid, rj.uuid]) == {tj.uuid, rj.uuid}
    doc = store.query_one({"uuid": rj.uuid}, properties=["output"], load=False)
    blob = doc["output"]["structures"]["blob_uuid"]
    store.additional_stores["data"].remove_docs({"blob_uuid": blob})
    assert completed_uuids(store, [tj.uuid, rj.uuid]) == {tj.uuid}
    counts = run_resumable(flow, store, tmp_path / "runs")
    assert (counts["ran"], counts["skipped"]) == (1, 1)
    assert len(load_output(rj.uuid, store).structures) == 2


def test_resume_reruns_a_job_whose_large_objects_were_not_written(tmp_path):
    store = get_job_store(get_settings(project_dir=tmp_path / "proj"))
    _run_with_a_lost_blob(store, tmp_path)


@pytest.mark.mongodb
def test_resume_reruns_a_job_whose_gridfs_objects_were_not_written(tmp_path, mongodb_database):
    uri, database = mongodb_database
    store = get_job_store(get_settings(mongodb_uri=uri, mongodb_database=database))
    _run_with_a_lost_blob(store, tmp_path)
