"""GTFS feed validation: every feed in ../shared/data/real/transport is accepted or rejected with the reason
found by reading it, and each reason is proved on a copy of Google's sample feed broken in one way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connectors import Gtfs, SourceError
from connectors.gtfs_check import gtfs_check
from tests.connectors.conftest import REAL, read_table

# feed -> (reasons it is rejected for, notes about ignored files, rows rejected by file when a source reads it)
EXPECTED = {
    # a real Caltrain snapshot: valid, with seven files the GTFS reference does not define
    "caltrain-2017-07-24": ((), ["calendar_attributes.txt", "directions.txt", "farezone_attributes.txt",
                                 "realtime_routes.txt", "realtime_trips.txt", "stop_attributes.txt", "timepoints.txt"],
                            {}),
    "google-sample-feed-1": ((), [], {}),  # the spec's own example (stop_times leave optional trailing fields out)
    "google-sample-feed-1.zip": ((), [], {}),
    "israel-route-2126": ((), [], {}),  # one real route, Hebrew names
    # CRLF, lone CR and LF mixed: not a feed fault; routes.txt line 5 ends in CR CR LF, so line 6 is blank
    "transitfeed-tests/bad_eol.zip": ((), [], {"routes.txt": ["routes.txt:6"]}),
    "transitfeed-tests/bad_utf8": ((), [], {}),  # bytes 0xEC become U+FFFD: those rows fail undecodable-bytes later
    "transitfeed-tests/contains_null": ((), [], {}),  # the NUL becomes U+FFFD likewise
    "transitfeed-tests/empty_file": (("empty-file",), [], {}),  # agency.txt has zero bytes
    # routes.txt line 4 'STBA,DTA,,Stagecoach - Airport Shuttle,,3,' has 8 cells under 7 headers
    "transitfeed-tests/extra_row_cells": ((), [], {"routes.txt": ["routes.txt:4"]}),
    "transitfeed-tests/good_feed.zip": ((), [], {}),
    "transitfeed-tests/missing_row_cells": ((), [], {}),  # trailing cells left out: optional fields, empty
    "transitfeed-tests/utf16": ((), [], {}),  # UTF-16 with a byte order mark: decoded as such
    "transitfeed-tests/utf8bom": ((), [], {}),
}
FEEDS = sorted(
    str(p.relative_to(REAL / "transport"))
    for p in [*(REAL / "transport").glob("*"), *(REAL / "transport" / "transitfeed-tests").glob("*")]
    if p.name != "transitfeed-tests"
) if (REAL / "transport").is_dir() else []


def test_every_feed_is_listed():
    assert FEEDS == sorted(EXPECTED) or not FEEDS


@pytest.mark.parametrize("name", FEEDS)
def test_real_feed_outcome(real, name):
    path = real / "transport" / name
    reasons, ignored, rejected_rows = EXPECTED[name]
    check = gtfs_check(path)
    assert tuple(p.reason for p in check.problems) == reasons
    assert check.notes == [f"{n} is not a GTFS file: ignored" for n in ignored]
    if reasons:
        with pytest.raises(SourceError, match=reasons[0]) as err:
            read_table(Gtfs(source_id="t", options={"path": str(path), "file": "stops.txt"}))
        assert str(path) in str(err.value)
        return
    for file in ("stops.txt", "routes.txt", "trips.txt"):
        table = read_table(Gtfs(source_id="t", options={"path": str(path), "file": file}))
        got = [r["_source_row"] for r in table.to_pylist() if r["_reject"]]
        assert got == rejected_rows.get(file, []), file


@pytest.fixture
def sample(real, tmp_path) -> Path:
    folder = tmp_path / "feed"
    shutil.copytree(real / "transport" / "google-sample-feed-1", folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_missing_required_file(sample):
    (sample / "trips.txt").unlink()
    (sample / "calendar.txt").unlink()
    (sample / "calendar_dates.txt").unlink()
    problems = [(p.reason, p.file) for p in gtfs_check(sample).problems]
    assert problems == [("missing-required-file", "trips.txt"), ("missing-required-file", "calendar.txt")]


def test_missing_required_column(sample):
    edit(sample / "routes.txt", "route_type", "kind")
    [problem] = gtfs_check(sample).problems
    assert problem.reason == "missing-required-column" and "routes.txt lacks the required column route_type" in \
        problem.message


def test_broken_references(sample):
    edit(sample / "stop_times.txt", "STBA,6:00:00,6:00:00,STAGECOACH", "STBA,6:00:00,6:00:00,NOWHERE")
    edit(sample / "trips.txt", "AB,FULLW,AB1", "ZZ,FULLW,AB1")
    messages = [p.message for p in gtfs_check(sample).problems if p.reason == "broken-reference"]
    assert [m.split(": row ")[0] for m in messages] == ["stop_times.txt stop_id names 1 value(s) not in stops.txt",
                                                        "trips.txt route_id names 1 value(s) not in routes.txt"]
    assert all(": row stop_times.txt:" in m or ": row trips.txt:" in m for m in messages)
    assert not any("NOWHERE" in m or "ZZ" in m for m in messages)  # rows are named, never their values


def test_bad_dates(sample):
    edit(sample / "calendar.txt", "20070101,20101231", "20070101,2010-12-31")
    edit(sample / "calendar_dates.txt", "20070604", "20070632")
    problems = [(p.reason, p.file) for p in gtfs_check(sample).problems]
    assert problems == [("bad-date", "calendar.txt"), ("bad-date", "calendar_dates.txt")]
