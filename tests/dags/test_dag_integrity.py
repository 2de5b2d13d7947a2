"""DAG integrity: the dags folder parses fast with no import errors; every DAG has tags, owners and retries; parsing
reads the source catalog and the standard and touches nothing else (no data root, warehouse, database or network);
a new source YAML becomes three tasks with no DAG edit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from unsilo.airflow_runner import DAGS_FOLDER, airflow_env
from unsilo.catalog import DEPARTMENTS, sources
from unsilo.settings import REPO, settings

pytestmark = pytest.mark.airflow
PROBE = Path(__file__).with_name("dag_parse_probe.py")
PARSE_LIMIT_SECONDS = 5.0
#: files a DAG parse may read besides Python modules: the catalog, the standard, time zones, message catalogs
ALLOWED = (REPO / "sources", REPO / "standards" / "entities", Path("/usr/share/zoneinfo"))


def parse(monkeypatch, home: Path, sources_dir: Path | None = None) -> dict:
    monkeypatch.setenv("UNSILO_HOME", str(home))
    if sources_dir:
        monkeypatch.setenv("UNSILO_SOURCES", str(sources_dir))
    out = subprocess.run([sys.executable, str(PROBE), str(DAGS_FOLDER)], env=airflow_env(settings()),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        yield parse(mp, tmp_path_factory.mktemp("home"))


def test_dags_parse_without_import_errors_under_the_time_limit(bag):
    assert bag["import_errors"] == {}
    assert bag["seconds"] < PARSE_LIMIT_SECONDS, bag["seconds"]
    assert set(bag["dags"]) == {f"sync_{d}" for d in DEPARTMENTS} | {"build_marts"}


def test_every_dag_has_tags_owners_and_retries(bag):
    for dag_id, dag in bag["dags"].items():
        assert "unsilo" in dag["tags"] and len(dag["tags"]) >= 2, dag_id
        assert dag["owners"] == ["unsilo"], dag_id
        assert min(dag["retries"]) >= 1, dag_id


def test_each_source_is_three_tasks(bag):
    cfg = settings()
    for department in DEPARTMENTS:
        assert bag["dags"][f"sync_{department}"]["tasks"] == 3 * len(sources(cfg, department)), department


def test_parsing_reads_only_the_catalog_and_the_standard(bag, tmp_path):
    other = []
    for item in bag["touched"]:
        if item.endswith((".py", ".pyc", ".so", ".mo", ".pth")) or ".dist-info/" in item or item in sys.path:
            continue  # importing code (duckdb reads its version from its METADATA: the catalog parses sql: with it)
        path = Path(item)
        if not item.startswith("/") or not any(path.is_relative_to(a) for a in ALLOWED):
            other.append(item)
    assert other == []  # no data root, warehouse, metadata DB, socket or subprocess at parse time
    assert any(Path(t).parent == REPO / "sources" for t in bag["touched"])  # the probe does see file reads


def test_a_new_source_yaml_becomes_tasks_with_no_dag_edit(bag, tmp_path, monkeypatch):
    catalog = tmp_path / "sources"
    shutil.copytree(REPO / "sources", catalog)
    extra = (catalog / "transport_stops.yaml").read_text(encoding="utf-8").replace(
        "id: transport_stops", "id: transport_stops_copy")
    (catalog / "transport_stops_copy.yaml").write_text(extra, encoding="utf-8")
    got = parse(monkeypatch, tmp_path / "home", catalog)
    assert got["dags"]["sync_transport"]["tasks"] == bag["dags"]["sync_transport"]["tasks"] + 3
    assert got["import_errors"] == {}
