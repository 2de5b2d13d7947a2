"""unsilo's night from a PostgreSQL table (the sql_table connector) against moving the table into DuckDB and dlt.

    .venv/bin/python bench/sql_source.py --rows 1000000 --repeat 3
    .venv/bin/python bench/sql_source.py --rows 100000 1000000 --repeat 3      # peak RSS as the table grows 10x
    .venv/bin/python bench/sql_source.py --rows 2000 --repeat 1 --no-dlt      # the smoke CI runs

The script creates the database ``--database`` (default unsilo_bench_sql; dropped first if it exists) on the
PostgreSQL server ``--server``, fills the table employment_register with ``--rows`` deterministic rows
(bench/employment_table.py: the bench employment export's columns, typed, with a TIMESTAMP cursor updated_at),
runs unsilo's previous night into a base warehouse, then ends 1% of the registrations (their updated_at moves
into the next night) and drops the database at the end (``--keep`` keeps it).

Contenders, each a separate process (whole-process wall time and peak RSS), run alternately in rotating order:
  (a) copy->duckdb  the floor: ``COPY employment_register TO STDOUT (FORMAT csv)`` through psycopg into a named
                    pipe that DuckDB's read_csv reads at the same time (``--floor-via file|arrow``: land the CSV
                    on disk first, or parse it with Arrow); no run-time-downloaded DuckDB extension
  (b) dlt           dlt's sql_database source (pyarrow backend) merging into DuckDB on the primary key (no mapping,
                    no validation); dlt lives in its own venv, bench/.venv-dlt, created on first use
  (c) unsilo full   the night with --full-refresh: the whole table through the sql_table connector, normalized to
                    employment_spell, GX validation with the whole suite, quarantine, merge into a warehouse that
                    holds the previous night (1% of rows changed since)
  (d) unsilo incr   the same night reading from the saved cursor (minus the one-hour lookback): the changed 1%
The source YAML is bench/sources/bench_employment_sql.yaml (its URL comes from UNSILO_BENCH_SQL_URL).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import yaml
from psycopg import sql

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench.night_vs_peers import (  # noqa: E402
    KEY, NIGHT, PREV, PY, alternate, bench_arguments, dlt_python, fresh, measure, print_table,
)

FLOOR = "(a) copy->duckdb (floor)"
DLT = "(b) dlt sql_database merge"
FULL = "(c) unsilo full night"
INCR = "(d) unsilo incremental night"
SOURCE = yaml.safe_load((BENCH / "sources" / "bench_employment_sql.yaml").read_text(encoding="utf-8"))["connector"]


def conninfo(server: str, database: str) -> str:
    return psycopg.conninfo.make_conninfo(server, dbname=database)


def sqlalchemy_url(server: str, database: str) -> str:
    """The SQLAlchemy URL (psycopg 3 driver) of the database on the server."""
    p = psycopg.conninfo.conninfo_to_dict(server)
    auth = quote(p.get("user", "postgres")) + (f":{quote(p['password'])}" if p.get("password") else "")
    return f"postgresql+psycopg://{auth}@{p.get('host', '127.0.0.1')}:{p.get('port', 5432)}/{database}"


def recreate(server: str, database: str, drop_only: bool = False) -> None:
    with psycopg.connect(conninfo(server, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(sql.Identifier(database)))


def unsilo_env(home: Path, url: str) -> dict:
    return dict(os.environ, UNSILO_HOME=str(home), UNSILO_PSEUDONYM_KEY=KEY, GX_ANALYTICS_ENABLED="false",
                UNSILO_BENCH_SQL_URL=url)


def unsilo_night(home: Path, day: str, url: str, full_refresh: bool) -> tuple[float, float, str]:
    cmd = [PY, str(BENCH / "contenders" / "unsilo_sql_night.py"), str(home), day]
    return measure(cmd + (["--full-refresh"] if full_refresh else []), unsilo_env(home, url))


def prepare(server: str, database: str, rows: int, work: Path) -> dict:
    """The table of the previous night, a warehouse holding that night, then the table one day later."""
    url = sqlalchemy_url(server, database)
    recreate(server, database)
    # in a process of its own: a child's peak RSS starts from its parent's, so this process stays small
    table = [PY, str(BENCH / "employment_table.py")]
    measure(table + ["load", conninfo(server, database), "--rows", str(rows)])
    base = fresh(work / "base_home")
    base.mkdir(parents=True)
    _, _, out = unsilo_night(base, PREV, url, full_refresh=False)
    changed = int(measure(table + ["change", conninfo(server, database), "--rows", str(rows)])[2])
    print(f"  rows={rows:>10,} previous night: {out}; then {changed:,} registrations ended", flush=True)
    return {"url": url, "base": base, "changed": changed}


def unsilo_run(work: Path, prepared: dict, full_refresh: bool) -> tuple[float, float, str]:
    home = fresh(work / ("home_full" if full_refresh else "home_incr"))
    home.mkdir(parents=True)
    shutil.copytree(prepared["base"] / "warehouse", home / "warehouse")
    return unsilo_night(home, NIGHT, prepared["url"], full_refresh)


def run_size(rows: int, args: argparse.Namespace) -> list[dict]:
    work = args.work / f"rows_{rows}"
    work.mkdir(parents=True, exist_ok=True)
    prepared = prepare(args.server, args.database, rows, work)
    table, key = SOURCE["table"], SOURCE["key"]
    contenders = {
        FLOOR: lambda: measure([PY, str(BENCH / "contenders" / "pg_copy_duckdb.py"), conninfo(args.server, args.database),
                                table, str(fresh(work / "a.duckdb")), "--via", args.floor_via]),
        FULL: lambda: unsilo_run(work, prepared, full_refresh=True),
        INCR: lambda: unsilo_run(work, prepared, full_refresh=False),
    }
    if not args.no_dlt:
        py = dlt_python()
        contenders[DLT] = lambda: measure([py, str(BENCH / "contenders" / "dlt_sql_merge.py"), prepared["url"], table,
                                           key, str(fresh(work / "b.duckdb")), str(fresh(work / "dlt_pipelines"))])
    results = alternate(contenders, args.repeat, f"rows={rows:>10,}")
    floor = statistics.median(w for w, _, _ in results[FLOOR])
    out = []
    for name in sorted(results):
        med = statistics.median(w for w, _, _ in results[name])
        read = int(results[name][-1][2].split()[0])  # every contender prints the rows it read first
        out.append({"rows": rows, "contender": name, "median_s": med, "rows_per_s": read / med, "read": read,
                    "peak_rss_mb": max(r for _, r, _ in results[name]), "ratio_to_duckdb": med / floor,
                    "outputs": [o for _, _, o in results[name]], "changed": prepared["changed"]})
    return out


def summary(rows: list[dict]) -> list[str]:
    by = {(r["rows"], r["contender"]): r for r in rows}
    lines = []
    sizes = sorted({r["rows"] for r in rows})
    for n in sizes:
        full, incr = by[(n, FULL)], by[(n, INCR)]
        line = (f"rows {n:,}: full night {full['ratio_to_duckdb']:.2f}x the floor (target <= 5x)"
                f", peak RSS {full['peak_rss_mb']:.0f} MB (target < 1024)")
        if (n, DLT) in by:
            line += f", {full['median_s'] / by[(n, DLT)]['median_s']:.2f}x dlt's time (target < 1)"
        lines.append(line)
        lines.append(f"rows {n:,}: incremental night ({incr['read']:,} rows read, {full['changed']:,} changed) costs "
                     f"{incr['median_s'] / full['median_s']:.0%} of the full night (target <= 15%)")
    if len(sizes) > 1:
        small, large = by[(sizes[0], FULL)], by[(sizes[-1], FULL)]
        lines.append(f"peak RSS of the full night, {sizes[-1]:,} rows / {sizes[0]:,} rows: "
                     f"{large['peak_rss_mb'] / small['peak_rss_mb']:.2f}x")
    return lines


def main() -> None:
    p = bench_arguments(__doc__, work="unsilo-bench-sql")
    p.add_argument("--server", default="host=127.0.0.1 port=5432 user=postgres", help="libpq conninfo, no dbname")
    p.add_argument("--database", default="unsilo_bench_sql", help="created for the run (dropped first if it exists)")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--floor-via", choices=["fifo", "file", "arrow"], default="fifo")
    args = p.parse_args()
    rows = []
    try:
        for n in args.rows:
            rows += run_size(n, args)
    finally:
        if not args.keep:
            recreate(args.server, args.database, drop_only=True)
    print_table(rows)
    for line in summary(rows):
        print(line)


if __name__ == "__main__":
    main()
