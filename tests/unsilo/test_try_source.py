"""``unsilo try SOURCE.yaml``: a dry run into a scratch warehouse that leaves everything under the data root as it
was, reports the mapping, what would load and what would be quarantined per rule; and the drift baseline, which
moves only on a load that put rows into the warehouse."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.night_fixture import KEY
from unsilo.catalog import load_source
from unsilo.interval import Interval
from unsilo.night import rebuild_marts, run_source
from unsilo.settings import settings

UNSILO = Path(sys.executable).with_name("unsilo")
NIGHT = Interval.night(dt.date(2026, 6, 1))
ID_NUMBER = "110105199001011234"


def write_yaml(home: Path, name: str = "stops_try", pattern: str = "stops.csv", swap: bool = False, **extra) -> Path:
    lat, lon = ("lon", "lat") if swap else ("lat", "lon")
    doc = {"id": name, "department": "transport", "entity": "transit_stop",
           "connector": {"kind": "csv_drop", "folder": str(home / "drop"), "pattern": pattern},
           "fields": {"stop_id": "stop_id", "stop_name": "stop_name", "lat": lat, "lon": lon}, **extra}
    path = home / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def drop(home: Path, rows: list[str], name: str = "stops.csv", header: str = "stop_id,stop_name,lat,lon") -> None:
    (home / "drop").mkdir(exist_ok=True)
    (home / "drop" / name).write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture
def home(tmp_path, monkeypatch):
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("UNSILO_HOME", str(root))
    monkeypatch.setenv("UNSILO_DEPARTMENT_ROOTS", f"transport={root}")
    monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)
    monkeypatch.delenv("UNSILO_SOURCES", raising=False)
    return root


def saved_columns(home: Path, source: str):
    with duckdb.connect(str(home / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        row = con.execute("SELECT state FROM meta.source_state WHERE source = ?", [source]).fetchone()
    return None if row is None else json.loads(row[0]).get("columns")


def test_a_first_attempt_that_quarantines_every_row_sets_no_drift_baseline(home):
    """The steward's first YAML reads the wrong export (an extra column) with lat and lon swapped: every row is
    quarantined. The corrected YAML reads the right export and loads, with no hand-written ``columns:`` list."""
    drop(home, [f"S{i},Stop {i},30.{i},120.{i}" for i in range(3)])
    drop(home, [f"S{i},Stop {i},30.{i},120.{i},x" for i in range(3)], name="stops_raw.csv",
         header="stop_id,stop_name,lat,lon,internal_note")
    cfg = settings()
    first = run_source(load_source(write_yaml(home, pattern="stops_raw.csv", swap=True), cfg), NIGHT, cfg)
    assert first.status == "success" and first.quarantined == 3 and first.loaded == 0
    assert saved_columns(home, "stops_try") is None
    second = run_source(load_source(write_yaml(home), cfg), NIGHT, cfg)
    assert second.status == "success" and second.loaded == 3
    assert saved_columns(home, "stops_try") == ["stop_id", "stop_name", "lat", "lon"]


def test_a_load_that_quarantines_everything_keeps_the_baseline_it_had(home):
    drop(home, [f"S{i},Stop {i},30.{i},120.{i}" for i in range(3)])
    cfg = settings()
    assert run_source(load_source(write_yaml(home), cfg), NIGHT, cfg).loaded == 3
    drop(home, [f"S{i},Stop {i},130.{i},120.{i},x" for i in range(3)], header="stop_id,stop_name,lat,lon,extra")
    entry = run_source(load_source(write_yaml(home, tolerate_new_columns=True), cfg), Interval.night(dt.date(2026, 6, 2)), cfg)
    assert entry.quarantined == 3 and entry.loaded + entry.unchanged == 0
    assert saved_columns(home, "stops_try") == ["stop_id", "stop_name", "lat", "lon"]
