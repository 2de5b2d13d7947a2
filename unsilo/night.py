"""The run of one source for one data interval: extract -> normalize -> validate -> load. No Airflow in here."""

from __future__ import annotations

import datetime as dt
import uuid

from standards.entity import entity
from unsilo.extract import extract
from unsilo.interval import Interval
from unsilo.normalize import normalize
from unsilo.schema_drift import schema_drift
from unsilo.settings import Settings, settings
from unsilo.severity import stop_or_warn
from unsilo.validate import validate
from warehouse.load import LedgerEntry, load, write_ledger
from warehouse.marts import build_marts
from warehouse.schema import connect
from warehouse.publish_snapshot import publish_snapshot


def new_run_id(source_id: str, interval: Interval) -> str:
    return f"{source_id}__{interval.start:%Y%m%d}__{uuid.uuid4().hex[:10]}"


def run_source(
    source: dict, interval: Interval, settings: Settings, run_id: str | None = None, full_refresh: bool = False
) -> LedgerEntry:
    """Run one source for one interval; the ledger records success or failure. Raises on failure.
    ``full_refresh``: an incremental source reads everything, not from its saved cursor."""
    ent = entity(source["entity"])
    now = dt.datetime.now(dt.timezone.utc)
    entry = LedgerEntry(
        run_id=run_id or new_run_id(source["id"], interval),
        source=source["id"],
        department=source["department"],
        entity=ent.name,
        interval_start=interval.start,
        interval_end=interval.end,
        started_at=now,
        finished_at=now,
    )
    try:
        landed = extract(source, interval, settings, full_refresh)
        entry.extracted = landed.rows
        if landed.rows == 0:
            with connect(settings.warehouse) as con:
                entry.finished_at = dt.datetime.now(dt.timezone.utc)
                write_ledger(con, entry)
            return entry
        schema_drift(source, landed.columns, landed.saved)
        normalized = normalize(source, landed, interval, settings)
        validated = validate(source, normalized, interval, settings, run_id=entry.run_id)
        stop_or_warn(entry, validated)
        with connect(settings.warehouse) as con:
            load(con, ent, entry, landed.path, landed.columns, normalized.path, validated.path, validated.expectations,
                 landed.state)
        return entry
    except Exception as exc:
        entry.status = "failed"
        entry.message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        entry.loaded = entry.quarantined = entry.unchanged = 0
        entry.finished_at = dt.datetime.now(dt.timezone.utc)
        with connect(settings.warehouse) as con:
            write_ledger(con, entry)
        raise


def rebuild_marts(settings: Settings) -> list[str]:
    """Rebuild the marts, then publish the analysts' read-only snapshot (warehouse/publish_snapshot.py)."""
    with connect(settings.warehouse) as con:
        built = build_marts(con)
        publish_snapshot(con, settings.snapshots)
        return built


def run_airflow_task(source_id: str, data_interval_start, data_interval_end, timezone: str) -> dict:
    """What an Airflow task runs: the source for the run's data interval, in the city's local days.

    Returns the ledger entry (small: counts and ids) for XCom.
    """
    from unsilo.catalog import source

    s = settings()
    start = data_interval_start.in_timezone(timezone).date()
    end = data_interval_end.in_timezone(timezone).date()
    entry = run_source(source(source_id, s), Interval(start, end), s)
    return entry.as_dict()

