"""What every benchmark system shares: reading frames, the dataset and score documents, the
scoring options and the printed intervals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from cryin_flows.errors import ConfigurationError
from cryin_flows.utils import SerializableModel

Progress = Callable[[str], None]


def read_frames(path: str | Path, what: str) -> list:
    """Frames of an extxyz file; a clear error naming the file otherwise."""
    from ase.io import read

    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(f"{what} {path} does not exist")
    try:
        frames = read(path, index=":", format="extxyz")
    except Exception as exc:  # any reader error: name the file
        raise ConfigurationError(f"{what} {path}: not an extxyz file ASE reads ({exc})") from None
    if not frames:
        raise ConfigurationError(f"{what} {path} holds no structure")
    return frames


class DatasetDoc(BaseModel):
    """What a dataset build wrote."""

    system: str = Field(description="Benchmark system")
    files: dict[str, str] = Field(
        description="Set name -> extxyz file (interface: also the template JSON)"
    )
    figures: dict[str, str] = Field(default_factory=dict, description="Figure name -> PNG")
    summary: dict = Field(default_factory=dict, description="Numbers worth a glance")
    settings: dict = Field(description="The settings used")
    seconds: float = Field(description="Wall time")

    def write(self, out_dir: Path) -> DatasetDoc:
        """Write ``dataset.json`` into ``out_dir``; returns the document."""
        (out_dir / "dataset.json").write_text(self.model_dump_json(indent=1))
        return self


class ScoreDoc(BaseModel):
    """A generated set scored against a training set."""

    system: str = Field(description="Benchmark system")
    training: str = Field(description="Training extxyz")
    generated: str = Field(description="Generated extxyz")
    metrics: dict = Field(description="The system's metrics document")
    figures: dict[str, str] = Field(default_factory=dict, description="Figure name -> PNG")

    def write(self, out_dir: Path) -> ScoreDoc:
        """Write ``score.json`` into ``out_dir``; returns the document."""
        (out_dir / "score.json").write_text(self.model_dump_json(indent=1))
        return self


class ScoreOptions(SerializableModel):
    """How a generated set is scored; each system reads the fields that apply to it."""

    n_generated: int | None = Field(
        None, ge=1, description="Structures generated before any were rejected (default: "
        "those in the file)",
    )  # fmt: skip
    n_resamples: int = Field(1000, ge=10, description="Bootstrap resamples (published: 1,000)")
    translate: bool = Field(
        False, description="alloy: shift the lattice onto the atom nearest the origin first "
        "(DiffCSP's script)",
    )  # fmt: skip
    relax: str | None = Field(
        None, description="Relax the generated structures first. a-si: the Stillinger-Weber "
        "parameters ('vink'); interface: a potential folder (the study's M3GNet; unconverged "
        "structures are kept and count as failed, as in the study). None: as generated",
    )  # fmt: skip
    relax_steps: int | None = Field(
        None, ge=1, description="Most relaxation steps per structure (default: the "
        "relaxer's own: 2,000 CG steps for a-si, 1,000 FIRE steps for the interface)",
    )  # fmt: skip
    workers: int | None = Field(None, ge=1, description="Processes (default: all cores)")
    template: str | None = Field(
        None, description="interface: the template JSON file or an interface system's name "
        "(default: template.json beside the training file)",
    )  # fmt: skip


def interval_text(d: dict, digits: int = 4) -> str:
    value, low, high = (f"{d[k]:.{digits}g}" for k in ("value", "low", "high"))
    return f"{value} [{low}, {high}]"
