"""Small helpers shared across stages."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel


def parse_key_value(pair: str, what: str, example: str) -> tuple[str, Any]:
    """``"a.b=[1, 2]"`` -> ``("a.b", [1, 2])``: the value read as YAML; clear errors for
    ``--set``/``--filter`` style options (``what`` names the option, ``example`` shows one)."""
    import yaml

    from cryin_flows.errors import ConfigurationError

    key, sep, raw = pair.partition("=")
    if not sep or not key.strip():
        raise ConfigurationError(f"{what} {pair!r}: use key=value (e.g. {example})")
    try:
        return key.strip(), yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{what} {pair!r}: the value is not valid YAML ({exc})") from None


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


_GLIBC_M_TRIM_THRESHOLD, _GLIBC_M_MMAP_THRESHOLD = -1, -3


def retain_freed_memory(limit: int = 1 << 30) -> bool:
    """Ask glibc to reuse freed blocks below ``limit`` bytes instead of unmapping them.

    A CPU model call allocates and frees tens of MB of tensors (graph, autograd buffers); with
    glibc's defaults each is a fresh ``mmap`` whose pages fault in again on every call. On the
    2-core machine this took a batched M3GNet relaxation step from 19.5 s to 11.1 s and its host
    overhead from 1.2 to 0.37 ms per structure-step. The cost: the process keeps its peak
    memory. Returns False where the C library is not glibc (nothing changes there).
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_GLIBC_M_MMAP_THRESHOLD, limit)) and bool(
        mallopt(_GLIBC_M_TRIM_THRESHOLD, limit)
    )
