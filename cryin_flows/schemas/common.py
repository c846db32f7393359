"""Pieces shared by output documents."""

from __future__ import annotations

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


class Stats(BaseModel):
    """Summary statistics of one quantity over a set."""

    min: float = Field(description="Smallest value")
    mean: float = Field(description="Mean value")
    max: float = Field(description="Largest value")

    @classmethod
    def of(cls, values) -> Stats:
        """Stats of a non-empty sequence of numbers."""
        values = [float(v) for v in values]
        return cls(min=min(values), mean=sum(values) / len(values), max=max(values))


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
