"""JobStore construction: embedded (MontyStore on SQLite), MongoDB (+ GridFS), or jobflow's own.

Every JobStore has a ``data`` additional store, where jobs put large objects
(``@job(data=...)``): structure sets, trajectories, model files.
"""

from __future__ import annotations

import os
from pathlib import Path

from jobflow import JobStore
from maggma.stores import GridFSStore, MongoStore, MontyStore
from pymongo import MongoClient
from pymongo.errors import ConfigurationError as PyMongoConfigurationError
from pymongo.errors import InvalidURI, OperationFailure, PyMongoError
from pymongo.uri_parser import parse_uri

from cryin_flows.errors import ConfigurationError, StoreConnectionError
from cryin_flows.settings import CryinSettings, get_settings

DEFAULT_DATABASE = "cryin_flows"
AUTHENTICATION_FAILED = 18  # MongoDB error code


def jobflow_config_file() -> Path | None:
    """The jobflow configuration file in force, if one exists."""
    path = Path(os.environ.get("JOBFLOW_CONFIG_FILE", "~/.jobflow.yaml")).expanduser()
    return path if path.is_file() else None


def resolve_backend(settings: CryinSettings) -> str:
    """'embedded', 'mongodb' or 'jobflow', resolving 'auto' (see ``CryinSettings.store``)."""
    if settings.store != "auto":
        return settings.store
    if settings.mongodb_uri is not None:
        return "mongodb"
    if jobflow_config_file() is not None:
        return "jobflow"
    return "embedded"


def embedded_job_store(
    store_dir: Path, docs: str = "outputs", data: str = "outputs_data"
) -> JobStore:
    """A JobStore on montydb's SQLite storage in ``store_dir``; readable by other processes."""
    store_dir = Path(store_dir)
    store_dir.mkdir(parents=True, exist_ok=True)
    common = {
        "database_path": str(store_dir),
        "database_name": DEFAULT_DATABASE,
        "storage": "sqlite",
    }
    return JobStore(
        MontyStore(collection_name=docs, **common),
        additional_stores={"data": MontyStore(collection_name=data, **common)},
    )


def redact_uri(uri: str) -> str:
    """The URI with any password replaced by ``***``."""
    try:
        parsed = parse_uri(uri, validate=False, warn=True)
    except (InvalidURI, PyMongoConfigurationError, ValueError):
        return "<unparseable MongoDB URI>"
    password = parsed.get("password")
    return uri.replace(f":{password}@", ":***@") if password else uri


def _uri_target(uri: str, database: str | None) -> tuple[str, str]:
    try:
        parsed = parse_uri(uri, validate=False, warn=True)
    except (InvalidURI, PyMongoConfigurationError, ValueError) as exc:
        raise ConfigurationError(
            f"invalid MongoDB URI {redact_uri(uri)!r}: {type(exc).__name__}"
        ) from None
    hosts = (
        ",".join(f"{h}:{p}" for h, p in parsed.get("nodelist", []))
        or uri.split("@")[-1].split("/")[0]
    )
    return hosts, database or parsed.get("database") or DEFAULT_DATABASE


def check_mongodb(uri: str, database: str | None = None, timeout_s: float = 5.0) -> str:
    """Ping the server; raise StoreConnectionError naming host and database (never secrets)."""
    hosts, db = _uri_target(uri, database)
    timeout_ms = int(timeout_s * 1000)
    try:
        client = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
        client[db].command("ping")
    except OperationFailure as exc:
        if exc.code == AUTHENTICATION_FAILED:
            raise StoreConnectionError(
                f"MongoDB at {hosts} refused the credentials for database {db!r} "
                "(authentication failed): check the user name, password and authSource in "
                "the URI"
            ) from None
        raise StoreConnectionError(
            f"MongoDB at {hosts} (database {db!r}) refused the request: "
            f"{exc.details.get('codeName', exc.code) if exc.details else exc.code}"
        ) from None
    except PyMongoError as exc:
        raise StoreConnectionError(
            f"cannot reach MongoDB at {hosts} (database {db!r}) within {timeout_s:g} s: "
            f"{type(exc).__name__}. Check the host, port, credentials and network, or use "
            "the embedded store (CRYIN_STORE=embedded)."
        ) from None
    finally:
        if "client" in locals():
            client.close()
    return db


def mongodb_job_store(
    uri: str,
    database: str | None = None,
    docs: str = "outputs",
    data: str = "outputs_data",
    timeout_s: float = 5.0,
) -> JobStore:
    """A JobStore on a MongoDB server (documents) with GridFS for the ``data`` store."""
    db = check_mongodb(uri, database, timeout_s)
    kwargs = {"mongoclient_kwargs": {"serverSelectionTimeoutMS": int(timeout_s * 1000)}}
    return JobStore(
        MongoStore(db, docs, uri=uri, **kwargs),
        additional_stores={"data": GridFSStore(db, data, uri=uri, **kwargs)},
    )


def get_job_store(settings: CryinSettings | None = None) -> JobStore:
    """The JobStore the settings ask for (see ``CryinSettings.store``)."""
    settings = settings or get_settings()
    backend = resolve_backend(settings)
    if backend == "embedded":
        return embedded_job_store(
            settings.store_dir, settings.docs_collection, settings.data_collection
        )
    if backend == "mongodb":
        if settings.mongodb_uri is None:
            raise ConfigurationError(
                "store is 'mongodb' but no mongodb_uri (CRYIN_MONGODB_URI) is set"
            )
        return mongodb_job_store(
            settings.mongodb_uri.get_secret_value(),
            settings.mongodb_database,
            settings.docs_collection,
            settings.data_collection,
            settings.connect_timeout_s,
        )
    from jobflow.settings import JobflowSettings

    store = JobflowSettings().JOB_STORE  # read now, so the current JOBFLOW_CONFIG_FILE counts
    if "data" not in store.additional_stores:
        raise ConfigurationError(
            f"the jobflow JobStore ({jobflow_config_file() or 'default'}) has no 'data' "
            "additional store; add one (GridFS or S3) so large outputs stay out of documents"
        )
    uri = _server_uri(store.docs_store)
    if uri is not None:  # fail in connect_timeout_s with one clear line, not a pymongo blob
        check_mongodb(uri, getattr(store.docs_store, "database", None), settings.connect_timeout_s)
    return store


def mongodb_target(uri: str, database: str | None) -> str:
    """'MongoDB at HOST:PORT, database NAME': a server named without credentials."""
    hosts, db = _uri_target(uri, database)
    return f"MongoDB at {hosts}, database {db!r}"


def describe_job_store(store: JobStore) -> str:
    """Where a JobStore keeps its documents, in one line without credentials."""
    uri = _server_uri(store.docs_store)
    if uri is None:
        return f"{type(store.docs_store).__name__} store"
    return mongodb_target(uri, getattr(store.docs_store, "database", None))


def _server_uri(store) -> str | None:
    """The MongoDB URI a maggma store connects to (MongoStore by URI or host), else None."""
    if getattr(store, "uri", None):
        return store.uri
    if type(store) is MongoStore:  # not its subclasses MontyStore, MemoryStore (no server)
        return f"mongodb://{store.host}:{store.port}"
    return None


def describe_store(settings: CryinSettings | None = None) -> str:
    """One line saying where results go, without credentials."""
    settings = settings or get_settings()
    backend = resolve_backend(settings)
    if backend == "embedded":
        return f"embedded store (montydb/SQLite) at {settings.store_dir}"
    if backend == "mongodb" and settings.mongodb_uri is not None:
        return mongodb_target(settings.mongodb_uri.get_secret_value(), settings.mongodb_database)
    return f"jobflow JobStore from {jobflow_config_file() or 'jobflow defaults'}"


def load_output(uuid: str, store: JobStore | None = None):
    """The output of job ``uuid`` as objects (schemas, InterfaceSet), data-store blobs loaded."""
    from monty.json import MontyDecoder

    store = store or get_job_store()
    store.connect()
    return MontyDecoder().process_decoded(store.get_output(uuid, load=True))
