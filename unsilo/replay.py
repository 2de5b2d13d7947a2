"""Replay a source's quarantined rows after a fix (its YAML, a code-list crosswalk, or the data), from landing.

For each interval that still has quarantined rows, the whole landed file is normalized again with today's YAML and
code lists (so ``_dup_rank`` and references see the same batch as the night did), then only the rows quarantined
for that interval go on through validate and load. Rows that now pass leave ``meta.quarantine`` and enter the
warehouse; rows that still fail stay, with their (possibly new) rules. Each interval gets a ledger row with status
``replay`` whose counts reconcile: replayed = loaded + quarantined + unchanged. The row-count check is off for a
replay (a handful of rows is not a night).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow.parquet as pq

from standards.entity import entity
from standards.redact import message_of
from standards.transform import quote_literal
from unsilo.extract import Landed, landing_path
from unsilo.interval import Interval
from unsilo.landing_retention import missing_landing
from unsilo.night import new_run_id
from unsilo.normalize import Normalized, normalize
from unsilo.settings import Settings
from unsilo.severity import stop_or_warn
from unsilo.validate import validate
from warehouse.load import LedgerEntry, load, write_ledger
from warehouse.schema import connect


class ReplayError(RuntimeError):
    pass


def replay(source: dict, settings: Settings) -> list[LedgerEntry]:
    sid = source["id"]
    ent = entity(source["entity"])
    quality = dict(source.get("quality") or {}, row_count=False)
    src = {**source, "quality": quality}
    with connect(settings.warehouse) as con:
        groups = con.execute(
            "SELECT interval_start, interval_end, count(*) FROM meta.quarantine WHERE source = ? "
            "GROUP BY ALL ORDER BY interval_start", [sid]).fetchall()
    entries = []
    gone = [(s, e) for s, e, _ in groups if not landing_path(settings, sid, Interval(s, e)).exists()]
    for start, end, _ in groups:
        if (start, end) in gone:  # the nights still landed are replayed; the others are named below
            continue
        interval = Interval(start, end)
        landing = landing_path(settings, sid, interval)
        now = dt.datetime.now(dt.timezone.utc)
        entry = LedgerEntry(run_id=new_run_id(sid, interval) + "__replay", source=sid, department=source["department"],
                            entity=ent.name, interval_start=start, interval_end=end, started_at=now,
                            finished_at=now, status="replay")
        try:
            landed = Landed(path=landing, rows=pq.ParquetFile(landing).metadata.num_rows,
                            columns=pq.read_schema(landing).names)
            normalized = normalize(src, landed, interval, settings)
            entry.extracted = _keep_quarantined(normalized, landing, sid, start, settings)
            validated = validate(src, Normalized(normalized.path, entry.extracted), interval, settings,
                                 run_id=entry.run_id)
            stop_or_warn(entry, validated)
            with connect(settings.warehouse) as con:
                load(con, ent, entry, landing, landed.columns, normalized.path, validated.path, validated.expectations)
        except Exception as exc:
            entry.status = "failed"
            entry.message = "replay: " + message_of(exc)
            entry.loaded = entry.quarantined = entry.unchanged = 0
            entry.finished_at = dt.datetime.now(dt.timezone.utc)
            with connect(settings.warehouse) as con:
                write_ledger(con, entry)
            raise
        entries.append(entry)
    if gone:
        with connect(settings.warehouse) as con:
            raise ReplayError(missing_landing(con, source, gone))
    return entries


def _keep_quarantined(normalized: Normalized, landing, sid: str, start: dt.date, settings: Settings) -> int:
    """Cut the normalized file down to the rows now in quarantine for this source and interval; return their count."""
    with connect(settings.warehouse) as con:
        rows = [r[0] for r in con.execute(
            "SELECT source_row FROM meta.quarantine WHERE source = ? AND interval_start = ?", [sid, start]).fetchall()]
    tmp = normalized.path.with_suffix(".replay.parquet")
    with duckdb.connect() as con:
        con.execute("CREATE TEMP TABLE quarantined AS SELECT unnest(?::VARCHAR[]) AS source_row", [rows])
        con.execute(
            f"""COPY (SELECT n.* FROM read_parquet({quote_literal(str(normalized.path))}) n
                SEMI JOIN (SELECT _ordinal FROM read_parquet({quote_literal(str(landing))})
                           WHERE _source_row IN (SELECT source_row FROM quarantined)) l ON l._ordinal = n._ordinal
                ORDER BY n._ordinal) TO {quote_literal(str(tmp))} (FORMAT parquet)""")
        kept = con.execute(f"SELECT count(*) FROM read_parquet({quote_literal(str(tmp))})").fetchone()[0]
    tmp.replace(normalized.path)
    if kept != len(rows):
        raise ReplayError(f"source {sid}: {len(rows)} rows in quarantine for {start} but {kept} found in the landing "
                          f"file; the landing file no longer matches the night (re-run it instead)")
    return kept
