"""Cost of validating one entity's whole suite: GX in DuckDB (unsilo's adapter) against GX over pandas batches.

    .venv/bin/python bench/validate_cost.py               # 1M rows
    .venv/bin/python bench/validate_cost.py --rows 1000000 --rows 10000000 --repeat 3

Generates a normalized ``tenancy`` Parquet file (every column and check column the transform writes, ~1% seeded
defects over several rules), validates it with both engines, checks that both find exactly the same failing rows
and rules, and prints median seconds, rows/s, seconds per million rows and the pandas/DuckDB ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb


def generate(path: Path, rows: int) -> None:
    duckdb.sql(
        f"""COPY (
        SELECT 'T' || i AS tenancy_id,
               CASE WHEN i % 211 = 0 THEN NULL ELSE md5('h' || i) END AS household_key,
               md5('a' || i) AS address_key,
               DATE '2020-01-01' + CAST(i % 1500 AS INTEGER) AS started_on,
               CASE WHEN i % 3 = 0 THEN NULL
                    WHEN i % 307 = 0 THEN DATE '2019-01-01'
                    ELSE DATE '2020-01-01' + CAST(i % 1500 AS INTEGER) + 30 END AS ended_on,
               CAST(CASE WHEN i % 401 = 0 THEN -1 ELSE 300 + i % 900 END AS DOUBLE) AS monthly_rent,
               CAST(i % 7 AS BIGINT) AS arrears_months,
               CASE WHEN i % 503 = 0 THEN '9' ELSE ['active', 'ended', 'suspended'][1 + i % 3] END AS status_code,
               true AS _ok_present__started_on, true AS _ok_date__started_on, true AS _ok_date__ended_on,
               true AS _ok_type__monthly_rent, true AS _ok_type__arrears_months, true AS _ok_ref__household_key,
               CASE WHEN i % 997 = 0 THEN 2 ELSE 1 END AS _dup_rank, true AS _ok_encoding,
               'bench' AS _source, now() AS _extracted_at, CAST(i AS BIGINT) AS _ordinal, md5('r' || i) AS _row_hash
        FROM range({rows}) t(i)) TO '{path}' (FORMAT parquet)"""
    )


def timed(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, action="append", help="rows to generate (repeatable); default 1,000,000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sizes = args.rows or [1_000_000]

    t0 = time.perf_counter()
    from quality.validate_in_duckdb import validate_in_duckdb
    from standards.entity import entity
    from standards.rules import rules
    from unsilo.validate import validate_with_pandas

    print(f"importing great_expectations and the engines: {time.perf_counter() - t0:.1f} s (not counted below)")
    ent = entity("tenancy")
    from quality.validate import Validator

    Validator(ent)  # warm GX's registries once so neither engine pays for it
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"tenancy_{n}.normalized.parquet"
            generate(path, n)
            db_s, db_v = timed(lambda: validate_in_duckdb(ent, path, Path(tmp)), args.repeat)
            pd_s, pd_v = timed(lambda: validate_with_pandas(ent, path), args.repeat)
            same = {o: sorted(f) for o, f in db_v.failures.items()} == {o: sorted(f) for o, f in pd_v.failures.items()}
            lines.append((n, len(rules(ent)), len(db_v.failures), db_s, pd_s, same))
    print()
    print(f"{'rows':>11} {'expectations':>12} {'failing rows':>12} {'engine':>7} {'median s':>9} "
          f"{'rows/s':>11} {'s per 1M':>9} {'pandas/duckdb':>13} {'same verdicts':>13}")
    for n, k, failing, db_s, pd_s, same in lines:
        for name, s in (("duckdb", db_s), ("pandas", pd_s)):
            ratio = f"{pd_s / db_s:.1f}x" if name == "pandas" else ""
            print(f"{n:>11,} {k:>12} {failing:>12,} {name:>7} {s:>9.2f} {n / s:>11,.0f} {s * 1e6 / n:>9.2f} "
                  f"{ratio:>13} {str(same):>13}")


if __name__ == "__main__":
    main()
