"""Pieces shared by output documents."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pydantic import BaseModel, Field

from cryin_flows.utils import file_sha256

_TRACKED = ("cryin-flows", "pymatgen", "numpy", "ase", "jobflow", "torch", "matgl")


def package_versions() -> dict[str, str]:
    """Versions of the packages that decide a result, for reproducibility."""
    out = {}
    for name in _TRACKED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


class OutputDoc(BaseModel):
    """What every job output document records besides its results: the kind of job, when it
    finished and the versions of the packages that decide a result (provenance)."""

    task_label: str = Field(description="What kind of job made this")
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC), description="When it was built (UTC)"
    )
    versions: dict[str, str] = Field(default_factory=package_versions, description="Packages")
    device: str | None = Field(
        None,
        description="Where the job's model ran: cpu or cuda:N (GPU name); None when no model ran",
    )


class FileRef(BaseModel):
    """A file a job wrote, by absolute path and content hash (never the content itself)."""

    path: str = Field(description="Absolute path where the job wrote the file")
    sha256: str = Field(description="Content hash, to check the file is the one recorded")
    size_bytes: int = Field(description="File size")

    @classmethod
    def of(cls, path) -> FileRef:
        """Reference to an existing file."""
        path = Path(path).resolve()
        return cls(path=str(path), sha256=file_sha256(path), size_bytes=path.stat().st_size)
