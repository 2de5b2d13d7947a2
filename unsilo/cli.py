"""The ``unsilo`` command line: demo, sync, night, ledger, dictionary (query, tables: cli_warehouse.py; sources:
cli_sources.py)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="unsilo: nightly integration of a city's departmental data into one DuckDB warehouse.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
console = Console()
err = Console(stderr=True)
STATE = {"debug": False}


class UsageError(RuntimeError):
    pass


@app.callback()
def main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors.")):
    STATE["debug"] = debug


def _date(value: str | None, what: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{what} {value!r} is not a date (use YYYY-MM-DD)") from None


def _interval(start: str | None, end: str | None, tz: str):
    from zoneinfo import ZoneInfo

    from unsilo.interval import Interval

    s, e = _date(start, "--start"), _date(end, "--end")
    if s is None:
        s = (dt.datetime.now(ZoneInfo(tz)) - dt.timedelta(days=1)).date()
    if e is None:
        e = s + dt.timedelta(days=1)
    try:
        return Interval(s, e)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _print_entries(entries) -> None:
    table = Table(title="Ledger of this run")
    for col in ("source", "interval", "extracted", "loaded", "quarantined", "unchanged", "status"):
        table.add_column(col, justify="right" if col in ("extracted", "loaded", "quarantined", "unchanged") else "left")
    for e in entries:
        status = e.status if e.status in ("success", "replay") else f"[red]{e.status}"
        table.add_row(e.source, f"{e.interval_start}..{e.interval_end}", str(e.extracted), str(e.loaded),
                      str(e.quarantined), str(e.unchanged), status)
    console.print(table)
    from unsilo.settings import settings
    from unsilo.validate import data_docs_path

    for e in entries:
        if data_docs_path(settings(), e.run_id).exists():
            console.print(f"Data Docs of {e.source}: {data_docs_path(settings(), e.run_id)}", highlight=False,
                          soft_wrap=True)


@app.command()
def sync(
    source: str = typer.Argument(..., help="A source id (e.g. housing_tenancies) or a path to a source YAML."),
    start: Optional[str] = typer.Option(None, help="First day of the interval (default: yesterday)."),
    end: Optional[str] = typer.Option(None, help="Day after the last day (default: start + 1 day)."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="An incremental source reads everything."),
):
    """Run one source for one data interval: extract, normalize, validate, load."""
    from unsilo.catalog import source as find_source
    from unsilo.night import rebuild_marts, run_source
    from unsilo.settings import settings

    cfg = settings()
    src = find_source(source, cfg)
    entry = run_source(src, _interval(start, end, cfg.timezone), cfg, full_refresh=full_refresh)
    rebuild_marts(cfg)
    _print_entries([entry])


@app.command()
def night(
    date: Optional[str] = typer.Option(None, "--date", help="The night to run (default: yesterday)."),
    department: Optional[str] = typer.Option(None, help="Only this department's sources."),
):
    """Run every source (of one department) for one night, each in its own process, without Airflow."""
    from unsilo.catalog import sources
    from unsilo.night import rebuild_marts
    from unsilo.night_isolated import night_isolated
    from unsilo.settings import settings

    cfg = settings()
    interval = _interval(date, None, cfg.timezone)
    # one failing source never stops the others, even one that crashes or is killed (unsilo/night_isolated.py)
    entries, failed = night_isolated(list(sources(cfg, department)), interval, cfg)
    rebuild_marts(cfg)
    _print_entries(entries)
    if failed:
        raise UsageError("sources failed: " + "; ".join(failed))


def _jsonable(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if hasattr(v, "__float__") and not isinstance(v, (int, float, bool)):
        return float(v)
    return v


@app.command()
def ledger(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array, one object per source and run."),
    source: Optional[str] = typer.Option(None, help="Only this source."),
):
    """Show the run ledger: extracted = loaded + quarantined + unchanged for every source and run."""
    where = "WHERE source = ?" if source else ""
    from unsilo.settings import settings
    from warehouse.schema import connect

    with connect(settings().warehouse, read_only=True) as con:
        cur = con.execute(f"SELECT * FROM meta.ledger {where} ORDER BY started_at, source", [source] if source else [])
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, (_jsonable(v) for v in r))) for r in cur.fetchall()]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    table = Table(title="unsilo ledger")
    cols = ("source", "interval_start", "extracted", "loaded", "quarantined", "unchanged", "status", "run_id")
    for c in cols:
        table.add_column(c)
    for r in rows:
        table.add_row(*(str(r[c]) for c in cols))
    console.print(table)


@app.command()
def dictionary(
    check: bool = typer.Option(False, "--check", help="Fail if docs/data-dictionary.md is out of date."),
):
    """Regenerate docs/data-dictionary.md from the standard and the marts' SQL headers."""
    from standards.data_dictionary import data_dictionary
    from unsilo.settings import REPO

    from warehouse.marts_dictionary import marts_dictionary

    path = REPO / "docs" / "data-dictionary.md"
    text = data_dictionary() + marts_dictionary()
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise UsageError(f"{path} is out of date: run `unsilo dictionary`")
        console.print(f"{path} is up to date")
        return
    path.write_text(text, encoding="utf-8")
    console.print(f"wrote {path}")


@app.command()
def demo(
    people: int = typer.Option(2000, help="Size of the synthetic population."),
    seed: int = typer.Option(20260601, help="Seed: the same seed gives the same departments."),
    use_airflow: bool = typer.Option(True, "--airflow/--no-airflow", help="Run the DAGs through real Airflow."),
    generate_only: bool = typer.Option(False, "--generate-only", help="Only generate the department systems."),
):
    """Generate the four department systems, run one night of all four through Airflow, print a summary."""
    from unsilo.demo_night import demo_night

    demo_night(people=people, seed=seed, use_airflow=use_airflow, generate_only=generate_only, console=console)


# Commands of other areas live in their own modules (unsilo/cli_<area>.py), each adding to ``app`` on import.
# Register one here with a single import line.
from unsilo import cli_warehouse  # noqa: E402,F401
from unsilo import cli_inspect  # noqa: E402,F401
from unsilo import cli_quarantine  # noqa: E402,F401
from unsilo import cli_backfill  # noqa: E402,F401
from unsilo import cli_sources  # noqa: E402,F401
from unsilo import cli_key  # noqa: E402,F401


def run() -> None:
    """Entry point: one clear line on error, a traceback only with --debug. Files it creates are owner-only."""
    from unsilo.settings import owner_only

    owner_only()
    try:
        code = app(standalone_mode=False)  # a command's typer.Exit(n) comes back as its return value here
        if isinstance(code, int) and code:
            sys.exit(code)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        sys.exit(code or 0)
    except typer.Abort:
        err.print("aborted")
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the CLI's one place that turns errors into one line
        if STATE["debug"]:
            raise
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        from rich.markup import escape

        from standards.redact import message_of

        err.print(f"[red]error:[/red] {escape(message_of(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
