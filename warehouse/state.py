"""Incremental state of each source (an SQL cursor, the last file seen) in ``meta.source_state``.

It is written by :func:`warehouse.load.load` inside the load's own transaction, so a crash never advances a cursor
past rows that were not loaded, and a re-run of the same night reads from the same place.

The state's ``columns`` are the schema-drift baseline (unsilo/schema_drift.py). It moves only on a load that put
rows into the warehouse (loaded or unchanged): a failed run writes no state at all, and a load that quarantined
every row keeps the baseline it had (none on a first attempt), so a steward's wrong first YAML does not block the
corrected one. The cursor moves on every successful load (quarantined rows are kept and replayable).
"""

from __future__ import annotations

import json

import duckdb

DDL = """CREATE TABLE IF NOT EXISTS meta.source_state (
    source VARCHAR PRIMARY KEY,
    state JSON NOT NULL,
    run_id VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)"""


def read_state(con: duckdb.DuckDBPyConnection, source: str) -> dict | None:
    """The source's saved state, or None when it has none yet (its first run, or after a full refresh). Runs no DDL:
    extract reads it through a read-only connection (warehouse/schema.py creates the table with the others)."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND schema_name = 'meta' AND table_name = 'source_state'").fetchone()[0]
    if not exists:
        return None
    row = con.execute("SELECT state FROM meta.source_state WHERE source = ?", [source]).fetchone()
    return json.loads(row[0]) if row else None


def write_state(con: duckdb.DuckDBPyConnection, source: str, state: dict, run_id: str, baseline: bool = True) -> None:
    """Upsert the source's state; call inside the load's transaction. An unchanged state is left as it was (with the
    run that wrote it), so re-running a night changes nothing. ``baseline`` false (the load put no row into the
    warehouse): the saved ``columns`` stay as they were, or absent."""
    con.execute(DDL)
    if not baseline:
        state = {k: v for k, v in state.items() if k != "columns"}
        kept = (read_state(con, source) or {}).get("columns")
        if kept is not None:
            state["columns"] = kept
    con.execute(
        """INSERT INTO meta.source_state VALUES (?, ?, ?, now())
        ON CONFLICT (source) DO UPDATE SET state = excluded.state, run_id = excluded.run_id,
        updated_at = excluded.updated_at
        WHERE CAST(meta.source_state.state AS VARCHAR) <> CAST(excluded.state AS VARCHAR)""",
        [source, json.dumps(state), run_id],
    )
