"""The documentation's Python examples run as written (on their small settings), so they
cannot fall behind the code; each page's examples run in order in a fresh folder with a fresh
embedded store. The site itself is built by `make docs` (mkdocs --strict)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
#: pages whose examples continue another page's (run that page's first, in the same folder)
AFTER = {"querying.md": "README.md"}
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def examples(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text())


def test_the_pages_have_examples():
    """Guard against the pattern silently matching nothing."""
    with_examples = {p.name for p in PAGES if examples(p)}
    assert {"README.md", "index.md", "querying.md", "interfaces.md", "cryingan.md"} <= with_examples


def run_page(page: Path, namespace: dict) -> None:
    for number, code in enumerate(examples(page), 1):
        try:
            exec(compile(code, f"{page.name} example {number}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"{page.relative_to(ROOT)} example {number}: {exc!r}") from exc


@pytest.mark.parametrize(
    "page", [p for p in PAGES if examples(p)], ids=lambda p: str(p.relative_to(ROOT))
)
def test_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CRYIN_PROJECT_DIR", str(tmp_path / "cryin_data"))
    monkeypatch.setenv("CRYIN_STORE", "embedded")
    namespace: dict = {"__name__": "docs_example"}
    if page.name in AFTER:
        run_page(ROOT / AFTER[page.name], namespace)
    run_page(page, namespace)
    if page.name in ("README.md", "index.md", "querying.md"):
        assert (tmp_path / "random.extxyz").stat().st_size > 0
