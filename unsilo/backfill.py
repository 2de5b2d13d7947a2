"""Backfill: run the nightly intervals of a date range in this process, as the department DAGs would, resumably.

A night already loaded successfully for a source (a ``success`` row in ``meta.ledger`` for exactly that interval)
is skipped unless ``reprocess``; so a backfill that stopped half way (a crash, Ctrl-C, a failing night) picks up
where it stopped when run again, and overlapping or repeated backfills do no work twice. Nights run in order,
oldest first. Loads are merges, so a night loaded *before* a later night already in the warehouse would put older
versions of rows back: when a backfill runs a night older than a night already loaded for that source, it replays
the later loaded nights after it (they are listed as ``replay``), so the warehouse ends as one clean run of all
the nights would leave it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from unsilo.interval import Interval
from unsilo.night import rebuild_marts, run_source
from unsilo.settings import Settings
from warehouse.schema import connect


@dataclass(frozen=True)
class Step:
    source: dict
    interval: Interval
    reason: str  # "new", "reprocess" or "replay"


@dataclass
class BackfillResult:
    ran: list[Step] = field(default_factory=list)
    skipped: list[tuple[str, Interval]] = field(default_factory=list)
    failed: list[tuple[Step, str]] = field(default_factory=list)


def nights(first: dt.date, last: dt.date) -> list[Interval]:
    """The nightly intervals from the night of ``first`` to the night of ``last``, both included."""
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    return [Interval.night(first + dt.timedelta(days=i)) for i in range((last - first).days + 1)]


def loaded_nights(settings: Settings) -> dict[str, set[Interval]]:
    """Per source, the intervals the ledger records a successful load for."""
    if not settings.warehouse.exists():
        return {}
    with connect(settings.warehouse, read_only=True) as con:
        rows = con.execute(
            "SELECT DISTINCT source, interval_start, interval_end FROM meta.ledger WHERE status = 'success'"
        ).fetchall()
    out: dict[str, set[Interval]] = {}
    for src, start, end in rows:
        out.setdefault(src, set()).add(Interval(start, end))
    return out


def plan(sources: list[dict], first: dt.date, last: dt.date, settings: Settings,
         reprocess: bool = False) -> tuple[list[Step], list[tuple[str, Interval]]]:
    """The steps to run (ordered by night, then source) and the (source, night) pairs skipped as already loaded."""
    wanted = nights(first, last)
    loaded = loaded_nights(settings)
    steps: list[Step] = []
    skipped: list[tuple[str, Interval]] = []
    for src in sources:
        done = loaded.get(src["id"], set())
        todo = []
        for interval in wanted:
            if interval in done and not reprocess:
                skipped.append((src["id"], interval))
            else:
                todo.append(Step(src, interval, "reprocess" if interval in done else "new"))
        if todo:
            oldest = min(s.interval.start for s in todo)
            planned = {s.interval for s in todo}
            todo += [Step(src, i, "replay") for i in done if i.start > oldest and i not in planned]
        steps += todo
    steps.sort(key=lambda s: (s.interval.start, s.interval.end, s.source["id"]))
    return steps, skipped


def backfill(sources: list[dict], first: dt.date, last: dt.date, settings: Settings, reprocess: bool = False,
             on_step: Callable[[Step, str], None] | None = None) -> BackfillResult:
    """Run the planned steps; a failing step is recorded (ledger and result) and the others still run.

    ``on_step(step, status)`` is called after each step with ``"success"`` or ``"failed"`` (for a progress bar).
    The marts are rebuilt once at the end when anything ran.
    """
    steps, skipped = plan(sources, first, last, settings, reprocess)
    result = BackfillResult(skipped=skipped)
    for step in steps:
        try:
            run_source(step.source, step.interval, settings)
        except Exception as exc:  # one failing night of one source never stops the others
            result.failed.append((step, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            status = "failed"
        else:
            result.ran.append(step)
            status = "success"
        if on_step:
            on_step(step, status)
    if result.ran:
        rebuild_marts(settings)
    return result
