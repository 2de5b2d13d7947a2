"""The run of one source split into three steps that can run apart (one Airflow task each), with no Airflow in here.

``extract_task`` -> ``transform_task`` (normalize + validate) -> ``load_task``. Each step reads the files the step
before it left under the data root and returns a small dict of paths and counts (what Airflow puts in XCom, never
data). A step that fails writes a ``failed`` ledger row for its source and interval, naming the step, then raises,
so a steward reads in ``meta.ledger`` which night of which source failed where. ``unsilo.night.run_source`` runs
the same stages in one process for the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from standards.entity import entity
from unsilo.catalog import source as catalog_source
from unsilo.extract import Landed, extract
from unsilo.interval import Interval
from unsilo.night import new_run_id
from unsilo.normalize import normalize
from unsilo.settings import Settings
from unsilo.validate import validate
from warehouse.load import LedgerEntry, load, write_ledger
from warehouse.schema import connect


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _interval(handoff: dict) -> Interval:
    return Interval(dt.date.fromisoformat(handoff["interval_start"]), dt.date.fromisoformat(handoff["interval_end"]))


def record_failure(source: dict, interval: Interval, settings: Settings, step: str, exc: BaseException,
                   started_at: dt.datetime | None = None, extracted: int = 0) -> LedgerEntry:
    """A ``failed`` ledger row for one attempt of one step (a retry that succeeds adds its own row)."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    entry = LedgerEntry(
        run_id=new_run_id(source["id"], interval),
        source=source["id"],
        department=source["department"],
        entity=entity(source["entity"]).name,
        interval_start=interval.start,
        interval_end=interval.end,
        started_at=started_at or _now(),
        finished_at=_now(),
        extracted=extracted,
        status="failed",
        message=f"{step}: {first}",
    )
    with connect(settings.warehouse) as con:
        write_ledger(con, entry)
    return entry


def extract_task(source_id: str, interval: Interval, settings: Settings) -> dict:
    """Land the source's interval as Parquet; return the handoff for the next step."""
    started = _now()
    src = catalog_source(source_id, settings)
    try:
        landed = extract(src, interval, settings)
    except Exception as exc:
        record_failure(src, interval, settings, "extract", exc, started)
        raise
    return {
        "source": source_id,
        "interval_start": interval.start.isoformat(),
        "interval_end": interval.end.isoformat(),
        "started_at": started.isoformat(),
        "landing": str(landed.path),
        "extracted": landed.rows,
        "columns": landed.columns,
    }


def expectations_path(verdicts: Path) -> Path:
    return verdicts.with_name(verdicts.name.replace(".verdicts.parquet", ".expectations.json"))


def transform_task(handoff: dict, settings: Settings) -> dict:
    """Normalize and validate the landed file; add the normalized and verdict files to the handoff."""
    src = catalog_source(handoff["source"], settings)
    interval = _interval(handoff)
    if handoff["extracted"] == 0:
        return dict(handoff)
    try:
        landed = Landed(path=Path(handoff["landing"]), rows=handoff["extracted"], columns=handoff["columns"])
        normalized = normalize(src, landed, interval, settings)
        validated = validate(src, normalized, interval, settings)
        expectations = expectations_path(validated.path)
        expectations.write_text(json.dumps(validated.expectations), encoding="utf-8")
    except Exception as exc:
        record_failure(src, interval, settings, "normalize_validate", exc,
                       dt.datetime.fromisoformat(handoff["started_at"]), handoff["extracted"])
        raise
    return {
        **handoff,
        "normalized": str(normalized.path),
        "normalized_rows": normalized.rows,
        "verdicts": str(validated.path),
        "failed_rows": validated.failed_rows,
        "expectations": str(expectations),
    }


def load_task(handoff: dict, settings: Settings) -> dict:
    """Merge into the warehouse in one transaction (the only step that writes it); return the ledger entry."""
    src = catalog_source(handoff["source"], settings)
    interval = _interval(handoff)
    started = dt.datetime.fromisoformat(handoff["started_at"])
    entry = LedgerEntry(
        run_id=new_run_id(src["id"], interval),
        source=src["id"],
        department=src["department"],
        entity=entity(src["entity"]).name,
        interval_start=interval.start,
        interval_end=interval.end,
        started_at=started,
        finished_at=started,
        extracted=handoff["extracted"],
    )
    try:
        with connect(settings.warehouse) as con:
            if entry.extracted == 0:
                entry.finished_at = _now()
                write_ledger(con, entry)
            else:
                expectations = json.loads(Path(handoff["expectations"]).read_text(encoding="utf-8"))
                load(con, entity(src["entity"]), entry, Path(handoff["landing"]), handoff["columns"],
                     Path(handoff["normalized"]),
                     Path(handoff["verdicts"]), expectations)
    except Exception as exc:
        record_failure(src, interval, settings, "load", exc, started, handoff["extracted"])
        raise
    return entry.as_dict()
