"""The run of one source for one data interval: extract -> normalize + validate -> load. No Airflow in here.

Each step reads the files the step before it left under the data root and hands on a small dict of paths and
counts (the "handoff": what Airflow carries in XCom between tasks, never data). ``run_source`` runs the three steps
in one process for the CLI and the demo; ``unsilo.night_tasks`` runs them as separate Airflow tasks. A step that
fails leaves a ``failed`` ledger row naming the step, then raises, and the warehouse is unchanged; a night that is
``missing``, ``empty`` or ``suspect`` (unsilo/night_status.py) is recorded so and raises too, loading nothing. Only
``load_step`` opens the warehouse read-write; extract reads it once read-only and hands the state on
(unsilo/stage_state.py), and the rows of the steps before the load wait for the next writer
(warehouse/pending_ledger.py). The ledger row names the step and what failed, never a value read from the source
(:func:`standards.redact.message_of`).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

from connectors.missing_drop import MissingDrop
from standards.entity import entity
from standards.redact import message_of, redacted
from unsilo.extract import Landed, extract
from unsilo.interval import Interval
from unsilo.night_status import NotLoaded, night_status
from unsilo.normalize import normalize
from unsilo.schema_drift import mapped_columns, schema_drift
from unsilo.settings import Settings
from unsilo.severity import stop_or_warn
from unsilo.validate import import_validator_in_background, validate
from warehouse.load import LedgerEntry, load, write_ledger
from warehouse.pending_ledger import pending_ledger
from warehouse.marts import build_marts
from warehouse.publish_snapshot import publish_snapshot
from warehouse.schema import connect


def new_run_id(source_id: str, interval: Interval) -> str:
    return f"{source_id}__{interval.start:%Y%m%d}__{uuid.uuid4().hex[:10]}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _interval(handoff: dict) -> Interval:
    return Interval(dt.date.fromisoformat(handoff["interval_start"]), dt.date.fromisoformat(handoff["interval_end"]))


def _entry(source: dict, handoff: dict) -> LedgerEntry:
    interval = _interval(handoff)
    started = dt.datetime.fromisoformat(handoff["started_at"])
    return LedgerEntry(
        run_id=handoff["run_id"], source=source["id"], department=source["department"],
        entity=entity(source["entity"]).name, interval_start=interval.start, interval_end=interval.end,
        started_at=started, finished_at=started, extracted=handoff.get("extracted", 0),
    )


def record_failure(source: dict, handoff: dict, settings: Settings, step: str, exc: BaseException) -> LedgerEntry:
    """A ``failed`` ledger row for one attempt of one step (a retry that succeeds adds its own row). Extract and
    validate never open the warehouse read-write: their row waits as a file for the next writer (the load, the
    marts, :func:`run_source`; warehouse/pending_ledger.py). A failed load, the writer, commits it at once."""
    entry = _entry(source, handoff)
    entry.run_id = failed_run_id(handoff["run_id"])  # the retry that succeeds keeps the run's own id
    entry.status, entry.message, entry.finished_at = "failed", f"{step}: {failure_message(source, exc)}", _now()
    pending_ledger(settings.warehouse, entry.as_dict())
    if step == "load":
        commit_ledger(settings)
    return entry


def failed_run_id(run_id: str) -> str:
    """The ledger id of one failed attempt of ``run_id``: each attempt has its own row."""
    return f"{run_id}__failed_{uuid.uuid4().hex[:6]}"


def commit_ledger(settings: Settings) -> None:
    """Open the warehouse as its writer, which commits the pending ledger rows (warehouse/schema.py)."""
    with connect(settings.warehouse):
        pass


def failure_message(source: dict, exc: BaseException) -> str:
    """The first line of ``exc`` as the ledger, logs and console may show it: a library's text (DuckDB's
    ``Could not convert string '...'``, pyarrow's parse errors quoting the row) scrubbed of anything that may be a
    value; the source's own column names are kept."""
    return message_of(exc, source_columns(source))


def source_columns(source: dict) -> set[str]:
    """The raw column names the source's YAML declares or maps: names a message may always show."""
    return mapped_columns(source) | {str(c) for c in source.get("columns") or []}


def extract_step(source: dict, interval: Interval, settings: Settings, run_id: str | None = None,
                 full_refresh: bool = False, accept_suspect: bool = False) -> dict:
    """Land the source's interval as Parquet and check its columns against the YAML (schema drift). A night that is
    ``missing``, ``empty`` or ``suspect`` (unsilo/night_status.py) gets its ledger row and raises :class:`NotLoaded`;
    ``accept_suspect``: a steward has checked a suspect night, load it."""
    handoff = {
        "source": source["id"], "run_id": run_id or new_run_id(source["id"], interval),
        "interval_start": interval.start.isoformat(), "interval_end": interval.end.isoformat(),
        "started_at": _now().isoformat(), "extracted": 0,
    }
    try:
        landed = extract(source, interval, settings, full_refresh)
        handoff.update(landing=str(landed.path), extracted=landed.rows, columns=landed.columns, state=landed.state,
                       warehouse_state=str(landed.warehouse_state))
        verdict = night_status(source, landed, interval, settings, accept_suspect)
        if landed.rows and verdict is None:
            schema_drift(source, landed.columns, landed.saved)
    except MissingDrop as exc:
        verdict = ("missing", failure_message(source, exc))
    except Exception as exc:
        record_failure(source, handoff, settings, "extract", exc)
        raise redacted(exc, source_columns(source)) from None
    if verdict is not None:
        record_not_loaded(source, handoff, settings, *verdict)
    return handoff


def record_not_loaded(source: dict, handoff: dict, settings: Settings, status: str, message: str) -> None:
    """The ledger row of a night that loads nothing (extracted = loaded = quarantined = unchanged = 0: a suspect
    night's rows stay in landing, named in the message), then :class:`NotLoaded`. Extract opens no warehouse
    read-write: the row waits for the next writer (warehouse/pending_ledger.py; :func:`run_source` commits it)."""
    entry = _entry(source, {**handoff, "extracted": 0})
    entry.status, entry.message, entry.finished_at = status, message, _now()
    pending_ledger(settings.warehouse, entry.as_dict())
    raise NotLoaded(status, message, entry)


def expectations_path(verdicts: Path) -> Path:
    return verdicts.with_name(verdicts.name.replace(".verdicts.parquet", ".expectations.json"))


def _warehouse_state(handoff: dict) -> Path | None:
    return Path(handoff["warehouse_state"]) if handoff.get("warehouse_state") else None


def transform_step(source: dict, handoff: dict, settings: Settings) -> dict:
    """Normalize and validate the landed rows; a broken rule of severity ``fail`` stops the source here."""
    if handoff["extracted"] == 0:
        return dict(handoff)
    interval = _interval(handoff)
    # overlaps normalize, which runs in DuckDB with the GIL released and imports nothing meanwhile (so the two
    # threads never wait on each other's module locks)
    import_validator_in_background()
    try:
        landed = Landed(path=Path(handoff["landing"]), rows=handoff["extracted"], columns=handoff["columns"])
        normalized = normalize(source, landed, interval, settings)
        validated = validate(source, normalized, interval, settings, run_id=handoff["run_id"],
                             warehouse_state=_warehouse_state(handoff))
        stop_or_warn(_entry(source, handoff), validated)
        expectations = expectations_path(validated.path)
        expectations.write_text(json.dumps(validated.expectations), encoding="utf-8")
    except Exception as exc:
        record_failure(source, handoff, settings, "normalize_validate", exc)
        raise redacted(exc, source_columns(source)) from None
    return {
        **handoff, "normalized": str(normalized.path), "verdicts": str(validated.path),
        "failed_rows": validated.failed_rows, "expectations": str(expectations), "warnings": validated.warnings,
        "docs": str(validated.docs) if validated.docs else None,
    }


def load_step(source: dict, handoff: dict, settings: Settings) -> LedgerEntry:
    """Merge into the warehouse in one transaction (the only step that writes it); return the ledger entry."""
    entry = _entry(source, handoff)
    if handoff.get("warnings"):
        entry.message = "warn: " + "; ".join(handoff["warnings"])
    try:
        with connect(settings.warehouse) as con:
            if entry.extracted == 0:
                entry.finished_at = _now()
                write_ledger(con, entry)
            else:
                expectations = json.loads(Path(handoff["expectations"]).read_text(encoding="utf-8"))
                load(con, entity(source["entity"]), entry, Path(handoff["landing"]), handoff["columns"],
                     Path(handoff["normalized"]), Path(handoff["verdicts"]), expectations, handoff.get("state"),
                     memory_limit=settings.duckdb_memory)
    except Exception as exc:
        record_failure(source, handoff, settings, "load", exc)
        raise redacted(exc, source_columns(source)) from None
    return entry


def run_source(
    source: dict, interval: Interval, settings: Settings, run_id: str | None = None, full_refresh: bool = False,
    accept_suspect: bool = False,
) -> LedgerEntry:
    """Run one source for one interval in this process; the ledger records success or failure. Raises on failure
    and on a night that loads nothing (:class:`unsilo.night_status.NotLoaded`). ``full_refresh``: an incremental
    source reads everything, not from its saved cursor; ``accept_suspect``: load a suspect night as it is."""
    # the whole night runs in this process: import Great Expectations while extract runs too, not only normalize
    # (extract leaves a core idle while it writes Parquet; an Airflow extract task never validates, so only here)
    import_validator_in_background()
    try:
        handoff = extract_step(source, interval, settings, run_id, full_refresh, accept_suspect)
        handoff = transform_step(source, handoff, settings)
    except Exception:  # failed, missing, empty or suspect
        commit_ledger(settings)  # this process is the night's writer: the step's ledger row goes in now
        raise
    return load_step(source, handoff, settings)


def rebuild_marts(settings: Settings) -> list[str]:
    """Remove landing files past their retention (unsilo/landing_retention.py), rebuild the marts, then publish the
    analysts' read-only snapshot (warehouse/publish_snapshot.py)."""
    from unsilo.landing_retention import remove_old_landing

    with connect(settings.warehouse) as con:
        remove_old_landing(con, settings)
        built = build_marts(con)
        publish_snapshot(con, settings.snapshots)
        return built
