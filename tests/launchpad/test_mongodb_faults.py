"""Faults a user meets with a real server: wrong credentials, an unreachable server. Each
message is one line naming host and database, never the password, and the exit is non-zero.
(The server stopped and restarted during a study is in tests/flows/test_study.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pymongo
import pytest

from ..conftest import LocalMongoServer, _free_port

pytestmark = pytest.mark.mongodb
CRYIN = Path(sys.executable).parent / "cryin"


def cryin(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CRYIN, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def auth_server(tmp_path):
    """A server that requires credentials: user alice (password right-pw) in admin."""
    if os.environ.get("CRYIN_TEST_MONGODB_URI"):
        pytest.skip("needs a server of its own to enable authentication on")
    server = LocalMongoServer(tmp_path / "auth-data").start()
    client = pymongo.MongoClient(server.uri)
    client.admin.command("createUser", "alice", pwd="right-pw", roles=["root"])
    client.close()
    server.stop()
    server.start("--auth")
    yield server
    server.stop()


def test_wrong_credentials(auth_server, tmp_path):
    host = f"127.0.0.1:{auth_server.port}"
    wrong = {
        "CRYIN_MONGODB_URI": f"mongodb://alice:wrong-pw@{host}/results?authSource=admin",
        "CRYIN_CONNECT_TIMEOUT_S": "3",
    }
    result = cryin(wrong, "query", "interfaces")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    message = " ".join(lines)
    assert f"MongoDB at {host} refused the credentials for database 'results'" in message
    assert "wrong-pw" not in result.stderr + result.stdout and "Traceback" not in result.stderr
    right = {**wrong, "CRYIN_MONGODB_URI": wrong["CRYIN_MONGODB_URI"].replace("wrong", "right")}
    result = cryin(right, "query", "interfaces", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_unreachable_server(tmp_path):
    port = _free_port()
    env = {
        "CRYIN_MONGODB_URI": f"mongodb://bob:secret-pw@127.0.0.1:{port}/results",
        "CRYIN_CONNECT_TIMEOUT_S": "2",
    }
    result = cryin(env, "query", "evaluations")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert f"cannot reach MongoDB at 127.0.0.1:{port} (database 'results') within 2 s" in message
    assert "secret-pw" not in result.stderr and "Traceback" not in result.stderr
