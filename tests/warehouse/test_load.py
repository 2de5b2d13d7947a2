"""The transactional load: merge counts, unchanged rows untouched, quarantine, ledger refusal, rollback."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from standards.entity import entity
from warehouse.load import LedgerEntry, load, write_ledger
from warehouse.schema import connect

ROUTE = entity("transit_route")
NOW = dt.datetime(2026, 6, 2, tzinfo=dt.timezone.utc)


def files(tmp_path, routes: list[tuple[str, str, str]], failing: dict[int, list[str]]):
    n = len(routes)
    meta = {"_source": ["gtfs"] * n, "_source_row": [f"routes.txt:{i + 2}" for i in range(n)],
            "_extracted_at": pa.array([NOW] * n), "_ordinal": pa.array(range(n), pa.int64())}
    landing = pa.table({"route_id": [r[0] for r in routes], "route_type": [r[2] for r in routes], **meta})
    normalized = pa.table({"route_id": [r[0] for r in routes], "route_name": [r[1] for r in routes],
                           "route_type_code": [r[2] for r in routes], **meta,
                           "_row_hash": [f"{r[1]}|{r[2]}" for r in routes]})
    verdicts = pa.table({"_ordinal": pa.array(sorted(failing), pa.int64()),
                         "rules": pa.array([failing[o] for o in sorted(failing)], pa.list_(pa.string())),
                         "checks": pa.array([failing[o] for o in sorted(failing)], pa.list_(pa.string()))})
    paths = {}
    for name, table in (("landing", landing), ("normalized", normalized), ("verdicts", verdicts)):
        paths[name] = tmp_path / f"{name}.parquet"
        pq.write_table(table, paths[name])
    return paths, landing.column_names


def entry(run_id: str) -> LedgerEntry:
    return LedgerEntry(run_id=run_id, source="transport_routes", department="transport", entity="transit_route",
                       interval_start=dt.date(2026, 6, 1), interval_end=dt.date(2026, 6, 2),
                       started_at=NOW, finished_at=NOW)


def do_load(con, tmp_path, run_id, routes, failing):
    paths, cols = files(tmp_path, routes, failing)
    e = entry(run_id)
    e.extracted = len(routes)
    return load(con, ROUTE, e, paths["landing"], cols, paths["normalized"], paths["verdicts"], [])


def test_insert_then_unchanged_then_update(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    first = do_load(con, tmp_path, "r1", [("1", "A", "3"), ("2", "B", "3"), ("3", "C", "99")], {2: ["unknown-code"]})
    assert (first.loaded, first.quarantined, first.unchanged) == (2, 1, 0)
    second = do_load(con, tmp_path, "r2", [("1", "A", "3"), ("2", "B2", "3"), ("3", "C", "99")], {2: ["unknown-code"]})
    assert (second.loaded, second.quarantined, second.unchanged) == (1, 1, 1)
    rows = dict(con.execute("SELECT route_id, _run_id FROM std.transit_route").fetchall())
    assert rows == {"1": "r1", "2": "r2"}  # the unchanged row keeps the run that loaded it
    q = con.execute("SELECT source_row, rules, run_id, record->>'route_type' FROM meta.quarantine").fetchall()
    assert q == [("routes.txt:4", ["unknown-code"], "r1", "99")]  # the same quarantined row is not added twice
    ledger = con.execute("SELECT run_id, extracted, loaded, quarantined, unchanged FROM meta.ledger ORDER BY 1").fetchall()
    assert ledger == [("r1", 3, 2, 1, 0), ("r2", 3, 1, 1, 1)]


def test_a_load_in_many_passes_merges_as_one(tmp_path, monkeypatch):
    import warehouse.changed_keys

    monkeypatch.setattr(warehouse.changed_keys, "ROWS_PER_PASS", 1)  # one pass per row
    con = connect(tmp_path / "w.duckdb")
    do_load(con, tmp_path, "r1", [("1", "A", "3"), ("2", "B", "3"), ("3", "C", "3")], {})
    later = do_load(con, tmp_path, "r2", [("1", "A", "3"), ("2", "B2", "3"), ("4", "D", "3")], {})
    assert (later.loaded, later.unchanged) == (2, 1)
    rows = con.execute("SELECT route_id, route_name, _run_id FROM std.transit_route ORDER BY 1").fetchall()
    assert rows == [("1", "A", "r1"), ("2", "B2", "r2"), ("3", "C", "r1"), ("4", "D", "r2")]


def test_a_fixed_row_leaves_quarantine(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    do_load(con, tmp_path, "r1", [("1", "A", "99")], {0: ["unknown-code"]})
    later = do_load(con, tmp_path, "r2", [("1", "A", "3")], {})
    assert later.loaded == 1
    assert con.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0] == 0


def test_an_unreconciled_ledger_is_refused():
    con = duckdb.connect()
    from warehouse.schema import create

    create(con)
    e = entry("bad")
    e.extracted, e.loaded = 5, 4
    with pytest.raises(RuntimeError, match="does not reconcile"):
        write_ledger(con, e)


def test_an_error_rolls_the_whole_load_back(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    do_load(con, tmp_path, "r1", [("1", "A", "3")], {})
    paths, cols = files(tmp_path, [("1", "A2", "3"), ("2", "B", "99")], {1: ["unknown-code"]})
    e = entry("r2")
    e.extracted = 5  # wrong on purpose: the ledger refuses it at the very end of the transaction
    with pytest.raises(RuntimeError, match="does not reconcile"):
        load(con, ROUTE, e, paths["landing"], cols, paths["normalized"], paths["verdicts"], [])
    assert con.execute("SELECT route_id, route_name FROM std.transit_route").fetchall() == [("1", "A")]
    assert con.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM meta.ledger").fetchone()[0] == 1


def test_a_load_that_outgrows_its_memory_limit_is_rolled_back_and_run_again_without_it(tmp_path, monkeypatch):
    import warehouse.load as module

    con = connect(tmp_path / "w.duckdb")
    do_load(con, tmp_path, "r1", [("1", "A", "3"), ("2", "B", "3")], {})
    real, calls = module._load, []

    def first_runs_out_of_memory(con, *args):
        calls.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        if len(calls) == 1:
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM std.transit_route")  # half-done work the rollback must undo
            con.execute("ROLLBACK")
            raise duckdb.OutOfMemoryException("could not allocate block")
        return real(con, *args)

    monkeypatch.setattr(module, "_load", first_runs_out_of_memory)
    paths, cols = files(tmp_path, [("1", "A", "3"), ("2", "B2", "3"), ("3", "C", "3")], {})
    e = entry("r2")
    e.extracted = 3
    done = load(con, ROUTE, e, paths["landing"], cols, paths["normalized"], paths["verdicts"], [],
                memory_limit="300MB")
    assert (done.loaded, done.unchanged) == (2, 1)
    probe = duckdb.connect()
    probe.execute("SET memory_limit = '300MB'")
    assert calls[0] == probe.execute("SELECT current_setting('memory_limit')").fetchone()[0]  # in force at first
    assert calls[1] != calls[0]  # and lifted for the second
    assert dict(con.execute("SELECT route_id, route_name FROM std.transit_route").fetchall()) == {
        "1": "A", "2": "B2", "3": "C"}
