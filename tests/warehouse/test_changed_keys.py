"""The key join before a merge: new and changed keys found, unchanged ones left out, the same in one pass or many."""

from __future__ import annotations

import datetime as dt

import pytest

import warehouse.changed_keys as ck
from standards.entity import entity
from warehouse.schema import connect

RIDERSHIP = entity("daily_ridership")  # a two-column key: DATE and VARCHAR
DAY = dt.date(2026, 6, 1)


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    # stored: 5 days x 10 stops (i = 0..49); staged: i = 10..79, so 40 stored keys unchanged and 30 new ones, the date
    # as text, so only the cast to the table's type makes both sides hash alike
    con.execute(f"""INSERT INTO std.daily_ridership SELECT DATE '{DAY}' + CAST(i // 10 AS INT), 's' || (i % 10), i,
        'src', 'r1', now(), 'h' || i FROM range(50) r(i)""")
    con.execute(f"""CREATE TEMP TABLE staged AS SELECT CAST(DATE '{DAY}' + CAST(i // 10 AS INT) AS VARCHAR) AS service_date,
        's' || (i % 10) AS stop_id, i AS boardings, 'src' AS _source, now() AS _extracted_at,
        'h' || i AS _row_hash FROM range(10, 80) r(i)""")
    return con


def found(con) -> set[tuple]:
    return set(con.execute("SELECT service_date, stop_id, existing FROM changed_keys").fetchall())


def expected() -> set[tuple]:
    key = lambda i: (DAY + dt.timedelta(days=i // 10), f"s{i % 10}")  # noqa: E731
    return {(*key(i), False) for i in range(50, 80)}


def test_new_keys_are_found_and_unchanged_ones_left_out(con):
    assert ck.changed_keys(con, RIDERSHIP, "staged", 70) == 1
    assert found(con) == expected()


def test_changed_rows_are_found_as_existing(con):
    con.execute("UPDATE staged SET _row_hash = 'new' WHERE stop_id IN ('s1', 's2') AND boardings < 50")
    ck.changed_keys(con, RIDERSHIP, "staged", 70)
    changed = {(DAY + dt.timedelta(days=i // 10), f"s{i % 10}", True) for i in range(10, 50) if i % 10 in (1, 2)}
    assert found(con) == expected() | changed


def test_many_passes_find_what_one_pass_finds(con, monkeypatch):
    con.execute("UPDATE staged SET _row_hash = 'new' WHERE boardings % 3 = 0")
    ck.changed_keys(con, RIDERSHIP, "staged", 70)
    one = found(con)
    monkeypatch.setattr(ck, "ROWS_PER_PASS", 7)
    assert ck.changed_keys(con, RIDERSHIP, "staged", 70) == 8
    assert found(con) == one
    assert sum(existing for *_, existing in one) == len([i for i in range(10, 50) if i % 3 == 0])
