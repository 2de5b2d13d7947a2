"""Type-2 history: versions with valid_from/valid_to/is_current; unchanged rows and re-runs add none."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from standards.ddl import all_ddl
from standards.entity import entity
from warehouse.merge_history import merge_history

ADDRESS = entity("address")
D1, D2, D3 = dt.date(2026, 6, 1), dt.date(2026, 6, 2), dt.date(2026, 6, 3)


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute(all_ddl())
    return c


def night(con, day: dt.date, rows: dict[str, str], run: str) -> tuple[int, int]:
    """Load addresses {key: grid} as the valid rows of the night ``day``."""
    con.execute("CREATE OR REPLACE TEMP TABLE staged (address_key VARCHAR, community_code VARCHAR, grid_code VARCHAR, "
                "_source VARCHAR, _extracted_at TIMESTAMPTZ, _row_hash VARCHAR)")
    for key, grid in rows.items():
        con.execute("INSERT INTO staged VALUES (?, ?, ?, 'housing_addresses', now(), md5(?))", [key, grid[:12], grid, grid])
    return merge_history(con, ADDRESS, "staged", run, day)


def versions(con):
    return con.execute("SELECT address_key, grid_code, valid_from, valid_to, is_current, _run_id "
                       "FROM std.address_history ORDER BY 1, 3").fetchall()


def test_a_change_closes_the_old_version_and_an_unchanged_row_adds_none(con):
    assert night(con, D1, {"a": "33010600100101", "b": "33010600100102"}, "r1") == (2, 0)
    assert night(con, D2, {"a": "33010600100101", "b": "33010600200101"}, "r2") == (1, 1)
    assert versions(con) == [
        ("a", "33010600100101", D1, None, True, "r1"),
        ("b", "33010600100102", D1, D2, False, "r1"),
        ("b", "33010600200101", D2, None, True, "r2"),
    ]
    current = con.execute("SELECT address_key, grid_code, valid_from FROM std.address ORDER BY 1").fetchall()
    assert current == [("a", "33010600100101", D1), ("b", "33010600200101", D2)]


def test_rerunning_a_night_adds_no_version_and_a_corrected_rerun_replaces_that_nights_version(con):
    night(con, D1, {"a": "33010600100101"}, "r1")
    night(con, D2, {"a": "33010600100102"}, "r2")
    before = versions(con)
    assert night(con, D2, {"a": "33010600100102"}, "r3") == (0, 1)
    assert versions(con) == before
    assert night(con, D2, {"a": "33010600100103"}, "r4") == (1, 0)  # the department corrected that night
    assert versions(con) == [("a", "33010600100101", D1, D2, False, "r1"), ("a", "33010600100103", D2, None, True, "r4")]


def test_a_backfilled_night_slots_into_the_timeline(con):
    night(con, D1, {"a": "33010600100101"}, "r1")
    night(con, D3, {"a": "33010600100103", "n": "33010600100104"}, "r3")
    assert night(con, D2, {"a": "33010600100102", "n": "33010600100199"}, "r2") == (2, 0)
    assert versions(con) == [
        ("a", "33010600100101", D1, D2, False, "r1"),
        ("a", "33010600100102", D2, D3, False, "r2"),
        ("a", "33010600100103", D3, None, True, "r3"),
        ("n", "33010600100199", D2, D3, False, "r2"),
        ("n", "33010600100104", D3, None, True, "r3"),
    ]
    assert con.execute("SELECT count(*) FROM std.address_history WHERE is_current GROUP BY address_key "
                       "HAVING count(*) > 1").fetchall() == []


def test_a_warehouse_from_before_history_gets_its_rows_as_first_versions(tmp_path):
    from warehouse.schema import connect

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as old:  # the table as the standard declared it before history: merge only
        old.execute("CREATE SCHEMA std; CREATE TABLE std.address (address_key VARCHAR PRIMARY KEY, community_code "
                    "VARCHAR, grid_code VARCHAR, _source VARCHAR NOT NULL, _run_id VARCHAR NOT NULL, _extracted_at "
                    "TIMESTAMPTZ NOT NULL, _row_hash VARCHAR NOT NULL)")
        old.execute("INSERT INTO std.address VALUES ('a', '330106001001', '33010600100101', 'housing_addresses', 'r1', "
                    "now(), 'h')")
        from warehouse.schema import META_DDL

        old.execute(META_DDL)
        old.execute("INSERT INTO meta.ledger VALUES ('r1', 'housing_addresses', 'housing', 'address', DATE '2026-05-31', "
                    "DATE '2026-06-01', now(), now(), 1, 1, 0, 0, 'success', NULL)")
    with connect(path) as con:
        assert versions(con) == [("a", "33010600100101", dt.date(2026, 5, 31), None, True, "r1")]
        assert con.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'std' "
                           "AND table_name = 'address'").fetchone() == ("VIEW",)
        assert night(con, D1, {"a": "33010600100102"}, "r2") == (1, 0)
        assert con.execute("SELECT grid_code FROM std.address").fetchall() == [("33010600100102",)]
    with connect(path) as con:  # opening again changes nothing
        assert len(versions(con)) == 2
