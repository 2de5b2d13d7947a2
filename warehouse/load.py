"""Stage 4: in one transaction, merge valid rows into ``std.<entity>``, quarantine the rest, write the ledger row.

Merge (``history: merge``): a row whose key and business-column hash already exist is *unchanged* (not rewritten, so its lineage keeps
the run that first loaded it); a new or changed row is *loaded* (insert, or update on key conflict). Entities with ``history: scd2`` keep every version instead
(:mod:`warehouse.merge_history`). Quarantine rows
are identified by source, interval and source row, so a re-run of the same night leaves them as they were.
extracted = loaded + quarantined + unchanged, always; the ledger refuses to record anything else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from standards.entity import Entity
from standards.rejects import RAW_KEPT_BYTES, max_field_bytes
from standards.transform import META_COLUMNS, quote_ident, quote_literal
from warehouse.changed_keys import changed_keys
from warehouse.merge_history import merge_history
from warehouse.state import write_state


@dataclass
class LedgerEntry:
    run_id: str
    source: str
    department: str
    entity: str
    interval_start: dt.date
    interval_end: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime
    extracted: int = 0
    loaded: int = 0
    quarantined: int = 0
    unchanged: int = 0
    status: str = "success"
    message: str | None = None

    def reconciles(self) -> bool:
        return self.extracted == self.loaded + self.quarantined + self.unchanged

    def as_dict(self) -> dict:
        d = asdict(self)
        for k in ("interval_start", "interval_end", "started_at", "finished_at"):
            d[k] = d[k].isoformat()
        return d


#: statuses whose rows reconcile: a run that loaded (or replayed), and a night that loaded nothing by design
#: (unsilo/night_status.py: ``missing``, ``empty``, ``suspect``); a ``failed`` row keeps what was extracted
RECONCILED = ("success", "replay", "missing", "empty", "suspect")


def write_ledger(con: duckdb.DuckDBPyConnection, entry: LedgerEntry) -> None:
    if entry.status in RECONCILED and not entry.reconciles():
        raise RuntimeError(
            f"ledger for {entry.source} does not reconcile: extracted {entry.extracted} != loaded {entry.loaded} "
            f"+ quarantined {entry.quarantined} + unchanged {entry.unchanged}"
        )
    d = asdict(entry)
    cols = ", ".join(d)
    con.execute(f"INSERT INTO meta.ledger ({cols}) VALUES ({', '.join('?' for _ in d)})", list(d.values()))


def load(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    entry: LedgerEntry,
    landing: Path,
    raw_columns: list[str],
    normalized: Path,
    verdicts: Path,
    expectations: list[dict],
    state: dict | None = None,
    memory_limit: str | None = None,
) -> LedgerEntry:
    """Merge, quarantine, ledger and the source's incremental ``state`` in one transaction; on any error nothing
    is changed (so a cursor never moves past rows that were not loaded).

    ``memory_limit``: DuckDB's limit while loading, so that joins against a large table spill and cached blocks
    are evicted rather than memory growing with the warehouse. An UPDATE of most of a large table keeps its undo
    data in memory, which cannot spill: if the limit is hit, the transaction is rolled back and run once more
    without it.
    """
    args = (con, entity, entry, landing, raw_columns, normalized, verdicts, expectations, state)
    if memory_limit:
        con.execute(f"SET memory_limit = {quote_literal(memory_limit)}")
        try:
            return _load(*args)
        except duckdb.OutOfMemoryException:
            con.execute("RESET memory_limit")
    return _load(*args)


def _kept(column: str) -> str:
    """The raw value quarantine keeps: a value over the field limit (standards/rejects.py, its row is quarantined as
    field-too-large) is cut to its first RAW_KEPT_BYTES characters with a note of its size, so quarantine stays
    bounded by the batch, not by the largest field a department sends."""
    c = f"l.{quote_ident(column)}"
    text = f"CAST({c} AS VARCHAR)"
    return (f"CASE WHEN strlen({text}) > {max_field_bytes()} THEN left({text}, {RAW_KEPT_BYTES}) || ' [cut: ' || "
            f"strlen({text}) || ' bytes in all]' ELSE {c} END")


def _load(con, entity, entry, landing, raw_columns, normalized, verdicts, expectations, state) -> LedgerEntry:
    fields = [f.name for f in entity.fields]
    cols = ", ".join(quote_ident(f) for f in fields)
    pk = [quote_ident(k) for k in entity.primary_key]
    on_pk = " AND ".join(f"t.{k} = s.{k}" for k in pk)
    updates = [f"{quote_ident(f)} = s.{quote_ident(f)}" for f in fields if f not in entity.primary_key]
    updates += ["_source = s._source", "_extracted_at = s._extracted_at", "_row_hash = s._row_hash"]
    raw = [c for c in raw_columns if c not in META_COLUMNS]
    record = "json_object(" + ", ".join(f"{quote_literal(c)}, {_kept(c)}" for c in raw) + ")"
    run = quote_literal(entry.run_id)
    src = quote_literal(entry.source)
    start = quote_literal(entry.interval_start.isoformat())
    end = quote_literal(entry.interval_end.isoformat())

    con.execute("BEGIN TRANSACTION")
    try:
        # a view, not a table: the rows to merge are read from the normalized Parquet where they are used, so the
        # load holds no copy of the night (a 1M-row night with every row changed peaked at 1.8 GB with a table of
        # all ~45 normalized columns)
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW staged AS
            SELECT {', '.join(f'n.{quote_ident(f)}' for f in fields)}, n._source, n._extracted_at, n._row_hash
            FROM read_parquet('{normalized}') n
            ANTI JOIN read_parquet('{verdicts}') v ON v._ordinal = n._ordinal"""
        )
        if entity.history == "scd2":
            entry.loaded, entry.unchanged = merge_history(con, entity, "staged", entry.run_id, entry.interval_start)
        else:
            staged = con.execute("SELECT count(*) FROM staged").fetchone()[0]
            # classify first on key and row hash alone (warehouse/changed_keys.py), then UPDATE … FROM the changed rows
            # and INSERT the new ones: joining the whole night, every column, against the whole table took 65 s and
            # 1.23 GB at 10M rows (1 % changed); less memory than one INSERT … ON CONFLICT DO UPDATE when many rows
            # change (bench/merge_memory.py: 484 vs 576 MB, every row of 1M changed)
            changed_keys(con, entity, "staged", staged)
            keys_on = " AND ".join(f"c.{k} = s.{k}" for k in pk)
            updated = con.execute(
                f"""UPDATE {entity.table} t SET {', '.join(updates)}, _run_id = {run}
                FROM (SELECT s.* FROM staged s SEMI JOIN (SELECT * FROM changed_keys WHERE existing) c ON {keys_on}) s
                WHERE {on_pk}"""
            ).fetchone()[0]
            inserted = con.execute(
                f"""INSERT INTO {entity.table} ({cols}, _source, _run_id, _extracted_at, _row_hash)
                SELECT {cols}, _source, {run}, _extracted_at, _row_hash FROM staged s
                SEMI JOIN (SELECT * FROM changed_keys WHERE NOT existing) c ON {keys_on}"""
            ).fetchone()[0]
            entry.loaded = updated + inserted
            entry.unchanged = staged - entry.loaded  # a staged row is changed, new or unchanged: no third join
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE incoming AS
            SELECT md5({src} || '|' || {start} || '|' || l._source_row) AS quarantine_id,
                   {src} AS source, {quote_literal(entity.name)} AS entity,
                   CAST({start} AS DATE) AS interval_start, CAST({end} AS DATE) AS interval_end,
                   l._source_row AS source_row, v.rules, v.checks,
                   CAST({record} AS JSON) AS record,
                   md5(array_to_string(v.checks, ',') || CAST({record} AS VARCHAR)) AS record_hash,
                   {run} AS run_id, now() AS quarantined_at
            FROM read_parquet('{verdicts}') v JOIN read_parquet('{landing}') l ON l._ordinal = v._ordinal"""
        )
        con.execute(
            f"""DELETE FROM meta.quarantine q WHERE q.source = {src} AND q.interval_start = CAST({start} AS DATE)
            AND NOT EXISTS (SELECT 1 FROM incoming i WHERE i.quarantine_id = q.quarantine_id
                            AND i.record_hash = q.record_hash)"""
        )
        con.execute(
            """INSERT INTO meta.quarantine SELECT * FROM incoming i
            WHERE NOT EXISTS (SELECT 1 FROM meta.quarantine q WHERE q.quarantine_id = i.quarantine_id)"""
        )
        entry.quarantined = con.execute("SELECT count(*) FROM incoming").fetchone()[0]
        for e in expectations:
            con.execute(
                "INSERT INTO meta.validation_result VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [entry.run_id, entry.source, entity.name, e["expectation"], e["column"], e["rule"], e["field"],
                 e["success"], e["unexpected_count"], e["element_count"]],
            )
        entry.finished_at = dt.datetime.now(dt.timezone.utc)
        write_ledger(con, entry)
        if state is not None:
            write_state(con, entry.source, state, entry.run_id, baseline=entry.loaded + entry.unchanged > 0)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return entry
