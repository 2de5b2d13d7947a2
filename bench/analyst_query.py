"""Analysts' queries before and after the sandbox: a plain read-only connection against warehouse/analyst_read.py.

    .venv/bin/python bench/analyst_query.py                          # the snapshot of $UNSILO_HOME (unsilo demo)
    .venv/bin/python bench/analyst_query.py --snapshot PATH --repeat 15

For each query (a mart, a cross-department join on person_key, a GROUP BY over std.person) and each path, times
``open`` (connect; the sandbox also makes its private temp folder), ``query`` (the sandbox: gate + run; fetch all
rows) and ``close``, alternating the two paths and which goes first, ``--repeat`` times, and prints one table:
median seconds of the whole open-query-close (what one ``unsilo query`` costs past its imports), of the query
alone, and the ratio sandbox / plain. Both paths must return the same rows.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

QUERIES = {  # columns every snapshot keeps, whatever generalization the gate chose (a small night drops sex, place)
    "community_month": "SELECT * FROM marts.community_month ORDER BY community_code",
    "join on person_key": """SELECT p.birth_date, count(DISTINCT p.person_key) AS persons,
            count(DISTINCT e.person_key) AS employed, count(DISTINCT h.person_key) AS seen_by_a_clinic
        FROM std.person p
        LEFT JOIN std.employment_spell e USING (person_key)
        LEFT JOIN std.health_encounter h USING (person_key)
        GROUP BY ALL ORDER BY 1""",
    "GROUP BY std.person": """SELECT birth_date, count(*) AS persons FROM std.person GROUP BY ALL ORDER BY ALL""",
}


def plain(path: Path):
    """Today's path before the sandbox: warehouse.schema.connect(read_only=True) and con.execute."""
    from warehouse.schema import connect

    con = connect(path, read_only=True)
    return con, con.execute, con.close


def sandboxed(path: Path):
    from warehouse.analyst_read import analyst_read

    read = analyst_read(path)
    return read, read.query, read.close


PATHS = {"plain read-only": plain, "sandboxed": sandboxed}


def once(opener, path: Path, sql: str) -> tuple[float, float, list]:
    """Seconds of open + query + close, seconds of the query alone, and the rows."""
    t0 = time.perf_counter()
    _, run, close = opener(path)
    t1 = time.perf_counter()
    rows = run(sql).fetchall()
    t2 = time.perf_counter()
    close()
    return time.perf_counter() - t0, t2 - t1, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--snapshot", type=Path, help="a published snapshot; default: the current one of UNSILO_HOME")
    ap.add_argument("--repeat", type=int, default=11)
    args = ap.parse_args()
    if args.snapshot is None:
        from unsilo.settings import settings
        from warehouse.publish_snapshot import current_snapshot

        args.snapshot = current_snapshot(settings().snapshots)
    path = args.snapshot
    with PATHS["plain read-only"](path)[0] as con:
        persons = con.execute("SELECT count(*) FROM std.person").fetchall()[0][0]
    print(f"snapshot {path.resolve()} ({path.stat().st_size / 1e6:.1f} MB, {persons:,} persons), "
          f"median of {args.repeat}, alternating")
    print("| query | path | open+query+close s | query s | × plain |")
    print("|---|---|---:|---:|---:|")
    for name, sql in QUERIES.items():
        whole = {p: [] for p in PATHS}
        alone = {p: [] for p in PATHS}
        answers = {}
        for i in range(args.repeat):
            order = list(PATHS) if i % 2 == 0 else list(reversed(PATHS))
            for p in order:
                w, q, rows = once(PATHS[p], path, sql)
                whole[p].append(w)
                alone[p].append(q)
                answers[p] = rows
        if answers["sandboxed"] != answers["plain read-only"]:
            raise SystemExit(f"{name}: the sandboxed answer differs from the plain one")
        base = statistics.median(whole["plain read-only"])
        for p in PATHS:
            w, q = statistics.median(whole[p]), statistics.median(alone[p])
            print(f"| {name} | {p} | {w:.4f} | {q:.4f} | {w / base:.2f} |")


if __name__ == "__main__":
    main()
