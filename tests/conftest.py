"""Shared fixtures: an isolated configuration, the default template built once, and the MongoDB
server of the `mongodb` tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from cryin_flows.interfaces.template import InterfaceTemplate, build_interface_template


@pytest.fixture(autouse=True)
def isolated_config(tmp_path, monkeypatch):
    """No user config leaks in: settings and jobflow read files under tmp_path only."""
    monkeypatch.setenv("CRYIN_CONFIG_FILE", str(tmp_path / "no_cryin_config.yaml"))
    monkeypatch.setenv("JOBFLOW_CONFIG_FILE", str(tmp_path / "no_jobflow_config.yaml"))
    for var in ("CRYIN_STORE", "CRYIN_MONGODB_URI", "CRYIN_PROJECT_DIR", "CRYIN_MONGODB_DATABASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def template() -> InterfaceTemplate:
    """The default LSC(100)|LCO(110) template."""
    return build_interface_template("lsc-lco")


@pytest.fixture(scope="session")
def tiny_potential(tmp_path_factory) -> str:
    """A small M3GNet for Li and Cl trained for a few epochs (seconds)."""
    from cryin_flows.potentials.frames import write_frames
    from cryin_flows.potentials.m3gnet import M3GNetSettings, train_m3gnet

    from .potentials.conftest import labelled_rocksalt

    root = tmp_path_factory.mktemp("tiny_potential")
    frames = labelled_rocksalt(16, seed=7)
    for name, part in (("train", frames[:12]), ("val", frames[12:14]), ("test", frames[14:])):
        write_frames(part, root / "frames" / f"{name}.extxyz")
    settings = M3GNetSettings(units=16, nblocks=1, max_epochs=5, patience=5, accelerator="cpu")
    return train_m3gnet(root / "frames", root / "out", settings).potential_dir


# ------------------------------------------------------------------ MongoDB server
SERVER_START_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ping(uri: str, timeout_ms: int = 500) -> bool:
    import pymongo

    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except pymongo.errors.PyMongoError:
        return False
    finally:
        client.close()


class LocalMongoServer:
    """secantusdb (a MongoDB-protocol server, GPL: run as a separate process, never imported)
    on a free loopback port with its data in a temporary folder."""

    def __init__(self, data_dir: Path, port: int | None = None):
        self.data_dir = data_dir
        self.port = port or _free_port()
        self.uri = f"mongodb://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, *extra: str) -> LocalMongoServer:
        beside = Path(sys.executable).parent / "secantusd-py"
        executable = str(beside) if beside.exists() else shutil.which("secantusd-py") or ""
        if not Path(executable).is_file():
            pytest.fail("secantusd-py not found: install the test extra (pip install -e '.[dev]')")
        log = open(self.data_dir.parent / f"{self.data_dir.name}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                executable,
                *("--host", "127.0.0.1", "--port", str(self.port)),
                *("--storage-path", str(self.data_dir), "--log-level", "WARNING", *extra),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _ping(self.uri):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(
                    f"secantusdb did not answer a ping on 127.0.0.1:{self.port} within "
                    f"{SERVER_START_TIMEOUT_S:.0f} s (log: {log.name})"
                )
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def mongodb_server(tmp_path_factory):
    """URI of the MongoDB server the `mongodb` tests use: CRYIN_TEST_MONGODB_URI when set (a
    real MongoDB), else a secantusdb started for the session."""
    uri = os.environ.get("CRYIN_TEST_MONGODB_URI")
    if uri:
        yield uri
        return
    server = LocalMongoServer(tmp_path_factory.mktemp("mongodb") / "data").start()
    yield server.uri
    server.stop()


@pytest.fixture
def mongodb_database(mongodb_server):
    """(server URI, a database name of this test's own); databases whose names start with it
    are dropped afterwards."""
    import pymongo

    name = f"cryin_test_{uuid.uuid4().hex[:10]}"
    yield mongodb_server, name
    client = pymongo.MongoClient(mongodb_server, serverSelectionTimeoutMS=5000)
    try:
        for database in client.list_database_names():
            if database.startswith(name):  # the test's own, and e.g. its LaunchPad's
                client.drop_database(database)
    except pymongo.errors.PyMongoError:
        pass
    finally:
        client.close()
