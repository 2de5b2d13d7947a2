"""Incremental state of each source (an SQL cursor, the last file seen) in ``meta.source_state``.

It is written by :func:`warehouse.load.load` inside the load's own transaction, so a crash never advances a cursor
past rows that were not loaded, and a re-run of the same night reads from the same place.
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


def write_state(con: duckdb.DuckDBPyConnection, source: str, state: dict, run_id: str) -> None:
    """Upsert the source's state; call inside the load's transaction. An unchanged state is left as it was (with the
    run that wrote it), so re-running a night changes nothing."""
    con.execute(DDL)
    con.execute(
        """INSERT INTO meta.source_state VALUES (?, ?, ?, now())
        ON CONFLICT (source) DO UPDATE SET state = excluded.state, run_id = excluded.run_id,
        updated_at = excluded.updated_at
        WHERE CAST(meta.source_state.state AS VARCHAR) <> CAST(excluded.state AS VARCHAR)""",
        [source, json.dumps(state), run_id],
    )
