"""One settings object for the whole package.

Values come, highest priority first, from keyword arguments, ``CRYIN_*`` environment
variables, and the YAML file named by ``CRYIN_CONFIG_FILE`` (default ``~/.cryin_flows.yaml``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("~/.cryin_flows.yaml")


def config_file_path() -> Path:
    """The YAML settings file in force (it need not exist)."""
    return Path(os.environ.get("CRYIN_CONFIG_FILE", DEFAULT_CONFIG_FILE)).expanduser()


class CryinSettings(BaseSettings):
    """Where results are stored and how work runs."""

    model_config = SettingsConfigDict(env_prefix="CRYIN_", extra="forbid")

    project_dir: Path = Field(
        Path("cryin_data"),
        description="Folder of the embedded store and of job run directories",
    )
    store: Literal["auto", "embedded", "mongodb", "jobflow"] = Field(
        "auto",
        description="Results store: embedded (MontyStore on SQLite), mongodb (from mongodb_uri), "
        "jobflow (the JobStore of an existing jobflow configuration), or auto: mongodb if a URI "
        "is set, else jobflow if a jobflow config file exists, else embedded",
    )
    mongodb_uri: SecretStr | None = Field(
        None, description="mongodb:// or mongodb+srv:// URI; may contain credentials"
    )
    mongodb_database: str | None = Field(
        None, description="Database name; default: the URI's database, else 'cryin_flows'"
    )
    docs_collection: str = Field("outputs", description="Collection of job output documents")
    data_collection: str = Field(
        "outputs_data", description="Collection (GridFS bucket) of large objects"
    )
    connect_timeout_s: float = Field(
        5.0, gt=0, description="Seconds to wait for a MongoDB server before giving up"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then environment, then the YAML file."""
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=config_file_path())
        return (init_settings, env_settings, yaml_source)

    @property
    def store_dir(self) -> Path:
        """Folder of the embedded (SQLite) store."""
        return self.project_dir.expanduser().resolve() / "store"

    @property
    def runs_dir(self) -> Path:
        """Folder where local job runs write their files."""
        return self.project_dir.expanduser().resolve() / "runs"


def get_settings(**overrides) -> CryinSettings:
    """Settings read now from the environment and config file, with ``overrides`` on top."""
    return CryinSettings(**overrides)
