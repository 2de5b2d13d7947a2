"""``unsilo inspect PATH``: what a file or folder a department sent holds, read the way a sync would read it."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.table import Table

from standards.redact import message_of
from unsilo.cli import app, console, err


@app.command()
def inspect(
    path: str = typer.Argument(..., help="A CSV file, FHIR JSON/NDJSON file or folder, GTFS zip or folder, "
                                         "SQLite file or database URL."),
    kind: Optional[str] = typer.Option(None, "--kind", help="csv, fhir, gtfs or sql (default: detected)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
):
    """Detect kind, encoding and dialect; count rows read, rows that would pass on and rows rejected by reason."""
    from unsilo.inspect_path import InspectError, inspect_path

    try:
        report = inspect_path(path, kind)
    except InspectError as exc:
        err.print(f"error: {path}: {message_of(exc)}", highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    facts = Table(title=f"{path}", show_header=False)
    facts.add_column("fact")
    facts.add_column("value")
    for key in ("kind", "encoding", "delimiter", "header_lines", "rows_read", "rows_ok", "rows_rejected",
                "rows_undecodable"):
        if report.get(key) is not None:
            value = repr(report[key]) if key == "delimiter" else str(report[key])
            how = f" ({report['encoding_how']})" if key == "encoding" and report.get("encoding_how") else ""
            facts.add_row(key.replace("_", " "), value + how)
    facts.add_row("columns", ", ".join(report["columns"]))
    console.print(facts)
    if report["reasons"]:
        rejects = Table(title="Rows rejected")
        for col in ("reason", "rows", "first lines"):
            rejects.add_column(col)
        for reason, count in sorted(report["reasons"].items()):
            rejects.add_row(reason, str(count), ", ".join(report["first_rejects"][reason]))
        console.print(rejects)
    for note in report.get("notes") or []:
        console.print(f"note: {note}", highlight=False, markup=False)
