"""Peak memory of the CSV and SQL connectors as the input grows 10x: it should stay flat (bounded by batch_rows).

Run: .venv/bin/python bench/connector_memory.py [--rows 100000] [--batch-rows 50000]
Each measurement reads the whole input in a fresh Python process and reports that process's peak RSS
(``ru_maxrss``), so one reading does not inherit another's heap. Prints a table; not a timed test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import datetime as dt, json, resource, sys, time
sys.path.insert(0, {repo!r})
from connectors import connector
kind, options = sys.argv[1], json.loads(sys.argv[2])
start = time.perf_counter()
rows = 0
for batch in connector("bench", kind, options).read(dt.date(2026, 6, 1), dt.date(2026, 6, 2)):
    rows += batch.num_rows
print(json.dumps({{"rows": rows, "seconds": time.perf_counter() - start,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="gb18030", newline="") as f:
        f.write("登记编号,身份证号,姓名,登记日期,单位名称,社区代码\r\n")
        for i in range(rows):
            f.write(f'R{i:09d},11010519491231002X,张三{i % 97},2026-05-{1 + i % 28:02d},"单位, 第{i % 1000}号",'
                    f"110101001{i % 1000:03d}\r\n")


def write_sqlite(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE units (unit_id TEXT PRIMARY KEY, community_code TEXT, floor_area REAL, "
                    "rooms INTEGER, tenure TEXT, updated_at TEXT)")
        con.executemany(
            "INSERT INTO units VALUES (?, ?, ?, ?, ?, ?)",
            ((f"U{i:09d}", f"110101001{i % 1000:03d}", 40.0 + i % 90, 1 + i % 5, "01", "2026-06-01 03:00:00")
             for i in range(rows)),
        )


def measure(kind: str, options: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD.format(repo=str(REPO)), kind, json.dumps(options)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the small input (the large one is 10x)")
    parser.add_argument("--batch-rows", type=int, default=50_000)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.rows, args.rows * 10):
            csv_path = Path(tmp) / f"drop_{n}.csv"
            write_csv(csv_path, n)
            r = measure("csv_drop", {"folder": tmp, "pattern": csv_path.name, "encoding": "gb18030",
                                     "batch_rows": args.batch_rows})
            results.append(("csv_drop", n, csv_path.stat().st_size, r))
            csv_path.unlink()
            db = Path(tmp) / f"housing_{n}.db"
            write_sqlite(db, n)
            r = measure("sql_table", {"url": f"sqlite:///{db}", "table": "units", "key": "unit_id",
                                      "cursor": "updated_at", "batch_rows": args.batch_rows})
            results.append(("sql_table", n, db.stat().st_size, r))
            db.unlink()
    print(f"batch_rows = {args.batch_rows}; {dt.datetime.now():%Y-%m-%d %H:%M}")
    print(f"{'connector':<10} {'rows':>10} {'input MiB':>10} {'rows read':>10} {'peak RSS MiB':>13} {'seconds':>8}")
    for kind, n, size, r in sorted(results):
        print(f"{kind:<10} {n:>10,} {size / 2**20:>10.1f} {r['rows']:>10,} {r['peak_mib']:>13.1f} {r['seconds']:>8.1f}")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t:.0f} s")
