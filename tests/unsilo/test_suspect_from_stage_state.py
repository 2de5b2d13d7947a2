"""The suspect rule's recent nights come from the state extract handed on (unsilo/stage_state.py), not from a
warehouse open of its own: the one-writer rule (docs/night.md, "Who writes when") holds for nosilent's statuses."""

from __future__ import annotations

import datetime as dt
import json

from unsilo.extract import Landed
from unsilo.interval import Interval
from unsilo.night_status import night_status, recent_counts
from unsilo.settings import settings


def _landed(tmp_path, rows: int, counts: list[int] | None) -> Landed:
    state = None
    if counts is not None:
        state = tmp_path / "staging" / "s" / "night.state.json"
        state.parent.mkdir(parents=True)
        state.write_text(json.dumps({"saved": None, "recent_counts": counts, "reference_keys": {}}), encoding="utf-8")
    return Landed(path=tmp_path / "landing.parquet", rows=rows, columns=["a"], warehouse_state=state)


def test_the_suspect_rule_reads_the_handed_on_counts_and_no_warehouse(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSILO_HOME", str(tmp_path / "home"))  # no warehouse exists under it
    cfg = settings()
    interval = Interval.night(dt.date(2026, 3, 4))
    source = {"id": "s", "connector": {"kind": "csv_drop"}}
    verdict = night_status(source, _landed(tmp_path, 10, [100, 100, 100]), interval, cfg)
    assert verdict is not None and verdict[0] == "suspect" and "median" in verdict[1]
    assert not cfg.warehouse.exists()
    # the same night against fewer than three recent nights, or with no state handed on, is not suspect
    assert night_status(source, _landed(tmp_path / "b", 10, [100, 100]), interval, cfg) is None
    assert night_status(source, _landed(tmp_path / "c", 10, None), interval, cfg) is None


def test_only_the_last_seven_nights_count(tmp_path):
    counts = [10] * 7 + [1000] * 5  # the state may carry more nights (a row_count policy's own 'nights')
    assert recent_counts(_landed(tmp_path, 1, counts)) == [10] * 7
