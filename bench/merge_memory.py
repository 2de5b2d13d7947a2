"""Merge strategies in DuckDB: peak memory (RSS) and time of folding a night into a 1M-row table.

    .venv/bin/python bench/merge_memory.py [--rows 1000000] [--changed 0.1] [--new 0.1]

Each strategy runs in a fresh process on a fresh DuckDB file (target: ``rows`` rows with a primary key; incoming:
every target row again, ``changed`` of them with a new value, plus ``new`` * rows new keys), so the peak RSS of
that process is the strategy's. Prints a table. The numbers chose the load's SQL: see docs/night.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STRATEGIES = {
    "MERGE INTO (upsert)": [
        """MERGE INTO t USING s ON t.k = s.k
        WHEN MATCHED AND t.h <> s.h THEN UPDATE SET a = s.a, b = s.b, h = s.h
        WHEN NOT MATCHED THEN INSERT (k, a, b, h) VALUES (s.k, s.a, s.b, s.h)""",
    ],
    "INSERT … ON CONFLICT DO UPDATE (upsert)": [
        """INSERT INTO t SELECT s.k, s.a, s.b, s.h FROM s
        WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.k = s.k AND t.h = s.h)
        ON CONFLICT (k) DO UPDATE SET a = excluded.a, b = excluded.b, h = excluded.h""",
    ],
    "UPDATE … FROM + INSERT … ANTI JOIN (upsert)": [
        "UPDATE t SET a = s.a, b = s.b, h = s.h FROM s WHERE t.k = s.k AND t.h <> s.h",
        "INSERT INTO t SELECT s.k, s.a, s.b, s.h FROM s ANTI JOIN t ON t.k = s.k",
    ],
    "DELETE changed + INSERT changed and new (upsert)": [
        """CREATE TEMP TABLE changed AS SELECT s.* FROM s
        WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.k = s.k AND t.h = s.h)""",
        "DELETE FROM t WHERE k IN (SELECT k FROM changed)",
        "INSERT INTO t SELECT k, a, b, h FROM changed",
    ],
    "merge_history (scd2: plan, UPDATE … FROM, INSERT)": ["history"],
}

SETUP = """
CREATE TABLE t (k VARCHAR PRIMARY KEY, a VARCHAR, b BIGINT, h VARCHAR);
INSERT INTO t SELECT 'k' || i, 'value ' || i, i, md5('value ' || i) FROM range({rows}) r(i);
CREATE TEMP TABLE s AS
SELECT 'k' || i AS k, CASE WHEN i % {every} = 0 THEN 'changed ' || i ELSE 'value ' || i END AS a, i AS b,
       md5(CASE WHEN i % {every} = 0 THEN 'changed ' || i ELSE 'value ' || i END) AS h
FROM range({total}) r(i);
"""

HISTORY_SETUP = """
INSERT INTO std.address_history SELECT 'k' || i, 'value ' || i, NULL, 'bench', 'r0', now(), md5('value ' || i),
    DATE '2026-06-01', NULL, true FROM range({rows}) r(i);
CREATE TEMP TABLE s AS SELECT 'k' || i AS address_key,
    CASE WHEN i % {every} = 0 THEN 'changed ' || i ELSE 'value ' || i END AS community_code,
    NULL::VARCHAR AS grid_code, 'bench' AS _source, now() AS _extracted_at,
    md5(CASE WHEN i % {every} = 0 THEN 'changed ' || i ELSE 'value ' || i END) AS _row_hash
FROM range({total}) r(i);
"""


def child(strategy: str, rows: int, changed: float, new: float) -> None:
    """Run one strategy in this process; print JSON with seconds and the RSS before and after."""
    import datetime as dt

    import duckdb

    every = max(1, round(1 / changed)) if changed else rows + 1
    total = rows + int(rows * new)
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        statements = STRATEGIES[strategy]
        if statements == ["history"]:
            from standards.ddl import all_ddl
            from standards.entity import entity
            from warehouse.merge_history import merge_history

            con.execute(all_ddl())
            con.execute(HISTORY_SETUP.format(rows=rows, every=every, total=total))
        else:
            con.execute(SETUP.format(rows=rows, every=every, total=total))
        con.execute("CHECKPOINT")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        con.execute("BEGIN")
        if statements == ["history"]:
            merge_history(con, entity("address"), "s", "r1", dt.date(2026, 6, 2))
        else:
            for sql in statements:
                con.execute(sql)
        con.execute("COMMIT")
        seconds = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"seconds": seconds, "rss_before_mb": before / 1024, "rss_peak_mb": after / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--changed", type=float, default=0.1)
    ap.add_argument("--new", type=float, default=0.1)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.rows, args.changed, args.new)
        return
    print(f"target {args.rows:,} rows; incoming {args.rows + int(args.rows * args.new):,} rows "
          f"({args.changed:.0%} changed, {args.new:.0%} new); one fresh process per strategy\n")
    print(f"| {'strategy':<55} | {'seconds':>7} | {'peak RSS MB':>11} | {'RSS growth MB':>13} |")
    print(f"|{'-' * 57}|{'-' * 9}|{'-' * 13}|{'-' * 15}|")
    root = Path(__file__).resolve().parents[1]
    for name in STRATEGIES:
        out = subprocess.run([sys.executable, __file__, "--child", name, "--rows", str(args.rows), "--changed",
                              str(args.changed), "--new", str(args.new)], capture_output=True, text=True, cwd=root,
                             env={**os.environ, "PYTHONPATH": str(root)})
        if out.returncode != 0:
            print(f"| {name:<55} | failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
            continue
        r = json.loads(out.stdout)
        print(f"| {name:<55} | {r['seconds']:>7.2f} | {r['rss_peak_mb']:>11.0f} | "
              f"{r['rss_peak_mb'] - r['rss_before_mb']:>13.0f} |")


if __name__ == "__main__":
    main()
