"""``unsilo night`` with each source in its own process: one source that runs out of memory, crashes in native code
or recurses too deep fails alone; the others load and the marts rebuild.

The parent never imports Great Expectations, connectors' parsers or opens the warehouse while a child runs. Children
start from a forkserver (a clean process, started once per night, that has already imported the pipeline and Great
Expectations, so a child costs a fork, not an interpreter start and imports); fork from the parent itself would copy
DuckDB's and Arrow's threads. Children run one at a time, so the warehouse keeps one writer: a child's load, then
the parent's ledger row for a child that died, then the next child, and at the end the marts.

A child reports its ledger entry through a pipe; a source whose night is ``missing``, ``empty`` or ``suspect``
(unsilo/night_status.py) reports its ledger entry and its message, so the night shows the entry and counts the source
as not loaded (exit 1). A child that died without recording its run (SIGKILL by the
out-of-memory killer, SIGSEGV/SIGABRT in native code, an exit from native code) gets a ``failed`` ledger row written
by the parent naming the source and the signal or exit code, never a value.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import signal
from multiprocessing.connection import Connection

from unsilo.interval import Interval
from unsilo.settings import Settings
from warehouse.load import LedgerEntry

#: What each child needs, imported once in the forkserver rather than once per source.
PRELOAD = ["unsilo.night", "unsilo.catalog", "quality.validate_in_duckdb"]


def night_isolated(sources: list[dict], interval: Interval, settings: Settings) -> tuple[list[LedgerEntry], list[str]]:
    """Run each source for ``interval`` in its own child process, one after another; return the ledger entries of
    the sources that ran to the end and one line per source that failed (source id first)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    entries: list[LedgerEntry] = []
    failed: list[str] = []
    for source in sources:
        from unsilo.night import new_run_id

        run_id = new_run_id(source["id"], interval)
        started = dt.datetime.now(dt.timezone.utc)
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(send, source, interval, settings, run_id),
                            name=f"unsilo-night-{source['id']}")
        child.start()
        send.close()
        report = _receive(receive)
        child.join()
        receive.close()
        if report and report[0] == "entry":
            entries.append(_ledger_entry(report[1]))
        elif report and report[0] == "not_loaded":
            entries.append(_ledger_entry(report[1]))
            failed.append(f"{source['id']}: {report[2]}")
        elif report and report[0] == "failed":
            failed.append(f"{source['id']}: {report[1]}")
        else:
            message = died_message(source["id"], child.exitcode)
            _record_death(source, interval, settings, run_id, started, message)
            failed.append(f"{source['id']}: {message}")
    return entries, failed


def died_message(source_id: str, exitcode: int | None) -> str:
    """What the ledger says of a child that ended without recording its run: the signal or exit code."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        why = " (the system's out-of-memory killer sends it: see the kernel log)" if -exitcode == signal.SIGKILL else ""
        how = f"was killed by {name}{why}"
    else:
        how = f"exited with code {exitcode} before it recorded its run"
    return (f"night: the process of source {source_id} {how}; nothing of its run was loaded; the other sources "
            f"ran on. Run it alone with 'unsilo sync {source_id}' to see where it fails")


def _child(send: Connection, source: dict, interval: Interval, settings: Settings, run_id: str) -> None:
    from standards.redact import message_of
    from unsilo.night import run_source
    from unsilo.night_status import NotLoaded

    try:
        entry = run_source(source, interval, settings, run_id=run_id)
    except NotLoaded as exc:  # missing, empty or suspect: its ledger row is written; the night shows it, exits 1
        send.send(("not_loaded", exc.entry.as_dict(), message_of(exc)))
        send.close()
        raise SystemExit(1) from None
    except Exception as exc:  # the step recorded the failure in the ledger (unsilo/night.py); say so and end
        send.send(("failed", message_of(exc)))
        send.close()
        raise SystemExit(1) from None
    send.send(("entry", entry.as_dict()))
    send.close()


def _receive(receive: Connection) -> tuple | None:
    try:
        return receive.recv()
    except EOFError:  # the child ended without a word
        return None


def _ledger_entry(d: dict) -> LedgerEntry:
    d = dict(d)
    for k in ("interval_start", "interval_end"):
        d[k] = dt.date.fromisoformat(d[k])
    for k in ("started_at", "finished_at"):
        d[k] = dt.datetime.fromisoformat(d[k])
    return LedgerEntry(**d)


def _record_death(source: dict, interval: Interval, settings: Settings, run_id: str, started: dt.datetime,
                  message: str) -> None:
    """The child's ``failed`` row, unless it recorded one itself before it died. The parent writes it: no child
    runs now, so it is the only writer."""
    from standards.entity import entity
    from warehouse.load import write_ledger
    from warehouse.schema import connect

    with connect(settings.warehouse) as con:
        if con.execute("SELECT count(*) FROM meta.ledger WHERE run_id = ? OR starts_with(run_id, ?)",
                       [run_id, f"{run_id}__failed_"]).fetchone()[0]:
            return
        write_ledger(con, LedgerEntry(
            run_id=run_id, source=source["id"], department=source["department"], entity=entity(source["entity"]).name,
            interval_start=interval.start, interval_end=interval.end, started_at=started,
            finished_at=dt.datetime.now(dt.timezone.utc), status="failed", message=message))
