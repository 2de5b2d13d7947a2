"""Schema drift: a source whose columns appear, vanish or are renamed against its YAML fails alone, with a message
naming the columns and the YAML; ``tolerate_new_columns: true`` lets additions through."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import yaml

from tests.night_fixture import KEY
from unsilo.catalog import load_source
from unsilo.interval import Interval
from unsilo.night import run_source
from unsilo.schema_drift import SchemaDriftError
from unsilo.settings import settings

NIGHT = Interval.night(dt.date(2026, 6, 1))
HEADER = "stop_id,stop_name,lat,lon"


@pytest.fixture
def steward(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSILO_HOME", str(tmp_path))
    monkeypatch.setenv("UNSILO_DEPARTMENT_ROOTS", f"transport={tmp_path}")  # the drop below is the root
    monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)
    (tmp_path / "drop").mkdir()

    def run(header: str, **extra):
        values = {"stop_id": "S{i}", "stop_name": "Stop {i}", "lat": "30.1", "lon": "120.2"}
        rows = "\n".join(",".join(values.get(c, "x").format(i=i) for c in header.split(",")) for i in range(3))
        (tmp_path / "drop" / "stops.csv").write_text(f"{header}\n{rows}\n", encoding="utf-8")
        doc = {"id": "stops_drift", "department": "transport", "entity": "transit_stop",
               "connector": {"kind": "csv_drop", "folder": str(tmp_path / "drop"), "pattern": "stops.csv"},
               "fields": {"stop_id": "stop_id", "stop_name": "stop_name", "lat": "lat", "lon": "lon"}, **extra}
        path = tmp_path / "stops_drift.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        cfg = settings()
        return run_source(load_source(path, cfg), NIGHT, cfg)

    return run


def test_new_column_fails_naming_it_and_the_yaml(steward, tmp_path):
    assert steward(HEADER).status == "success"
    with pytest.raises(SchemaDriftError) as err:
        steward(HEADER + ",platform")
    message = str(err.value)
    assert "new column platform" in message and str(tmp_path / "stops_drift.yaml") in message
    assert "tolerate_new_columns" in message
    with duckdb.connect(str(tmp_path / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        status, msg = con.execute("SELECT status, message FROM meta.ledger ORDER BY started_at DESC").fetchone()
    assert status == "failed" and "platform" in msg


def test_new_column_tolerated_where_the_yaml_says_so(steward):
    assert steward(HEADER).status == "success"
    entry = steward(HEADER + ",platform", tolerate_new_columns=True)
    assert entry.status == "success" and entry.unchanged == 3


def test_renamed_column_is_named_as_a_probable_rename(steward):
    steward(HEADER + ",zone")
    with pytest.raises(SchemaDriftError, match=r"new column zone_id; missing column zone \(renamed\? zone -> zone_id\)"):
        steward(HEADER + ",zone_id")


def test_declared_columns_are_the_reference(steward):
    with pytest.raises(SchemaDriftError, match="missing column lon"):
        steward("stop_id,stop_name,lat", columns=["stop_id", "stop_name", "lat", "lon"])
    assert steward(HEADER + ",zone", columns=["stop_id", "stop_name", "lat", "lon", "zone"]).status == "success"


def test_a_drop_without_its_header_row_is_told_by_positions_never_by_values(steward, tmp_path):
    """The first data row read as the header: the message names positions, not the ID numbers and names in it."""
    assert steward(HEADER).status == "success"
    row = "110105199001011234,张伟,2019-03-17,13800138000"
    with pytest.raises(SchemaDriftError) as err:
        steward(row)
    message = str(err.value)
    assert "new columns at positions 1, 2, 3, 4 (header hidden: looks like data)" in message
    assert "missing columns stop_id, stop_name, lat, lon" in message and "header row missing" in message
    assert "renamed?" not in message
    with duckdb.connect(str(tmp_path / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        ledger = " ".join(m for (m,) in con.execute("SELECT message FROM meta.ledger WHERE message IS NOT NULL").fetchall())
    for value in row.split(","):
        assert value not in message and value not in ledger


def test_a_new_column_named_like_data_is_told_by_position(steward):
    assert steward(HEADER).status == "success"
    with pytest.raises(SchemaDriftError) as err:
        steward(HEADER + ",13800138000")
    assert "new column at position 5 (header hidden: looks like data)" in str(err.value)
    assert "13800138000" not in str(err.value)
