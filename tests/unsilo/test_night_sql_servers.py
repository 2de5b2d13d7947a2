"""The housing department's night read from PostgreSQL and MariaDB gives the same warehouse as from SQLite."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from tests.night_fixture import generated_night
from tests.services import SERVERS, server_database
from unsilo.catalog import sources
from unsilo.demo.housing import load_into
from unsilo.night import run_source
from unsilo.settings import settings

pytestmark = pytest.mark.services


def housing_night(night) -> dict:
    cfg = settings()
    for s in sources(cfg, "housing"):
        entry = run_source(s, night.interval, cfg)
        assert entry.status == "success" and entry.reconciles()
    con = duckdb.connect(str(night.warehouse), read_only=True)
    out = {}
    for table in ("community", "address", "housing_unit", "household", "tenancy", "housing_subsidy"):
        out[table] = sorted(con.execute(f"SELECT * EXCLUDE (_run_id, _extracted_at) FROM std.{table}").fetchall())
    out["quarantine"] = sorted(con.execute("SELECT source, source_row, rules FROM meta.quarantine").fetchall())
    con.close()
    return out


@pytest.fixture(scope="module")
def from_sqlite(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        night = generated_night(tmp_path_factory, mp, people=150)
        yield night, housing_night(night)


@pytest.mark.parametrize("kind", sorted(SERVERS))
def test_server_source_loads_the_same_warehouse(from_sqlite, kind, monkeypatch):
    night, expected = from_sqlite
    with server_database(kind, "unsilo_test_night") as url:
        load_into(url, night.home / "departments" / "housing" / "housing.db")
        shutil.rmtree(night.home / "warehouse")
        monkeypatch.setenv("UNSILO_HOME", str(night.home))
        monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", "test-pseudonym-key")
        monkeypatch.setenv("UNSILO_HOUSING_URL", url)  # credentials come from the environment, not the YAML
        got = housing_night(night)
    assert got["quarantine"] == expected["quarantine"]
    for table, rows in expected.items():
        assert got[table] == rows, table
