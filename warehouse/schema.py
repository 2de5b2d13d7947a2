"""Create the warehouse: ``std`` tables from the standard, ``meta`` tables for the ledger, quarantine and results."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from standards.ddl import all_ddl
from warehouse.adopt_history import adopt_history
from warehouse.pending_ledger import commit_pending
from warehouse.state import DDL as SOURCE_STATE_DDL

META_DDL = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.ledger (
    run_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    department VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    interval_start DATE NOT NULL,
    interval_end DATE NOT NULL,
    started_at TIMESTAMP WITH TIME ZONE NOT NULL,
    finished_at TIMESTAMP WITH TIME ZONE NOT NULL,
    extracted BIGINT NOT NULL,
    loaded BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    status VARCHAR NOT NULL,
    message VARCHAR
);
CREATE TABLE IF NOT EXISTS meta.quarantine (
    quarantine_id VARCHAR NOT NULL,  -- unique by the load's NOT EXISTS; no index: an ART index cannot spill
    source VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    interval_start DATE NOT NULL,
    interval_end DATE NOT NULL,
    source_row VARCHAR NOT NULL,
    rules VARCHAR[] NOT NULL,
    checks VARCHAR[] NOT NULL,
    record JSON NOT NULL,
    record_hash VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    quarantined_at TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE TABLE IF NOT EXISTS meta.validation_result (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    expectation VARCHAR NOT NULL,
    "column" VARCHAR,
    rule VARCHAR,
    field VARCHAR,
    success BOOLEAN NOT NULL,
    unexpected_count BIGINT NOT NULL,
    element_count BIGINT NOT NULL
);
"""


def create(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(all_ddl())
    con.execute(META_DDL)
    con.execute(SOURCE_STATE_DDL)
    adopt_history(con)


def _open(path: Path, read_only: bool, wait_seconds: float, config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """DuckDB allows one writing process per file: while another holds the lock, wait with backoff."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config or {})
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def connect(path: Path, read_only: bool = False, wait_seconds: float | None = None,
            config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file (creating it and its schemas when writing).

    Only one process writes the file at a time: the load step and the marts' rebuild (Airflow runs them in a one-slot
    pool); extract and validate read it read-only (unsilo/stage_state.py), outside the pool. A writer
    that finds the file locked waits up to ``UNSILO_LOCK_WAIT`` seconds (default 600) rather than failing.
    ``config`` is DuckDB's (warehouse/analyst_read.py opens analysts' reads sandboxed through it).
    """
    if wait_seconds is None:
        wait_seconds = float(os.environ.get("UNSILO_LOCK_WAIT", "600"))
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"no warehouse at {path}: run a night first (unsilo demo, or unsilo sync SOURCE)")
        return _open(path, True, wait_seconds, config)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, False, wait_seconds, config)
    create(con)
    commit_pending(con, path)  # failed rows of extract and validate, which never write (warehouse/pending_ledger.py)
    return con
