"""Type-2 history for entities marked ``history: scd2``: every version kept, with ``valid_from``/``valid_to``.

A version holds for the nights in ``[valid_from, valid_to)``; ``valid_from`` is the start of the data interval whose
night loaded it, so re-running a night writes the same values (re-runs give identical tables). For each valid
incoming row of the night ``d`` the version covering ``d`` decides:

- same ``_row_hash``: *unchanged*, nothing written (no new version);
- the covering version started on ``d`` itself (the same night re-run with corrected data): replaced in place;
- an older covering version: it is closed at ``d`` and a new version starts at ``d`` (and ends where the closed
  one ended, so a backfilled night slots into the timeline instead of overwriting later versions);
- no covering version: a new version from ``d`` up to the key's next version, or open (current) if none.

Three set-based statements (two ``UPDATE … FROM``, one ``INSERT … SELECT``) over a plan joined on the key,
never ``MERGE INTO`` (bench/merge_memory.py measures why) and never a Python loop per row. Rows that vanish from
a source are not closed: sources deliver what changed in the interval, not a full extract.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from standards.ddl import LINEAGE_COLUMNS
from standards.entity import Entity
from standards.transform import quote_ident, quote_literal


def merge_history(con: duckdb.DuckDBPyConnection, entity: Entity, staged: str, run_id: str,
                  night: dt.date) -> tuple[int, int]:
    """Fold the rows of temp table ``staged`` into ``entity.history_table``; return ``(loaded, unchanged)``.

    Runs inside the caller's transaction.
    """
    hist = entity.history_table
    keys = [quote_ident(k) for k in entity.primary_key]
    fields = [quote_ident(f.name) for f in entity.fields]
    d = f"DATE {quote_literal(night.isoformat())}"
    on = lambda a, b: " AND ".join(f"{a}.{k} = {b}.{k}" for k in keys)  # noqa: E731
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE history_plan AS
        WITH nxt AS (
            SELECT {', '.join(keys)}, min(valid_from) AS next_from FROM {hist} h
            WHERE valid_from > {d} AND EXISTS (SELECT 1 FROM {staged} s WHERE {on('s', 'h')})
            GROUP BY ALL
        )
        SELECT s.*, c.valid_from AS covering_from, c.valid_to AS covering_to, n.next_from,
               CASE WHEN c._row_hash = s._row_hash THEN 'unchanged'
                    WHEN c.valid_from = {d} THEN 'replace'
                    WHEN c.valid_from IS NOT NULL THEN 'split'
                    ELSE 'insert' END AS action
        FROM {staged} s
        LEFT JOIN {hist} c ON {on('c', 's')} AND c.valid_from <= {d} AND (c.valid_to IS NULL OR c.valid_to > {d})
        LEFT JOIN nxt n ON {on('n', 's')}"""
    )
    counts = dict(con.execute("SELECT action, count(*) FROM history_plan GROUP BY action").fetchall())
    run = quote_literal(run_id)
    if counts.get("split"):
        con.execute(
            f"""UPDATE {hist} h SET valid_to = {d}, is_current = false FROM history_plan p
            WHERE p.action = 'split' AND {on('h', 'p')} AND h.valid_from = p.covering_from"""
        )
    if counts.get("replace"):
        sets = [f"{c} = p.{c}" for c in fields if c not in keys]
        sets += ["_source = p._source", f"_run_id = {run}", "_extracted_at = p._extracted_at", "_row_hash = p._row_hash"]
        con.execute(
            f"""UPDATE {hist} h SET {', '.join(sets)} FROM history_plan p
            WHERE p.action = 'replace' AND {on('h', 'p')} AND h.valid_from = {d}"""
        )
    if counts.get("split") or counts.get("insert"):
        lineage = [c for c in LINEAGE_COLUMNS]
        ends = "CASE WHEN action = 'split' THEN covering_to ELSE next_from END"
        con.execute(
            f"""INSERT INTO {hist} ({', '.join(fields + lineage)}, valid_from, valid_to, is_current)
            SELECT {', '.join(fields)}, _source, {run}, _extracted_at, _row_hash, {d}, {ends}, ({ends}) IS NULL
            FROM history_plan WHERE action IN ('split', 'insert')"""
        )
    loaded = counts.get("split", 0) + counts.get("insert", 0) + counts.get("replace", 0)
    return loaded, counts.get("unchanged", 0)
