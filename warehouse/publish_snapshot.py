"""Publish a read-only snapshot of the warehouse for analysts, swapped in atomically.

DuckDB allows one writing process or many reading processes per file, never both, so analysts never open the
working file. After each successful marts rebuild the writer copies the analyst-facing tables into a new file
``snapshots/unsilo-<UTC time>.duckdb`` (views materialized as tables, each with its description as a DuckDB
comment), then points ``snapshots/current.duckdb`` (a symlink) at it with ``os.replace``, which is atomic: a
reader opens either the old snapshot or the new one, and one that has the old one open keeps reading it (an
open file outlives its unlinking). The oldest snapshots are pruned, keeping ``keep``.

Left out: the ``restricted`` schema (person-level, authorised use only) and ``meta.quarantine`` (it holds
source records as received, raw ID numbers and names included). Because the snapshot is built table by table
into an empty file, no page of what was left out can linger in it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from standards.transform import quote_ident, quote_literal
from warehouse.descriptions import descriptions

#: Schemas analysts see; everything else (``restricted``) stays in the working file.
ANALYST_SCHEMAS = ("std", "marts", "meta")
#: Tables of the analyst schemas that stay in the working file.
LEFT_OUT = {("meta", "quarantine"), ("meta", "source_state")}  # raw IDs; connector cursors (stewards only)
POINTER = "current.duckdb"
PREFIX = "unsilo-"


def snapshot_objects(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """The (schema, name) of every analyst-facing table and view of the working file."""
    rows = con.execute(
        f"""SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()
        AND NOT temporary AND schema_name IN {ANALYST_SCHEMAS}
        UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = current_database()
        AND NOT temporary AND NOT internal AND schema_name IN {ANALYST_SCHEMAS} ORDER BY 1, 2"""
    ).fetchall()
    return [r for r in rows if r not in LEFT_OUT]


def publish_snapshot(con: duckdb.DuckDBPyConnection, directory: Path, keep: int | None = None) -> Path:
    """Copy the analyst-facing tables of ``con`` (the writer) into a new snapshot and swap the pointer to it."""
    if keep is None:
        keep = int(os.environ.get("UNSILO_SNAPSHOTS_KEEP", "3"))
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{PREFIX}{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%fZ}.duckdb"
    for stale in directory.glob(".partial-*"):  # left by a writer that died while publishing (one writer at a time)
        stale.unlink(missing_ok=True)
    partial = directory / f".partial-{name}"
    about = descriptions()
    con.execute(f"ATTACH {quote_literal(str(partial))} AS snapshot")
    try:
        for schema in ANALYST_SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS snapshot.{schema}")
        for schema, table in snapshot_objects(con):
            target = f"snapshot.{schema}.{quote_ident(table)}"
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM {schema}.{quote_ident(table)}")
            text = about.get(f"{schema}.{table}")
            if text:
                con.execute(f"COMMENT ON TABLE {target} IS {quote_literal(text.table)}")
                for column, doc in text.columns.items():
                    con.execute(f"COMMENT ON COLUMN {target}.{quote_ident(column)} IS {quote_literal(doc)}")
        con.execute("CREATE TABLE snapshot.meta.snapshot AS SELECT now() AS published_at")
        con.execute(f"COMMENT ON TABLE snapshot.meta.snapshot IS {quote_literal(about['meta.snapshot'].table)}")
        con.execute("CHECKPOINT snapshot")
    finally:
        con.execute("DETACH snapshot")
    final = directory / name
    os.replace(partial, final)
    link = directory / f".{POINTER}.new"
    link.unlink(missing_ok=True)
    os.symlink(name, link)
    os.replace(link, directory / POINTER)
    prune(directory, keep)
    return final


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` snapshots (never the current one); readers holding one keep reading."""
    current = (directory / POINTER).resolve()
    old = sorted(directory.glob(f"{PREFIX}*.duckdb"))[:-max(keep, 1)]
    removed = [p for p in old if p.resolve() != current]
    for p in removed:
        p.unlink(missing_ok=True)
    return removed


def current_snapshot(directory: Path) -> Path:
    """The published snapshot analysts should open, or an error that says how to get one."""
    path = directory / POINTER
    if not path.exists():
        raise FileNotFoundError(f"no published snapshot at {path}: run a night first (unsilo demo, or unsilo night), "
                                "or query the working file with --working")
    return path
