"""No silent success: a night that delivered nothing, or much less than it should, ends as its own ledger status.

``missing``: a drop of the interval is not there (``allow_missing: true`` in the source YAML makes that normal).
``empty``: the night delivered no rows (a 0-byte or header-only file, an empty table; ``allow_empty: true`` makes that
normal; an incremental source with nothing new is normal anyway).
``suspect``: a file looks cut off in transfer (connectors/compression.py :func:`cut_off`), or the night has fewer rows
than the source's ``expected_rows``, or fewer than ``suspect_below`` (default 0.5) times the median of the last 7
successful nights (from 3 such nights on; not for incremental sources, whose nights vary by nature).

None of these loads anything: the ledger row has extracted = loaded = quarantined = unchanged = 0 (the invariant holds)
and its message says how many rows a suspect night holds in landing. The run then raises :class:`NotLoaded`, so
``unsilo sync``/``night``/``backfill`` exit non-zero and the Airflow task fails. Once a steward has looked at a
suspect night, ``unsilo sync SOURCE --start DAY --accept-suspect`` loads it as it is (a cut last line is quarantined
as ``ragged-row`` like any other).
"""

from __future__ import annotations

import statistics

from connectors.base import SourceError
from unsilo.extract import Landed
from unsilo.interval import Interval
from unsilo.settings import Settings
from unsilo.stage_state import RECENT_NIGHTS, read_stage_state

STATUSES = ("missing", "empty", "suspect")
MIN_HISTORY = 3
DEFAULT_SHARE = 0.5


class NotLoaded(SourceError):
    """The night was recorded as ``missing``, ``empty`` or ``suspect`` and nothing was loaded. A source error, so
    Airflow retries it (a drop delivered late, or again complete, is then read) before the task fails."""

    def __init__(self, status: str, message: str, entry=None):
        super().__init__(f"{status}: {message}")
        self.status, self.entry = status, entry


def night_status(source: dict, landed: Landed, interval: Interval, settings: Settings,
                 accept_suspect: bool = False) -> tuple[str, str] | None:
    """``(status, message)`` when the night must not count as a success, else None."""
    sid, night = source["id"], f"{interval.start}..{interval.end}"
    incremental = bool((source.get("connector") or {}).get("incremental"))
    if landed.rows == 0:
        if source.get("allow_empty") or incremental or (landed.missing and source.get("allow_missing")):
            return None
        return "empty", (f"source {sid}: the interval {night} delivered no rows (a 0-byte or header-only drop, or an "
                         f"empty table); ask the department to deliver it again, or declare 'allow_empty: true' in "
                         f"the source YAML if such nights are normal")
    if accept_suspect:
        return None
    why = list(landed.suspect)
    expected = source.get("expected_rows")
    if expected and landed.rows < int(expected):
        why.append(f"{landed.rows} rows, fewer than the {int(expected)} the source YAML expects (expected_rows)")
    share = source.get("suspect_below", DEFAULT_SHARE)
    if share and not incremental:
        counts = recent_counts(landed)
        if len(counts) >= MIN_HISTORY and landed.rows < float(share) * statistics.median(counts):
            why.append(f"{landed.rows} rows, fewer than {float(share):g} times the median "
                       f"{statistics.median(counts):g} of the last {len(counts)} successful nights (suspect_below)")
    if not why:
        return None
    return "suspect", (f"source {sid}, interval {night}: " + "; ".join(why) + f". Nothing loaded; the {landed.rows} "
                       f"rows are held in {landed.path}. Ask the department for a complete drop and run the night "
                       f"again, or, once checked, load it as it is with 'unsilo sync {sid} --start {interval.start} "
                       f"--end {interval.end} --accept-suspect'")


def recent_counts(landed: Landed) -> list[int]:
    """The extracted rows of the last 7 successful nights before the interval (the latest run of each night), as
    extract read them, read-only, into the state it hands on (unsilo/stage_state.py): no warehouse open here."""
    if landed.warehouse_state is None:
        return []
    return list(read_stage_state(landed.warehouse_state)["recent_counts"][:RECENT_NIGHTS])
