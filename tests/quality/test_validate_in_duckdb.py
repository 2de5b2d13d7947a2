"""The DuckDB adapter: GX's SQL engine reads its rows before the connection closes, and in-database verdicts are
exact (every failing `_ordinal`, every rule) and equal to the pandas engine's."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import sqlalchemy as sa

from quality.duckdb_datasource import DuckDBExecutionEngine
from quality.validate import Validator, Verdict
from quality.validate_in_duckdb import validate_in_duckdb
from standards.entity import entity

OK_TENANCY = dict(tenancy_id="T1", household_key="h", address_key="a", started_on=dt.date(2024, 1, 1),
                  ended_on=None, monthly_rent=500.0, arrears_months=0, status_code="active",
                  _ok_present__started_on=True, _ok_date__started_on=True, _ok_date__ended_on=True,
                  _ok_type__monthly_rent=True, _ok_type__arrears_months=True, _dup_rank=1, _ok_encoding=True,
              _ok_ref__household_key=True)


def test_stock_engine_loses_duckdb_rows_and_ours_keeps_them(tmp_path):
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine

    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    query = sa.text("SELECT 41 + 1 AS answer UNION ALL SELECT 7")
    stock = SqlAlchemyExecutionEngine(connection_string=f"duckdb:///{db}")
    # the upstream defect this adapter exists for (GX issue 10738): if GX ever fixes it, drop the adapter
    assert stock.execute_query(query).fetchall() == []
    ours = DuckDBExecutionEngine(connection_string=f"duckdb:///{db}")
    assert sorted(r[0] for r in ours.execute_query(query).fetchall()) == [7, 42]
    assert ours.dialect_module is not None  # regex expectations need one
    stock.engine.dispose()
    ours.engine.dispose()


def _parquet(tmp_path, rows: list[dict], first_ordinal: int = 100):
    df = pd.DataFrame(rows)
    df["_ordinal"] = range(first_ordinal, first_ordinal + len(df))
    path = tmp_path / "batch.normalized.parquet"
    df.to_parquet(path)
    return path, df.set_index(df["_ordinal"].to_numpy())


def _rules(verdict: Verdict) -> dict[int, list[str]]:
    return {o: sorted(r for r, _ in f) for o, f in verdict.failures.items()}


def test_in_database_verdicts_are_exact_and_equal_the_pandas_engine(tmp_path):
    rows = [
        OK_TENANCY,
        {**OK_TENANCY, "tenancy_id": "T2", "status_code": "9"},
        {**OK_TENANCY, "tenancy_id": "T3", "ended_on": dt.date(2023, 1, 1)},
        {**OK_TENANCY, "tenancy_id": "T4", "monthly_rent": -1.0, "household_key": None},
        {**OK_TENANCY, "tenancy_id": "T1", "_dup_rank": 2},
        {**OK_TENANCY, "tenancy_id": "T6", "ended_on": dt.date(2024, 1, 1)},
    ]
    path, frame = _parquet(tmp_path, rows)
    ent = entity("tenancy")
    in_db = validate_in_duckdb(ent, path, tmp_path / "work")
    assert _rules(in_db) == {101: ["unknown-code"], 102: ["impossible-date"],
                             103: ["out-of-range", "required-missing"], 104: ["duplicate-key"]}
    pandas = Verdict()
    Validator(ent).validate(frame, pandas)
    assert _rules(in_db) == _rules(pandas)
    key = lambda e: (e["expectation"], e["column"], e["rule"])  # noqa: E731
    assert sorted(in_db.expectations, key=key) == sorted(pandas.expectations, key=key)
    assert list((tmp_path / "work").iterdir()) == []  # the scratch database is gone


def test_more_failures_than_gx_returns_by_default_and_anchored_regex(tmp_path):
    ent = entity("community")
    ok = {f.name: None for f in ent.fields}
    ok.update(_dup_rank=1, _ok_encoding=True)
    for f in ent.fields:
        if f.pattern:
            ok[f.name] = "1" * int(f.pattern.split("{")[1].rstrip("}"))
    rows = []
    for i in range(250):  # every row fails; more than GX's default partial list of 20
        r = dict(ok)
        pat_field = next(f.name for f in ent.fields if f.pattern)
        r[pat_field] = ok[pat_field] + "9" if i % 2 else "x" + ok[pat_field][1:]  # too long / not digits
        rows.append(r)
    rows.append(dict(ok))  # all patterns match
    path, _ = _parquet(tmp_path, rows, first_ordinal=0)
    verdict = validate_in_duckdb(ent, path, tmp_path)
    pattern = {o for o, f in verdict.failures.items() if any(r == "pattern-mismatch" for r, _ in f)}
    assert pattern == set(range(250))
