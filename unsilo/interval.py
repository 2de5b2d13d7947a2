"""A data interval ``[start, end)`` of calendar days in the city's time zone, and the schedules a source may declare.

Every run reads exactly its interval (so re-runs are idempotent). A connector reads one drop per day of the interval
(``{date}`` in a path is each calendar day ``start <= day < end``):

- ``daily`` (the default): the run for a night reads that day's drop, ``{date}`` = the day;
- ``weekly``: the run for a week (Monday 00:00 to the next Monday, local time) reads each of its seven days' drops;
- ``hourly``: an interval shorter than a day is widened to the calendar day it falls in, so each hourly run reads
  the drop of its day so far (``{date}`` = that day); the load skips rows it already holds;
- a cron expression (``"30 2 * * *"``): the interval between two firings, widened to whole days the same way.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

#: the named schedules a source YAML may declare (``schedule:``), as cron expressions on the city's clock
SCHEDULES = {"daily": "0 0 * * *", "weekly": "0 0 * * 1", "hourly": "0 * * * *"}
DEFAULT_SCHEDULE = "daily"
_CRON_FIELD = re.compile(r"^[0-9*,/\-]+$")


def schedule_cron(schedule: str | None) -> str:
    """The cron expression of a declared schedule (a name of :data:`SCHEDULES`, or five cron fields)."""
    schedule = (schedule or DEFAULT_SCHEDULE).strip()
    if schedule in SCHEDULES:
        return SCHEDULES[schedule]
    fields = schedule.split()
    if len(fields) != 5 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
        raise ValueError(f"schedule {schedule!r} is not one of {', '.join(SCHEDULES)} nor a cron expression of five "
                         "fields (minute hour day month weekday, digits and * , / - only)")
    return schedule


def schedule_slug(schedule: str | None) -> str:
    """A DAG-id-safe name of a schedule: ``daily``, ``weekly``, ``hourly`` or ``cron_30_2_x_x_x`` for a cron."""
    schedule = (schedule or DEFAULT_SCHEDULE).strip()
    if schedule in SCHEDULES:
        return schedule
    cron = schedule_cron(schedule)
    return "cron_" + "_".join(f.replace("*", "x").replace("/", "every").replace(",", "and").replace("-", "to")
                              for f in cron.split())


@dataclass(frozen=True)
class Interval:
    start: dt.date
    end: dt.date

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError(f"interval end {self.end} must be after its start {self.start}")

    @classmethod
    def night(cls, day: dt.date) -> "Interval":
        return cls(day, day + dt.timedelta(days=1))

    @classmethod
    def covering(cls, start: dt.datetime, end: dt.datetime) -> "Interval":
        """The calendar days a data interval ``[start, end)`` (local datetimes) touches: whole days stay as they are
        (a night, a week), a part of a day (an hour) widens to its day."""
        first = start.date()
        last = end.date() if end.time() == dt.time(0) and end.date() > first else end.date() + dt.timedelta(days=1)
        return cls(first, max(last, first + dt.timedelta(days=1)))

    @property
    def slug(self) -> str:
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"

    def __str__(self) -> str:
        return f"[{self.start}, {self.end})"
