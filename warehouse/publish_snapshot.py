"""Publish a read-only snapshot of the warehouse for analysts, swapped in atomically.

DuckDB allows one writing process or many reading processes per file, never both, so analysts never open the
working file. After each successful marts rebuild the writer builds a new file ``snapshots/unsilo-<UTC time>.duckdb``:
the ``std`` tables de-identified from the standard's disclosure classes (``warehouse/deidentify.py``), the marts
and ``meta`` tables copied (views materialized as tables), each with its description as a DuckDB comment. The
re-identification gate (``warehouse/reidentification_gate.py``) checks it and writes ``meta.disclosure``; a
snapshot below k is deleted unpublished and the error says which table failed. Otherwise the writer points
``snapshots/current.duckdb`` (a symlink) at it with ``os.replace``, which is atomic: a
reader opens either the old snapshot or the new one, and one that has the old one open keeps reading it (an
open file outlives its unlinking). The oldest snapshots are pruned, keeping ``keep``.

Left out: the ``restricted`` schema (person-level, authorised use only) and ``meta.quarantine`` (it holds
source records as received, raw ID numbers and names included). Because the snapshot is built table by table
into an empty file, no page of what was left out can linger in it. The file is written in DuckDB 1.4's storage
format (``STORAGE_VERSION``), so 1.4 LTS clients open it as well as 2.x ones.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from standards.transform import quote_ident, quote_literal
from warehouse.deidentify import SUPPRESSED, Plan, deidentify, describe_level, k_threshold
from warehouse.descriptions import descriptions
from warehouse.reidentification_gate import disclosure_table, reidentification_gate

#: Schemas analysts see; everything else (``restricted``) stays in the working file.
ANALYST_SCHEMAS = ("std", "marts", "meta")
#: Tables of the analyst schemas that stay in the working file.
LEFT_OUT = {("meta", "quarantine"), ("meta", "source_state")}  # raw IDs; connector cursors (stewards only)
POINTER = "current.duckdb"
#: The snapshot is written in the storage format of this DuckDB release, so 1.4 LTS clients open it too.
STORAGE_VERSION = "v1.4.0"
SUPPRESSED_DOC = ("True where local suppression blanked this record's quasi-identifiers (and, outside std.person, "
                  "its person link): its equivalence class held fewer than UNSILO_K_ANONYMITY persons.")
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


def publish_snapshot(con: duckdb.DuckDBPyConnection, directory: Path, keep: int | None = None,
                     k: int | None = None, share: float | None = None) -> Path:
    """Build a de-identified snapshot from the working file (``con``, the writer), check it against the
    re-identification gate and swap the pointer to it. Below k: :class:`ReidentificationRisk`, the partial file is
    removed and ``current.duckdb`` still points at the previous snapshot."""
    if keep is None:
        keep = int(os.environ.get("UNSILO_SNAPSHOTS_KEEP", "3"))
    k = k_threshold(k)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{PREFIX}{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%fZ}.duckdb"
    for stale in directory.glob(".partial-*"):  # left by a writer that died while publishing (one writer at a time)
        stale.unlink(missing_ok=True)
    partial = directory / f".partial-{name}"
    con.execute(f"ATTACH {quote_literal(str(partial))} AS snapshot (STORAGE_VERSION {quote_literal(STORAGE_VERSION)})")
    try:
        for schema in ANALYST_SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS snapshot.{schema}")
        plans = deidentify(con, k, share)
        for schema, table in snapshot_objects(con):
            if schema != "std":  # std tables come from deidentify; one not in the standard is not published
                con.execute(f"CREATE TABLE snapshot.{schema}.{quote_ident(table)} AS "
                            f"SELECT * FROM {schema}.{quote_ident(table)}")
        found = reidentification_gate(con, "snapshot", k)
        disclosure_table(con, found, k, plans)
        con.execute("CREATE TABLE snapshot.meta.snapshot AS SELECT now() AS published_at")
        _comment(con, plans)
        con.execute("CHECKPOINT snapshot")
    except BaseException:
        con.execute("DETACH snapshot")
        partial.unlink(missing_ok=True)
        raise
    con.execute("DETACH snapshot")
    final = directory / name
    os.replace(partial, final)
    link = directory / f".{POINTER}.new"
    link.unlink(missing_ok=True)
    os.symlink(name, link)
    os.replace(link, directory / POINTER)
    prune(directory, keep)
    return final


def _comment(con: duckdb.DuckDBPyConnection, plans: dict[str, Plan]) -> None:
    """Each table's and column's description as DuckDB comments; a generalized column says how."""
    about = descriptions()
    for (schema, table), in_snapshot in _snapshot_columns(con).items():
        text = about.get(f"{schema}.{table}")
        if not text:
            continue
        target = f"snapshot.{schema}.{quote_ident(table)}"
        con.execute(f"COMMENT ON TABLE {target} IS {quote_literal(text.table)}")
        plan = plans.get(f"{schema}.{table}")
        generalized = {f.name: plan.level(f) for f in plan.table.quasi} if plan else {}
        for column in in_snapshot:
            doc = SUPPRESSED_DOC if column == SUPPRESSED else text.columns.get(column)
            if doc and generalized.get(column, "keep") != "keep":
                field = next(f for f in plan.table.quasi if f.name == column)
                doc = f"{doc} In this snapshot: {describe_level(field, generalized[column])}."
            if doc:
                con.execute(f"COMMENT ON COLUMN {target}.{quote_ident(column)} IS {quote_literal(doc)}")


def _snapshot_columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in con.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE database_name = 'snapshot' "
        "ORDER BY schema_name, table_name, column_index"
    ).fetchall():
        out.setdefault((schema, table), []).append(column)
    return out


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
