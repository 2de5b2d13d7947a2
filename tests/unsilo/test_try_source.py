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
    yaml_path = write_yaml(home, tolerate_new_columns=True)
    entry = run_source(load_source(yaml_path, cfg), Interval.night(dt.date(2026, 6, 2)), cfg)
    assert entry.quarantined == 3 and entry.loaded + entry.unchanged == 0
    assert saved_columns(home, "stops_try") == ["stop_id", "stop_name", "lat", "lon"]


def checksums(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def try_cli(home: Path, scratch: Path, *args: str) -> subprocess.CompletedProcess:
    scratch.mkdir(exist_ok=True)
    env = dict(os.environ, UNSILO_HOME=str(home), UNSILO_PSEUDONYM_KEY=KEY, UNSILO_DEPARTMENT_ROOTS=f"transport={home}",
               TMPDIR=str(scratch), COLUMNS="100")
    env.pop("UNSILO_WAREHOUSE", None)
    return subprocess.run([str(UNSILO), "try", *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def loaded(home):
    """A data root after one real night of the source: warehouse, published snapshot, landing file, drift baseline;
    then the department's next drop: one row unchanged, one changed, one new, two broken."""
    drop(home, ["S1,Stop 1,30.1,120.1", "S2,Stop 2,30.2,120.2"])
    cfg = settings()
    assert run_source(load_source(write_yaml(home), cfg), NIGHT, cfg).loaded == 2
    rebuild_marts(cfg)
    drop(home, ["S1,Stop 1,30.1,120.1", "S2,Stop 2 (moved),30.25,120.2", "S3,Stop 3,30.3,120.3",
                f"S4,Stop 4,{ID_NUMBER},120.4", "S5,,30.5,120.5"])
    assert saved_columns(home, "stops_try") == ["stop_id", "stop_name", "lat", "lon"]
    assert list((home / "warehouse" / "snapshots").iterdir()) and list((home / "landing").rglob("*.parquet"))
    return home


def test_try_leaves_every_file_under_the_data_root_as_it_was(loaded, tmp_path):
    before = checksums(loaded)
    out = try_cli(loaded, tmp_path / "tmp", str(loaded / "stops_try.yaml"), "--start", "2026-06-02", "--json")
    assert out.returncode == 0, out.stderr
    assert checksums(loaded) == before
    assert list((tmp_path / "tmp").iterdir()) == []  # the scratch folder is gone
    report = json.loads(out.stdout)
    assert report["status"] == "would_load" and report["extracted"] == 5
    assert report["would_load"] == {"rows": 3, "new": 1, "changed": 1, "unchanged": 1,
                                    "against": str(loaded / "warehouse" / "unsilo.duckdb")}
    assert report["quarantine"]["rows"] == 2
    assert report["quarantine"]["by_check"] == {"out-of-range:lat": 1, "required-missing:stop_name": 1}
    assert [(r["row"], r["source_row"], r["checks"]) for r in report["first_rejects"]] == [
        (4, "stops.csv:5", ["out-of-range:lat"]), (5, "stops.csv:6", ["required-missing:stop_name"])]
    by_field = {m["field"]: m for m in report["mapping"]}
    assert by_field["lat"]["source"] == "column lat" and by_field["lat"]["type"] == "number (DOUBLE)"
    assert by_field["stop_name"]["non_null"] == 4 and by_field["stop_name"]["null_share"] == 0.2
    assert by_field["community_code"]["source"] is None and by_field["community_code"]["disclosure"] == "public"
    assert ID_NUMBER not in out.stdout + out.stderr
    # and a real night afterwards finds what try said
    cfg = settings()
    entry = run_source(load_source(loaded / "stops_try.yaml", cfg), Interval.night(dt.date(2026, 6, 2)), cfg)
    assert (entry.loaded, entry.unchanged, entry.quarantined) == (2, 1, 2)


def test_try_prints_the_mapping_rules_and_counts_and_keeps_scratch_only_when_asked(loaded, tmp_path):
    before = checksums(loaded)
    out = try_cli(loaded, tmp_path / "tmp", str(loaded / "stops_try.yaml"), "--start", "2026-06-02", "--keep")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "would load 3 rows: 1 new, 1 changed, 1 unchanged" in text
    assert "would quarantine 2 rows" in text and "out-of-range:lat" in text and "required-missing:stop_name" in text
    assert "row 4  stops.csv:5  out-of-range:lat" in text
    assert "column stop_name" in text and "community_code" in text
    assert ID_NUMBER not in text + out.stderr
    [kept] = list((tmp_path / "tmp").iterdir())
    assert f"scratch folder kept: {kept}" in text and (kept.stat().st_mode & 0o077) == 0
    assert (kept / "warehouse" / "unsilo.duckdb").exists() and list((kept / "landing").rglob("*.parquet"))
    assert checksums(loaded) == before


def test_a_wrong_mapping_is_told_and_exits_non_zero_without_touching_the_baseline(home, tmp_path):
    drop(home, [f"S{i},Stop {i},30.{i},120.{i}" for i in range(3)])
    out = try_cli(home, tmp_path / "tmp", str(write_yaml(home, swap=True)), "--start", "2026-06-01", "--json")
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert report["status"] == "all_quarantined" and report["quarantine"]["by_rule"] == {"out-of-range": 3}
    assert report["would_load"]["against"] is None
    assert not (home / "warehouse").exists() and not (home / "landing").exists()


@pytest.mark.parametrize("change, message", [
    ({"connector": {"kind": "csv_drop", "folder": "/etc", "pattern": "passwd"}}, "outside department transport's root"),
    ({"id": "../../x"}, "id"),
    ({"codelist_sytem": "transport"}, "did you mean 'codelist_system'"),
])
def test_a_bad_or_hostile_yaml_is_refused_before_anything_runs(home, tmp_path, change, message):
    drop(home, ["S1,Stop 1,30.1,120.1"])
    path = write_yaml(home)
    doc = {**yaml.safe_load(path.read_text(encoding="utf-8")), **change}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    before = checksums(home)
    out = try_cli(home, tmp_path / "tmp", str(path), "--start", "2026-06-01")
    assert out.returncode == 1 and out.stdout == ""
    assert message in out.stderr and str(path) in out.stderr
    assert list((tmp_path / "tmp").iterdir()) == [] and checksums(home) == before
