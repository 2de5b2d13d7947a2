"""Landing retention: landing Parquet holds raw IDs and names, so it is kept for a declared number of nights only.

Per source, the landed nights whose interval starts ``keep`` or more nights before the source's newest landed night
are removed at the end of a night (``unsilo.night.rebuild_marts``, which every night, sync, backfill and replay
ends with, and Airflow's ``build_marts``). ``keep`` is the source YAML's ``landing_keep_nights``, else
``UNSILO_LANDING_KEEP_NIGHTS``, else 7. Each source that lost files gets one ``meta.ledger`` row with status
``landing_removed``: the nights removed (its interval), how many files and nights, the setting; never a value.
A replay of quarantined rows needs its night's landing file: one removed this way is named with the setting.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from unsilo.settings import Settings, SettingsError
from warehouse.load import LedgerEntry, write_ledger

KEEP_VARIABLE = "UNSILO_LANDING_KEEP_NIGHTS"
SOURCE_KEY = "landing_keep_nights"
DEFAULT_KEEP = 7
STATUS = "landing_removed"
_SLUG = re.compile(r"^(\d{8})-(\d{8})\.parquet$")


@dataclass(frozen=True)
class LandedNight:
    start: dt.date
    end: dt.date
    path: Path


def keep_nights(source: dict) -> int:
    """How many nights of ``source``'s landing files are kept (at least 1)."""
    raw, where = source.get(SOURCE_KEY), f"{SOURCE_KEY} in {source.get('path', source['id'])}"
    if raw is None:
        raw, where = os.environ.get(KEEP_VARIABLE) or DEFAULT_KEEP, KEEP_VARIABLE
    try:
        keep = int(raw)
    except (TypeError, ValueError):
        keep = 0
    if keep < 1:
        raise SettingsError(f"{where} must be a whole number of nights, 1 or more")
    return keep


def landed_nights(settings: Settings, source_id: str) -> list[LandedNight]:
    """The source's landing files, oldest first (``landing/<source>/<YYYYMMDD>-<YYYYMMDD>.parquet``)."""
    out = []
    for path in (settings.landing / source_id).glob("*.parquet"):
        m = _SLUG.match(path.name)
        if m:
            start, end = (dt.datetime.strptime(g, "%Y%m%d").date() for g in m.groups())
            out.append(LandedNight(start, end, path))
    return sorted(out, key=lambda n: (n.start, n.end))


def expired(nights: list[LandedNight], keep: int) -> list[LandedNight]:
    """The nights that start ``keep`` or more nights before the newest one."""
    if not nights:
        return []
    cutoff = max(n.start for n in nights) - dt.timedelta(days=keep - 1)
    return [n for n in nights if n.start < cutoff]


def remove_old_landing(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    """Remove every source's expired landing files and note them in the ledger; return files removed per source."""
    from standards.entity import entity
    from unsilo.catalog import sources

    removed: dict[str, int] = {}
    for src in sources(settings):
        keep = keep_nights(src)
        old = expired(landed_nights(settings, src["id"]), keep)
        if not old:
            continue
        now = dt.datetime.now(dt.timezone.utc)
        first, last = old[0].start, max(n.end for n in old)
        days = len({n.start + dt.timedelta(days=d) for n in old for d in range((n.end - n.start).days)})
        entry = LedgerEntry(
            run_id=f"{src['id']}__{STATUS}__{uuid.uuid4().hex[:10]}", source=src["id"], department=src["department"],
            entity=entity(src["entity"]).name, interval_start=first, interval_end=last, started_at=now,
            finished_at=now, status=STATUS,
            message=f"landing retention: removed {_count(len(old), 'landing file')} ({_count(days, 'night')}, "
                    f"{first}..{last}) that start "
                    f"{keep} or more nights before the newest landed night ({_setting(src)} = {keep})")
        con.execute("BEGIN TRANSACTION")
        try:
            write_ledger(con, entry)
            for n in old:
                n.path.unlink(missing_ok=True)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        removed[src["id"]] = len(old)
    return removed


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _setting(source: dict) -> str:
    return f"{SOURCE_KEY} in sources/{source['id']}.yaml" if source.get(SOURCE_KEY) is not None else KEEP_VARIABLE


def missing_landing(con: duckdb.DuckDBPyConnection, source: dict, nights: list[tuple[dt.date, dt.date]]) -> str:
    """Why quarantined rows of ``nights`` cannot be replayed: their landing files are gone (by retention, or not)."""
    sid = source["id"]
    parts = []
    for start, end in nights:
        by_retention = con.execute(
            "SELECT count(*) FROM meta.ledger WHERE source = ? AND status = ? AND interval_start <= ? "
            "AND interval_end >= ?", [sid, STATUS, start, end]).fetchone()[0]
        why = (f"removed by landing retention (kept {keep_nights(source)} nights: {_setting(source)})"
               if by_retention else "gone")
        parts.append(f"the landing file of the night {start} is {why}")
    first = nights[0][0]
    return (f"source {sid}: {'; '.join(parts)}, so its quarantined rows cannot be replayed; re-run the night from the "
            f"department (unsilo sync {sid} --start {first}), or keep more nights with {_setting(source)}")
