"""What a declared schedule means: its cron on the city's clock, its DAG-id name, the days its interval reads."""

from __future__ import annotations

import datetime as dt

import pytest

from unsilo.interval import Interval, schedule_cron, schedule_slug

D = dt.datetime


def test_named_schedules_and_crons():
    assert [schedule_cron(s) for s in ("daily", "weekly", "hourly", None)] == [
        "0 0 * * *", "0 0 * * 1", "0 * * * *", "0 0 * * *"]
    assert schedule_cron("30 2 * * 1-5") == "30 2 * * 1-5"
    assert schedule_slug("weekly") == "weekly"
    assert schedule_slug("*/15 2 * * 1-5") == "cron_xevery15_2_x_x_1to5"
    for bad in ("weekyl", "0 0 * *", "@daily", "0 0 * * MON; rm"):
        with pytest.raises(ValueError, match="cron expression of five fields"):
            schedule_cron(bad)


def test_an_interval_reads_whole_days():
    assert Interval.covering(D(2026, 6, 1), D(2026, 6, 2)) == Interval.night(dt.date(2026, 6, 1))
    assert Interval.covering(D(2026, 6, 1), D(2026, 6, 8)) == Interval(dt.date(2026, 6, 1), dt.date(2026, 6, 8))
    assert Interval.covering(D(2026, 6, 1, 13), D(2026, 6, 1, 14)) == Interval.night(dt.date(2026, 6, 1))
    assert Interval.covering(D(2026, 6, 1, 23), D(2026, 6, 2)) == Interval.night(dt.date(2026, 6, 1))
    assert Interval.covering(D(2026, 6, 1, 2, 30), D(2026, 6, 2, 2, 30)) == Interval(
        dt.date(2026, 6, 1), dt.date(2026, 6, 3))
