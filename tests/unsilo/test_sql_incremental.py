"""Incremental reads of an SQL table by a cursor column with a safe boundary, against SQLite, PostgreSQL and
MariaDB: rows sharing the last cursor value and rows committed late with an older value are not missed; the cursor
is saved in meta.source_state in the load's transaction (a crash does not move it); --full-refresh reads all."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest
import sqlalchemy as sa

from tests.night_fixture import KEY
from tests.services import server_database
from unsilo.interval import Interval
from unsilo.night import run_source
from unsilo.settings import settings

NIGHT = Interval.night(dt.date(2026, 6, 1))
T = dt.datetime(2026, 6, 1, 10, 0, 0)


def source(url: str) -> dict:
    return {
        "id": "housing_communities_incremental", "department": "housing", "entity": "community",
        "connector": {"kind": "sql_table", "url": url, "table": "communities", "key": "community_code",
                      "cursor": "updated_at", "incremental": True, "lookback": 3600},
        "fields": {f: f for f in ("community_code", "community_name", "street_code", "street_name", "district_code")},
    }


def insert(engine, code: int, name: str, at: dt.datetime) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM communities WHERE community_code = :c"), {"c": f"{code:012d}"})
        conn.execute(sa.text("INSERT INTO communities VALUES (:c, :n, '110101001', 'Street', '110101', :t)"),
                     {"c": f"{code:012d}", "n": name, "t": at})


def counts(entry) -> tuple:
    return entry.extracted, entry.loaded, entry.quarantined, entry.unchanged


def saved_cursor(home) -> str:
    with duckdb.connect(str(home / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        return json.loads(con.execute("SELECT state FROM meta.source_state").fetchone()[0])["cursor"]["cursor"]


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'housing.db'}"
        return
    with server_database(request.param, "unsilo_test_incr") as url:
        yield url


def test_incremental_cursor_with_safe_boundary(database, tmp_path, monkeypatch):
    monkeypatch.setenv("UNSILO_HOME", str(tmp_path))
    monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)
    engine = sa.create_engine(database)
    with engine.begin() as conn:
        stamp = "TIMESTAMP" if engine.dialect.name != "mysql" else "DATETIME"
        conn.execute(sa.text(f"""CREATE TABLE communities (community_code VARCHAR(12) PRIMARY KEY,
            community_name VARCHAR(50), street_code VARCHAR(9), street_name VARCHAR(50), district_code VARCHAR(6),
            updated_at {stamp})"""))
    for code, name, at in ((1, "One", T), (2, "Two", T + dt.timedelta(hours=1)), (3, "Three", T + dt.timedelta(hours=1))):
        insert(engine, code, name, at)
    src, cfg = source(database), settings()

    assert counts(run_source(src, NIGHT, cfg)) == (3, 3, 0, 0)
    assert saved_cursor(tmp_path) == "2026-06-01 11:00:00"

    insert(engine, 4, "Four", T + dt.timedelta(hours=1))  # shares the last cursor value
    insert(engine, 5, "Five", T + dt.timedelta(minutes=30))  # committed late, with an older value
    insert(engine, 1, "One renamed", T + dt.timedelta(hours=2))  # changed
    # read: cursor >= 10:00 (11:00 minus one hour): 1, 2, 3, 4, 5; 2 and 3 are unchanged
    assert counts(run_source(src, NIGHT, cfg)) == (5, 3, 0, 2)
    assert saved_cursor(tmp_path) == "2026-06-01 12:00:00"

    insert(engine, 6, "Six", T + dt.timedelta(hours=3))
    import warehouse.load

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(warehouse.load, "write_ledger", crash)
        with pytest.raises(RuntimeError, match="disk full"):
            run_source(src, NIGHT, cfg)
    assert saved_cursor(tmp_path) == "2026-06-01 12:00:00", "a failed load must not move the cursor"

    # cursor >= 11:00 (12:00 minus one hour): 2, 3, 4 and 1 again (unchanged), and 6
    assert counts(run_source(src, NIGHT, cfg)) == (5, 1, 0, 4)
    assert saved_cursor(tmp_path) == "2026-06-01 13:00:00"
    assert counts(run_source(src, NIGHT, cfg, full_refresh=True)) == (6, 0, 0, 6)
    with duckdb.connect(str(tmp_path / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        names = con.execute("SELECT community_name FROM std.community ORDER BY community_code").fetchall()
    assert [n for (n,) in names] == ["One renamed", "Two", "Three", "Four", "Five", "Six"]
    engine.dispose()
