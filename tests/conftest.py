"""Shared fixtures: an isolated configuration and the default template built once."""

from __future__ import annotations

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
