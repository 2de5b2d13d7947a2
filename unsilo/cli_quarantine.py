"""``unsilo quarantine``: the steward's workflow: list, show, export the quarantined rows; replay them once fixed."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Optional

import typer

from unsilo.cli import UsageError, _jsonable, app, console

quarantine_app = typer.Typer(help="Read why rows were quarantined, export them, replay them after a fix.",
                             no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")

COLUMNS = ("quarantine_id", "source", "entity", "interval_start", "interval_end", "source_row", "rules", "checks",
           "record", "run_id", "quarantined_at")


def _select(source: Optional[str], rule: Optional[str], quarantine_id: Optional[str] = None) -> list[dict]:
    from unsilo.settings import settings
    from warehouse.schema import connect

    where, params = [], []
    if source:
        where.append("source = ?")
        params.append(source)
    if rule:
        where.append("list_contains(rules, ?)")
        params.append(rule)
    if quarantine_id:
        where.append("quarantine_id LIKE ?")  # a prefix is enough, like a git hash
        params.append(quarantine_id + "%")
    sql = (f"SELECT {', '.join(COLUMNS)} FROM meta.quarantine {'WHERE ' + ' AND '.join(where) if where else ''} "
           "ORDER BY source, interval_start, source_row")
    with connect(settings().warehouse, read_only=True) as con:
        rows = con.execute(sql, params).fetchall()
    out = []
    for r in rows:
        d = dict(zip(COLUMNS, (_jsonable(v) for v in r)))
        d["record"] = json.loads(d["record"]) if isinstance(d["record"], str) else d["record"]
        out.append(d)
    return out


@quarantine_app.command("list")
def list_(
    source: Optional[str] = typer.Option(None, help="Only this source."),
    rule: Optional[str] = typer.Option(None, help="Only rows that broke this rule (e.g. unknown-code)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array, one object per quarantined row."),
):
    """List quarantined rows: source, night, source row and the rules each broke."""
    rows = _select(source, rule)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    from unsilo.cli_tables import cli_table

    console.print(cli_table(
        ("id", "source", "interval_start", "source_row", "checks"),
        ((r["quarantine_id"][:12], r["source"], r["interval_start"], r["source_row"], ", ".join(r["checks"]))
         for r in rows), title=f"quarantine: {len(rows)} rows"))


@quarantine_app.command()
def show(quarantine_id: str = typer.Argument(..., help="A quarantine id (or its first characters, as `list` shows).")):
    """Show one quarantined row: every rule it broke and the source record as received."""
    rows = _select(None, None, quarantine_id)
    if not rows:
        raise UsageError(f"no quarantined row with id {quarantine_id!r}: see `unsilo quarantine list`")
    if len(rows) > 1:
        raise UsageError(f"id {quarantine_id!r} matches {len(rows)} rows: give more of it")
    print(json.dumps(rows[0], ensure_ascii=False, indent=1))


@quarantine_app.command()
def export(
    fmt: str = typer.Option("csv", "--format", help="csv (the only format so far)."),
    output: Optional[Path] = typer.Option(None, "--output", help="File to write (default: standard output)."),
    source: Optional[str] = typer.Option(None, help="Only this source."),
    rule: Optional[str] = typer.Option(None, help="Only rows that broke this rule."),
):
    """Export quarantined rows as CSV: one line per row, the record as JSON, the rules joined by `;`."""
    if fmt != "csv":
        raise UsageError(f"--format must be csv, not {fmt!r}")
    rows = _select(source, rule)
    f = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([";".join(r[c]) if c in ("rules", "checks") else
                        json.dumps(r[c], ensure_ascii=False) if c == "record" else r[c] for c in COLUMNS])
    finally:
        if output:
            f.close()
    if output:
        console.print(f"wrote {len(rows)} rows to {output}")


@quarantine_app.command()
def replay(source: str = typer.Argument(..., help="The source whose quarantined rows to replay.")):
    """Re-run a source's quarantined rows from landing after its YAML, a crosswalk or the data was fixed."""
    from unsilo.catalog import source as find_source
    from unsilo.cli import _print_entries
    from unsilo.night import rebuild_marts
    from unsilo.replay import replay as run_replay
    from unsilo.settings import settings

    cfg = settings()
    entries = run_replay(find_source(source, cfg), cfg)
    if not entries:
        console.print(f"nothing in quarantine for {source}")
        return
    rebuild_marts(cfg)
    _print_entries(entries)
