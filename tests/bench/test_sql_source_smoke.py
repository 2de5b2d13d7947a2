"""A tiny smoke of the SQL benchmark (CI does not time anything): it runs against PostgreSQL, and the nights it
measures are right. Skips without PostgreSQL on a laptop; under CI=true PostgreSQL must be there."""

from __future__ import annotations


import psycopg
import pytest

from tests.services import server_database

from bench.employment_table import TABLE, load
from tests.bench.run_bench import run_bench
ROWS = 800


def rows_of(lines: list[str], name: str) -> list[int]:
    line = next(line for line in lines if name in line and "rep 1/1" in line)
    return [int(x) for x in line.split("MB", 1)[1].split()]


@pytest.mark.services
def test_generated_table_is_typed_and_deterministic():
    with server_database("postgresql", "unsilo_test_benchsql") as url:
        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        load(conninfo, 300)
        with psycopg.connect(conninfo) as conn:
            first = conn.execute(f"SELECT * FROM {TABLE} ORDER BY 1").fetchall()
            kinds = dict(conn.execute("SELECT column_name, data_type FROM information_schema.columns "
                                      "WHERE table_name = %s", [TABLE]).fetchall())
            late = conn.execute(f"SELECT count(*) FROM {TABLE} WHERE updated_at >= '2026-06-01 20:00'").fetchone()[0]
        load(conninfo, 300)
        with psycopg.connect(conninfo) as conn:
            assert conn.execute(f"SELECT * FROM {TABLE} ORDER BY 1").fetchall() == first
    assert len(first) == 300 and late == 0
    assert kinds["updated_at"] == "timestamp without time zone" and kinds["registered_on"] == "date"
    assert kinds["monthly_wage"] == "numeric"


@pytest.mark.services
@pytest.mark.timeout(600)
def test_sql_benchmark_smoke(tmp_path):
    with server_database("postgresql", "unsilo_test_benchsql") as url:
        database = url.rsplit("/", 1)[1]
        lines = run_bench("sql_source.py", ROWS, tmp_path,
                          ("(a) copy->duckdb (floor)", "(c) unsilo full night", "(d) unsilo incremental night"),
                          "--database", database, timeout=600)
    changed = int(next(line for line in lines if "previous night" in line).split("then ")[1].split()[0])
    assert 0 < changed < ROWS * 0.03  # about 1% of the registrations ended
    assert rows_of(lines, "(a) copy->duckdb") == [ROWS]
    extracted, loaded, quarantined, unchanged = rows_of(lines, "(c) unsilo full night")
    assert (extracted, loaded, quarantined, unchanged) == (ROWS, changed, 0, ROWS - changed)
    extracted, loaded, quarantined, unchanged = rows_of(lines, "(d) unsilo incremental night")
    assert loaded == changed and quarantined == 0 and extracted == loaded + unchanged < changed + 5
    assert any("costs" in line and "of the full night" in line for line in lines)
