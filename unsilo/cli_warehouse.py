"""Analysts' commands: ``unsilo query`` and ``unsilo tables``, on the published snapshot unless ``--working``.

Both read through warehouse/analyst_read.py: a sandboxed read-only connection (no files, no ATTACH, no settings)
and a gate that accepts read statements only. ``--working`` (the stewards' read of the working warehouse) needs
``UNSILO_ROLE=steward`` and is sandboxed the same way. A refusal is one line on stderr and exit code 3.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from unsilo.cli import STATE, UsageError, _jsonable, app, console, err

FORMATS = ("table", "csv", "json", "parquet")
WORKING_HELP = ("Read the working file instead of the published snapshot (stewards only: needs UNSILO_ROLE=steward; "
                "meta.quarantine, restricted).")
REFUSED_EXIT = 3


def _open(working: bool):
    from unsilo.settings import settings
    from warehouse.analyst_read import analyst_read, steward_read
    from warehouse.publish_snapshot import current_snapshot

    cfg = settings()
    return steward_read(cfg.warehouse) if working else analyst_read(current_snapshot(cfg.snapshots))


def _refusals(command):
    """One line ``refused: ...`` on stderr and exit code 3 when the sandbox refuses; no traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        import duckdb

        from warehouse.analyst_read import Refused

        try:
            return command(*args, **kwargs)
        except (Refused, duckdb.PermissionException) as exc:  # the latter: the locked connection, while streaming
            if STATE["debug"]:
                raise
            text = str(exc).strip().splitlines()[0]
            err.print(text if isinstance(exc, Refused) else f"refused: {text}", markup=False, highlight=False,
                      soft_wrap=True)
            raise typer.Exit(REFUSED_EXIT) from None
        except duckdb.InterruptException:
            from warehouse.analyst_read import TIMEOUT_DEFAULT, TIMEOUT_VARIABLE

            raise UsageError(f"the query was stopped after {TIMEOUT_VARIABLE} "
                             f"({os.environ.get(TIMEOUT_VARIABLE, TIMEOUT_DEFAULT)} s): narrow it, "
                             "or ask the deployment for a longer limit") from None

    return wrapper


def _execute(read, sql: str, working: bool, lazy: bool = False):
    """Run ``sql`` through the gate (``lazy``: a relation that streams); a table missing from the snapshot says why."""
    import duckdb

    try:
        return read.query(sql, lazy=lazy)
    except duckdb.CatalogException as exc:
        if working:
            raise
        first = str(exc).strip().splitlines()[0]
        raise UsageError(f"{first} (the analysts' snapshot leaves out meta.quarantine and the restricted schema; "
                         "stewards add --working, with UNSILO_ROLE=steward)") from None


@app.command()
@_refusals
def query(
    sql: str = typer.Argument(..., help="SQL text, or a path to a .sql file."),
    fmt: str = typer.Option("table", "--format", help="table, csv, json or parquet (parquet needs --output)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
    working: bool = typer.Option(False, "--working", help=WORKING_HELP),
):
    """Query the warehouse read-only: the analysts' published snapshot by default."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be {', '.join(FORMATS[:-1])} or {FORMATS[-1]}, not {fmt!r}")
    if fmt == "parquet" and output is None:
        raise UsageError("--format parquet writes a file: add --output PATH.parquet")
    path = Path(sql)
    if sql.endswith(".sql") and path.exists():
        sql = path.read_text(encoding="utf-8")
    with _open(working) as read:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            reader = _execute(read, sql, working, lazy=True).to_arrow_reader(100_000)
            with pq.ParquetWriter(str(output), reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)
            console.print(f"wrote {output}")
            return
        cur = _execute(read, sql, working)
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt == "json":
            out.write(json.dumps([dict(zip(names, map(_jsonable, r))) for r in rows], ensure_ascii=False, indent=1))
            out.write("\n")
        elif fmt == "csv":
            w = csv.writer(out)
            w.writerow(names)
            w.writerows(rows)
        else:
            from unsilo.cli_tables import cli_table

            cells = [["" if v is None else str(v) for v in r] for r in rows]
            if output:
                from rich.console import Console

                Console(file=out, width=200).print(cli_table(names, cells, width=200))
            else:
                console.print(cli_table(names, cells))
    finally:
        if output:
            out.close()


@app.command()
@_refusals
def tables(
    working: bool = typer.Option(False, "--working", help=WORKING_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array of {name, kind, rows, description}."),
):
    """List every table and view with its description (from the standard and the marts' SQL headers)."""
    from warehouse.descriptions import descriptions

    about = descriptions()
    with _open(working) as read:
        objects = read.query(
            """SELECT schema_name, table_name, 'table' FROM duckdb_tables() WHERE NOT temporary
            UNION ALL SELECT schema_name, view_name, 'view' FROM duckdb_views() WHERE NOT internal AND NOT temporary
            ORDER BY 1, 2"""
        ).fetchall()
        listed = []
        for schema, name, kind in objects:
            rows = read.query(f'SELECT count(*) FROM {schema}."{name}"').fetchall()[0][0]
            text = about.get(f"{schema}.{name}")
            listed.append({"name": f"{schema}.{name}", "kind": kind, "rows": rows,
                           "description": text.table if text else ""})
    if as_json:
        print(json.dumps(listed, ensure_ascii=False, indent=1))
        return
    from unsilo.cli_tables import cli_table

    console.print(cli_table(("name", "kind", "rows", "description"),
                            ((t["name"], t["kind"], str(t["rows"]), t["description"]) for t in listed),
                            title="unsilo tables" + (" (working file)" if working else " (published snapshot)")))
