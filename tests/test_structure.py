"""The package's shape: science packages never reach up into workflow layers, and no module
grows past what one reader can hold."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cryin_flows"
# science and data, usable without jobflow documents or the command line
PURE = (
    "interfaces", "potentials", "gan", "analysis", "vasp", "stability", "dynamics", "data",
    "alloys", "amorphous", "bench", "utils", "units", "errors", "devices",
)  # fmt: skip
UPPER = ("schemas", "makers", "flows", "cli", "launchpad")
MAX_LINES = 450


def imported_modules(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return out


def modules(packages=None):
    for path in sorted(PACKAGE.rglob("*.py")):
        top = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if packages is None or top in packages:
            yield top, path


@pytest.mark.parametrize("top,path", list(modules(PURE)), ids=lambda v: str(v)[-40:])
def test_pure_packages_import_no_upper_layer(top, path):
    upward = {
        name
        for name in imported_modules(path)
        if name.startswith("cryin_flows.") and name.split(".")[1] in UPPER
    }
    assert not upward, f"{path.relative_to(PACKAGE)} imports {sorted(upward)}"


def test_schemas_build_on_science_not_on_makers():
    for _, path in modules(("schemas",)):
        names = imported_modules(path)
        assert not [n for n in names if n.split(".")[1:2] in (["makers"], ["flows"], ["cli"])]


def test_no_module_over_the_size_limit():
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for _, p in modules()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
