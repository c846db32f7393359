"""Small helpers shared across stages."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel


def file_sha256(path: str | Path) -> str:
    """Content hash of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SerializableModel(BaseModel):
    """A pydantic model that FireWorks and monty serialise as ``{"@module", "@class", ...}``.

    Makers carry settings models as fields; FireWorks writes a job's maker through ``as_dict``
    and would turn a plain pydantic model into its ``str``. Subclass this for every settings
    model a maker holds.
    """

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe fields plus the class path monty's decoder needs."""
        return {
            "@module": type(self).__module__,
            "@class": type(self).__name__,
            **self.model_dump(mode="json"),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        """Validate the fields of ``as_dict``'s output."""
        return cls.model_validate({k: v for k, v in d.items() if not k.startswith("@")})
