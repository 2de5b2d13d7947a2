"""``unsilo try SOURCE.yaml``: a dry run of one source into a scratch warehouse (unsilo/try_source.py)."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from unsilo.cli import _interval, app, console

STATUS = {
    "would_load": "[green]would load[/green]",
    "all_quarantined": "[red]every row would be quarantined[/red]",
    "failed": "[red]would fail[/red]",
    "empty": "[yellow]no rows for this interval[/yellow]",
}


@app.command("try")
def try_(
    source: str = typer.Argument(..., help="A path to a source YAML (or a source id)."),
    start: Optional[str] = typer.Option(None, help="First day of the interval (default: yesterday)."),
    end: Optional[str] = typer.Option(None, help="Day after the last day (default: start + 1 day)."),
    keep: bool = typer.Option(False, "--keep", help="Keep the scratch folder (landing, staging, Data Docs)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
):
    """Dry run: extract, normalize and validate into a scratch warehouse; show the mapping, what would load and
    what would be quarantined. The warehouse, snapshot, landing files and drift baseline are left untouched.
    Exits 1 when the source would fail, quarantine every row or deliver nothing."""
    from unsilo.settings import settings
    from unsilo.try_source import try_source

    cfg = settings()
    report = try_source(source, _interval(start, end, cfg.timezone), cfg, keep=keep)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        _print(report)
    if report["status"] != "would_load":
        raise typer.Exit(1)


def _print(r: dict) -> None:
    out = lambda text: console.print(text, highlight=False, soft_wrap=True)  # noqa: E731
    iv = r["interval"]
    out(f"[bold]try {escape(r['source'])}[/bold] -> {r['entity']} ({r['history']}), {iv['start']}..{iv['end']}: "
        f"{STATUS[r['status']]}")
    if r["message"]:
        out(f"  {escape(r['failed_step'] + ': ' if r['failed_step'] else '')}{escape(r['message'])}")
    out(f"extracted {r['extracted']} rows; columns: {escape(', '.join(r['columns'])) or '-'}")
    if r["unmapped_columns"]:
        out(f"columns not mapped: {escape(', '.join(r['unmapped_columns']))}")
    table = Table(title="Mapping (source -> standard field)", title_justify="left")
    for col in ("field", "from", "type", "disclosure", "non-null", "null %"):
        table.add_column(col, justify="right" if col in ("non-null", "null %") else "left", overflow="fold")
    for m in r["mapping"]:
        origin = m["source"] or ("[red]not mapped[/red]" if m["required"] else "[dim]not mapped[/dim]")
        if m["source"]:
            origin = escape(m["source"]) + "".join(f"\n  {escape(s)}" for s in m["steps"])
        share = "" if m["null_share"] is None else f"{100 * m['null_share']:.1f}"
        table.add_row(m["field"] + (" *" if m["required"] else ""), origin, m["type"].split()[0], m["disclosure"],
                      "" if m["non_null"] is None else str(m["non_null"]), share)
    console.print(table)
    w, q = r["would_load"], r["quarantine"]
    against = f"against {w['against']}" if w["against"] else "no warehouse yet: every row is new"
    out(f"would load {w['rows']} rows: {w['new']} new, {w['changed']} changed, {w['unchanged']} unchanged "
        f"({escape(against)})")
    out(f"would quarantine {q['rows']} rows")
    if q["by_check"]:
        rules = Table(title="Quarantine by rule", title_justify="left")
        rules.add_column("rule:field", overflow="fold")
        rules.add_column("rows", justify="right")
        for check, n in q["by_check"].items():
            rules.add_row(escape(check), str(n))
        console.print(rules)
    for warning in r["warnings"]:
        out(f"[yellow]warn[/yellow] {escape(warning)}")
    if r["first_rejects"]:
        out("first rejects (row, where in the source, rules):")
        for x in r["first_rejects"]:
            out(f"  row {x['row']}  {escape(x['source_row'])}  {escape(', '.join(x['checks']))}")
    if r["scratch"]:
        out(f"scratch folder kept: {r['scratch']} (remove it when done: it holds the source's raw rows)")
