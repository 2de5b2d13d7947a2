"""The demo night and the timestamps every department stamps on its exports.

The night is the data interval ``[2026-06-01, 2026-06-02)``. Export stamps are drawn from
08:00:00..23:29:59 at +08:00, which is inside the night both in local time and in UTC
(00:00..15:29 UTC), so no reading of the time zone can push a clean record out of the interval.
"""

from __future__ import annotations

import datetime
import random

NIGHT = datetime.date(2026, 6, 1)
CST = datetime.timezone(datetime.timedelta(hours=8))
NIGHT_START = datetime.datetime(2026, 6, 1, 8, 0, 0, tzinfo=CST)
NIGHT_END = datetime.datetime(2026, 6, 1, 23, 59, 59, tzinfo=CST)
TRANSACTION_TIME = datetime.datetime(2026, 6, 1, 23, 30, 0, tzinfo=CST)
ZIP_TIME = (2026, 6, 1, 8, 0, 0)
OLDEST_BIRTH = datetime.date(1935, 1, 1)
YOUNGEST_BIRTH = datetime.date(2025, 12, 31)


def stamp(rng: random.Random) -> datetime.datetime:
    """An export time inside the night (08:00..23:29:59 +08:00)."""
    return NIGHT_START + datetime.timedelta(seconds=rng.randrange(0, 15 * 3600 + 1800))


def iso(moment: datetime.datetime) -> str:
    """ISO 8601 with the +08:00 offset, second precision (FHIR instant/dateTime)."""
    return moment.isoformat(timespec="seconds")


def sql_timestamp(moment: datetime.datetime) -> str:
    """A naive local timestamp as the housing database stores it."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def day_between(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    """A day in ``[first, last]`` (both inclusive)."""
    span = (last - first).days
    if span <= 0:
        return first
    return first + datetime.timedelta(days=rng.randint(0, span))


def moment_between(rng: random.Random, first: datetime.datetime, last: datetime.datetime) -> datetime.datetime:
    """A moment in ``[first, last]`` at whole seconds."""
    span = int((last - first).total_seconds())
    if span <= 0:
        return first
    return first + datetime.timedelta(seconds=rng.randint(0, span))


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def years_after(day: datetime.date, years: int) -> datetime.date:
    return years_before(day, -years)


def age_on(birth: datetime.date, day: datetime.date = NIGHT) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
