"""sql_table on the generated housing database: SQLite, then the same rows loaded into PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3
from collections.abc import Iterator

import pytest

from tests.services import SERVERS, server_database

from connectors import SourceError, SqlTable
from tests.connectors.conftest import NIGHT, read_batches, read_table
from unsilo.demo.housing import load_into

MAY_1, MAY_2 = dt.date(2026, 5, 1), dt.date(2026, 5, 2)


def tenancies(url: str, **extra) -> SqlTable:
    options = {"url": url, "table": "tenancies", "key": "tenancy_id", "cursor": "updated_at", **extra}
    return SqlTable(source_id="housing_tenancies", options=options)


@pytest.fixture(scope="module")
def sqlite_db(demo):
    departments, truth = demo
    return departments / "housing" / "housing.db", truth


@pytest.fixture(scope="module")
def sqlite_rows(sqlite_db):
    path, _ = sqlite_db
    return read_table(tenancies(f"sqlite:///{path}"))


def test_sqlite_reads_every_row_of_the_night(sqlite_db, sqlite_rows):
    path, truth = sqlite_db
    with sqlite3.connect(path) as conn:
        count = conn.execute("SELECT COUNT(*) FROM tenancies").fetchone()[0]
        ids = [r[0] for r in conn.execute("SELECT tenancy_id FROM tenancies ORDER BY tenancy_id")]
    assert sqlite_rows.num_rows == count == truth["sources"]["housing_tenancies"]["rows"] > 0
    assert sqlite_rows.column("_source_row").to_pylist() == [f"tenancies:{i}" for i in ids]


def test_sqlite_other_night_has_no_rows(sqlite_db):
    path, _ = sqlite_db
    assert read_batches(tenancies(f"sqlite:///{path}"), MAY_1, MAY_2) == []


def test_sqlite_columns_are_all_strings(sqlite_rows):
    assert sqlite_rows.column_names == ["tenancy_id", "household_id", "unit_id", "start_date", "end_date",
                                        "monthly_rent", "arrears_months", "status", "updated_at", "_source_row"]
    assert all(str(t) == "string" for t in sqlite_rows.schema.types)
    rents = sqlite_rows.column("monthly_rent").to_pylist()
    assert all(isinstance(r, str) and decimal.Decimal(r) for r in rents)


def test_sqlite_truth_defects_are_source_rows(sqlite_db, sqlite_rows):
    _, truth = sqlite_db
    rows = {r["_source_row"]: r for r in sqlite_rows.to_pylist()}
    defects = truth["sources"]["housing_tenancies"]["defects"]
    for source_row in defects["unknown-code"]:
        assert rows[source_row]["status"] == "9"
    for source_row in defects["impossible-date"]:
        assert rows[source_row]["end_date"] < rows[source_row]["start_date"]


def test_sqlite_small_batches(sqlite_db, sqlite_rows):
    path, _ = sqlite_db
    batches = read_batches(tenancies(f"sqlite:///{path}", batch_rows=5))
    assert len(batches) == -(-sqlite_rows.num_rows // 5) > 1
    assert [b.num_rows for b in batches[:-1]] == [5] * (len(batches) - 1)
    assert [r for b in batches for r in b.to_pylist()] == sqlite_rows.to_pylist()


def test_sqlite_interval_bounds_at_midnight(tmp_path):
    # [start, end): a row stamped at 00:00:00 belongs to the night that starts then, not to the one before
    path = tmp_path / "bounds.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id VARCHAR(4) PRIMARY KEY, updated_at TIMESTAMP NOT NULL)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [
            ("a", "2026-05-31 23:59:59"), ("b", "2026-06-01 00:00:00"), ("c", "2026-06-01 23:59:59"),
            ("d", "2026-06-02 00:00:00"),
        ])
    conn = SqlTable(source_id="b", options={"url": f"sqlite:///{path}", "table": "t", "key": "id", "cursor": "updated_at"})
    ids = lambda start, end: [i for t in read_batches(conn, start, end) for i in t.column("id").to_pylist()]  # noqa: E731
    assert ids(NIGHT, dt.date(2026, 6, 2)) == ["b", "c"]
    assert ids(dt.date(2026, 6, 2), dt.date(2026, 6, 3)) == ["d"]
    assert ids(dt.date(2026, 5, 31), NIGHT) == ["a"]


def test_bad_table_name_names_the_table(sqlite_db):
    path, _ = sqlite_db
    with pytest.raises(SourceError) as err:
        read_batches(tenancies(f"sqlite:///{path}", table="tenancie"))
    assert "housing_tenancies" in str(err.value) and "'tenancie'" in str(err.value)


def test_table_name_that_is_not_an_identifier(sqlite_db):
    path, _ = sqlite_db
    with pytest.raises(SourceError, match="tenancies; DROP TABLE tenancies"):
        read_batches(tenancies(f"sqlite:///{path}", table="tenancies; DROP TABLE tenancies"))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM tenancies").fetchone()[0] > 0


def test_bad_url_is_a_source_error():
    with pytest.raises(SourceError, match="housing_tenancies: cannot use database URL"):
        read_batches(tenancies("nosuchdialect://x/y"))


# --- PostgreSQL and MariaDB --------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=sorted(SERVERS))
def server_url(request, sqlite_db) -> Iterator[str]:
    """A fresh database on the server holding the demo's housing tables; dropped afterwards."""
    with server_database(request.param, "unsilo_test_conn") as url:
        path, _ = sqlite_db
        counts = load_into(url, path)
        with sqlite3.connect(path) as conn:
            assert counts["tenancies"] == conn.execute("SELECT COUNT(*) FROM tenancies").fetchone()[0]
        yield url


def normalized(row: dict) -> dict:
    """Cell values compared across databases: numbers as Decimal, timestamps parsed (servers add '.000000')."""
    out = dict(row)
    out["monthly_rent"] = decimal.Decimal(row["monthly_rent"])
    out["arrears_months"] = int(row["arrears_months"])
    out["updated_at"] = dt.datetime.fromisoformat(row["updated_at"])
    return out


@pytest.mark.services
def test_server_rows_equal_sqlite_rows(server_url, sqlite_rows):
    table = read_table(tenancies(server_url))
    assert all(str(t) == "string" for t in table.schema.types)
    assert set(table.column("_source_row").to_pylist()) == set(sqlite_rows.column("_source_row").to_pylist())
    assert table.column("_source_row").to_pylist() == sqlite_rows.column("_source_row").to_pylist()  # ORDER BY key
    for column in ("tenancy_id", "household_id", "unit_id", "status", "start_date", "end_date"):
        assert table.column(column).to_pylist() == sqlite_rows.column(column).to_pylist(), column
    assert [normalized(r) for r in table.to_pylist()] == [normalized(r) for r in sqlite_rows.to_pylist()]


@pytest.mark.services
def test_server_other_night_has_no_rows(server_url):
    assert read_batches(tenancies(server_url), MAY_1, MAY_2) == []


@pytest.mark.services
def test_server_small_batches(server_url, sqlite_rows):
    batches = read_batches(tenancies(server_url, batch_rows=5))
    assert len(batches) == -(-sqlite_rows.num_rows // 5) > 1
    assert [r["_source_row"] for b in batches for r in b.to_pylist()] == sqlite_rows.column("_source_row").to_pylist()


@pytest.mark.services
def test_server_chinese_text_round_trips(server_url, sqlite_db):
    path, _ = sqlite_db
    options = {"table": "communities", "key": "community_code", "cursor": "updated_at"}
    here = read_table(SqlTable(source_id="c", options={"url": f"sqlite:///{path}", **options}))
    there = read_table(SqlTable(source_id="c", options={"url": server_url, **options}))
    assert there.column("community_name").to_pylist() == here.column("community_name").to_pylist()
    assert any(name.endswith("社区") for name in there.column("community_name").to_pylist())


@pytest.mark.services
def test_server_bad_table_name_names_the_table(server_url):
    with pytest.raises(SourceError) as err:
        read_batches(tenancies(server_url, table="tenancie"))
    assert "housing_tenancies" in str(err.value) and "'tenancie'" in str(err.value)
