"""The top-level package names are generic: each must resolve to this repository, and imports point down."""

import ast
import importlib
from pathlib import Path

import pytest

from unsilo.settings import REPO

PACKAGES = ("standards", "connectors", "quality", "warehouse", "unsilo")
# package -> packages it must never import
FORBIDDEN = {
    "standards": {"connectors", "quality", "warehouse", "unsilo", "airflow", "great_expectations", "duckdb_engine"},
    "connectors": {"quality", "warehouse", "unsilo", "airflow", "great_expectations"},
    "quality": {"connectors", "warehouse", "unsilo", "airflow"},
    "warehouse": {"connectors", "quality", "unsilo", "airflow", "great_expectations"},
    "unsilo": {"airflow"},
}


@pytest.mark.parametrize("name", PACKAGES)
def test_package_resolves_to_this_repository(name):
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().parent == REPO / name


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_down_the_layers(package):
    bad = []
    for path in (REPO / package).rglob("*.py"):
        hit = _imports(path) & FORBIDDEN[package]
        if hit:
            bad.append(f"{path.relative_to(REPO)} imports {sorted(hit)}")
    assert not bad
