"""The ``unsilo`` command line: demo, sync, night, ledger, dictionary (query, tables: cli_warehouse.py; sources:
cli_sources.py)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Optional

import typer
from rich.console import Console

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
    from unsilo.cli_tables import cli_table

    console.print(cli_table(
        ("source", "interval", "extracted", "loaded", "quarantined", "unchanged", "status"),
        ((e.source, f"{e.interval_start}..{e.interval_end}", str(e.extracted), str(e.loaded), str(e.quarantined),
          str(e.unchanged), e.status if e.status in ("success", "replay") else f"[red]{e.status}") for e in entries),
        title="Ledger of this run"))
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
    accept_suspect: bool = typer.Option(False, "--accept-suspect",
                                        help="Load a night checked by a steward although it looks suspect."),
):
    """Run one source for one data interval: extract, normalize, validate, load. A missing, empty or suspect night
    loads nothing and exits 1 (docs/stewards.md)."""
    from unsilo.catalog import source as find_source
    from unsilo.night import rebuild_marts, run_source
    from unsilo.settings import settings

    cfg = settings()
    src = find_source(source, cfg)
    entry = run_source(src, _interval(start, end, cfg.timezone), cfg, full_refresh=full_refresh,
                       accept_suspect=accept_suspect)
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
    # one failing source never stops the others, even one that crashes or is killed (unsilo/night_isolated.py);
    # a missing, empty or suspect source comes back with its ledger entry and as failed: the night exits 1
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
    from unsilo.cli_tables import cli_table

    cols = ("source", "interval_start", "extracted", "loaded", "quarantined", "unchanged", "status", "run_id")
    console.print(cli_table(cols, ((str(r[c]) for c in cols) for r in rows), title="unsilo ledger"))


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
    nights: int = typer.Option(3, min=1, max=30, help="Nights the departments deliver (from 2026-06-01); the "
                               "first runs, the others wait for `unsilo backfill` or `unsilo night`."),
):
    """Generate the four department systems, run the first night of all four through Airflow, print a summary."""
    from unsilo.demo_night import demo_night

    demo_night(people=people, seed=seed, use_airflow=use_airflow, generate_only=generate_only, console=console,
               nights=nights)


# Commands of other areas live in their own modules (unsilo/cli_<area>.py), each adding to ``app`` on import.
# Register one here with a single import line.
from unsilo import cli_warehouse  # noqa: E402,F401
from unsilo import cli_inspect  # noqa: E402,F401
from unsilo import cli_quarantine  # noqa: E402,F401
from unsilo import cli_backfill  # noqa: E402,F401
from unsilo import cli_sources  # noqa: E402,F401
from unsilo import cli_key  # noqa: E402,F401
from unsilo import cli_try  # noqa: E402,F401


def run() -> None:
    """Entry point: one clear line on error, a traceback only with --debug. Files it creates are owner-only.

    The process ends with ``os._exit`` once Python's own exit work is done (atexit handlers, logging, buffers): the
    native libraries' threads (Arrow's read-ahead, DuckDB's) are then never alive while the interpreter tears its
    modules down, which aborted 1 in 10 ``inspect`` runs ("terminate called without an active exception")."""
    import atexit
    import os

    try:
        _run()
        code = 0
    except SystemExit as exc:
        code = exc.code
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code or 0)


def _run() -> None:
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
        # a usage error of the command line (click's, or the copy typer carries): it names what was typed, not data
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        from rich.markup import escape

        from standards.redact import message_of

        err.print(f"[red]error:[/red] {escape(message_of(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
