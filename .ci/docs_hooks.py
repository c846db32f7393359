"""mkdocs hook: every public maker and flow maker has a docstring and a page in the API
reference. A miss is logged as a warning, which `mkdocs build --strict` turns into a failure."""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.api_coverage")


def _makers():
    from jobflow import Maker

    import cryin_flows.flows
    import cryin_flows.makers

    for package in (cryin_flows.makers, cryin_flows.flows):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for name, obj in vars(module).items():
                if (
                    inspect.isclass(obj)
                    and issubclass(obj, Maker)
                    and obj.__module__ == module.__name__
                    and not name.startswith("_")
                ):
                    yield module.__name__, name, obj


def on_pre_build(config) -> None:
    api = Path(config["docs_dir"]) / "api"
    pages = "\n".join(p.read_text() for p in api.glob("*.md"))
    for module, name, cls in _makers():
        if not (cls.__doc__ or "").strip() or cls.__doc__.startswith(f"{name}("):
            log.warning(f"{module}.{name}: a public maker without a docstring")
        if f"::: {module}\n" not in pages and f"::: {module}.{name}\n" not in pages:
            log.warning(f"{module}.{name}: not in the API reference (docs/api/)")
