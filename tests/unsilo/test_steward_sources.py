"""``unsilo sync PATH_TO_YAML`` for a YAML a steward writes for a file the project has never seen, one per connector
kind, run as a user runs it (a subprocess). Rows a connector rejects land in quarantine with their reason."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.night_fixture import KEY

UNSILO = Path(sys.executable).with_name("unsilo")
NIGHT = "2026-06-01"


def roots(home: Path) -> str:
    """Each test's files lie in its data root: the steward allows it as every department's root."""
    return ",".join(f"{d}={home}" for d in ("health", "employment", "housing", "transport"))


def sync(home: Path, yaml_path: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, UNSILO_HOME=str(home), UNSILO_PSEUDONYM_KEY=KEY, COLUMNS="200",
               UNSILO_DEPARTMENT_ROOTS=roots(home))
    env.pop("UNSILO_WAREHOUSE", None)
    return subprocess.run([str(UNSILO), "sync", str(yaml_path), "--start", NIGHT, *extra], env=env,
                          capture_output=True, text=True, timeout=180)


def sync_in_process(home: Path, yaml_path: Path, monkeypatch) -> None:
    """What ``unsilo sync PATH`` runs, without a new interpreter (the CLI itself is run by the tests above)."""
    from unsilo.catalog import source
    from unsilo.interval import Interval
    from unsilo.night import run_source
    from unsilo.settings import settings

    monkeypatch.setenv("UNSILO_HOME", str(home))
    monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("UNSILO_DEPARTMENT_ROOTS", roots(home))
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)
    cfg = settings()
    entry = run_source(source(str(yaml_path), cfg), Interval.night(dt.date.fromisoformat(NIGHT)), cfg)
    assert entry.status == "success"


def warehouse(home: Path):
    return duckdb.connect(str(home / "warehouse" / "unsilo.duckdb"), read_only=True)


def test_csv_in_latin1_with_semicolons_ragged_rows_and_a_blank_line(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    text = (
        "Arrêts du réseau\r\n"  # a title line above the header
        "code;nom;latitude;longitude;zone\r\n"
        "S1;Gare Saint-Lazare;48,8763;2,3254;110101001001\r\n"
        'S2;"Hôtel de Ville\r\n(côté Seine)";48,8566;2,3522;110101001002\r\n'
        "\r\n"
        "S3;Opéra;48,8719;2,3316;110101001001;en travaux\r\n"
        "S4;Bastille;48,8532;2,3691;110101001003\r\n"
    )
    (drop / "arrets_20260601.csv").write_bytes(text.encode("cp1252"))
    yaml_path = tmp_path / "paris_stops.yaml"
    yaml_path.write_text(f"""
id: paris_stops
department: transport
entity: transit_stop
connector:
  kind: csv_drop
  folder: "{drop}"
  pattern: "arrets_{{date:%Y%m%d}}.csv"
  encoding: cp1252
  delimiter: ";"
  decimal_comma: [latitude, longitude]
fields:
  stop_id: code
  stop_name: nom
  lat: latitude
  lon: longitude
  community_code: zone
""", encoding="utf-8")
    out = sync(tmp_path, yaml_path)
    assert out.returncode == 0, out.stderr
    with warehouse(tmp_path) as con:
        ledger = con.execute("SELECT extracted, loaded, quarantined, unchanged, status FROM meta.ledger").fetchall()
        assert ledger == [(5, 3, 2, 0, "success")]
        stops = con.execute("SELECT stop_id, stop_name, lat FROM std.transit_stop ORDER BY stop_id").fetchall()
        assert stops == [("S1", "Gare Saint-Lazare", 48.8763), ("S2", "Hôtel de Ville\r\n(côté Seine)", 48.8566),
                         ("S4", "Bastille", 48.8532)]
        q = con.execute("SELECT source_row, rules, record FROM meta.quarantine ORDER BY source_row").fetchall()
    assert [r[0] for r in q] == ["arrets_20260601.csv:6", "arrets_20260601.csv:7"]  # physical lines
    assert "blank-line" in q[0][1]  # (an empty record also misses its required fields)
    assert q[1][1] == ["ragged-row"]
    assert json.loads(q[1][2])["_raw"] == "S3;Opéra;48,8719;2,3316;110101001001;en travaux"


def test_sqlite_table_incremental_and_full_refresh(tmp_path, monkeypatch):
    import sqlite3

    db = tmp_path / "transit.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE lines (line_no TEXT PRIMARY KEY, title TEXT, mode TEXT, changed TEXT)")
        con.executemany("INSERT INTO lines VALUES (?, ?, ?, ?)",
                        [("L1", "Ring", "3", "2026-05-01 08:00:00"), ("L2", "Airport", "1", "2026-05-02 09:00:00")])
    yaml_path = tmp_path / "lines.yaml"
    yaml_path.write_text(f"""
id: city_lines
department: transport
entity: transit_route
connector:
  kind: sql_table
  url: "sqlite:///{db}"
  table: lines
  key: line_no
  cursor: changed
  incremental: true
fields:
  route_id: line_no
  route_name: title
  route_type_code: mode
""", encoding="utf-8")
    sync_in_process(tmp_path, yaml_path, monkeypatch)
    with sqlite3.connect(db) as con:
        con.execute("INSERT INTO lines VALUES ('L3', 'Harbour', '4', '2026-05-02 09:00:00')")  # same last value
    sync_in_process(tmp_path, yaml_path, monkeypatch)
    out = sync(tmp_path, yaml_path, "--full-refresh")
    assert out.returncode == 0, out.stderr
    with warehouse(tmp_path) as con:
        ledger = con.execute("SELECT extracted, loaded, unchanged FROM meta.ledger ORDER BY started_at").fetchall()
        routes = con.execute("SELECT route_id FROM std.transit_route ORDER BY 1").fetchall()
    # 2 new; L2 again (>= last value minus the lookback) and L3; everything, all unchanged
    assert ledger == [(2, 2, 0), (2, 1, 1), (3, 0, 3)]
    assert routes == [("L1",), ("L2",), ("L3",)]


def test_fhir_ndjson_with_a_broken_line(tmp_path, monkeypatch):
    lines = [
        {"resourceType": "Observation", "id": "o1", "subject": {"identifier": {"value": "11010519491231002X"}},
         "code": {"coding": [{"code": "8480-6"}]}, "effectiveDateTime": "2026-05-30T08:00:00+08:00",
         "valueQuantity": {"value": 120, "unit": "mmHg"}},
        "{truncated",
        {"resourceType": "Patient", "id": "p1"},
    ]
    path = tmp_path / "Observation.ndjson"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    yaml_path = tmp_path / "obs.yaml"
    yaml_path.write_text(f"""
id: clinic_observations
department: health
entity: health_observation
connector: {{kind: fhir_bulk, path: "{path}", resource_type: Observation}}
fields:
  observation_id: {{json: "$.id"}}
  person_key: {{json: "$.subject.identifier.value", pseudonymize: person}}
  observation_code: {{json: "$.code.coding[0].code"}}
  observed_at: {{json: "$.effectiveDateTime"}}
  value: {{json: "$.valueQuantity.value"}}
  unit: {{json: "$.valueQuantity.unit"}}
""", encoding="utf-8")
    sync_in_process(tmp_path, yaml_path, monkeypatch)
    with warehouse(tmp_path) as con:
        assert con.execute("SELECT extracted, loaded, quarantined FROM meta.ledger").fetchall() == [(3, 1, 2)]
        q = con.execute("SELECT source_row, rules FROM meta.quarantine ORDER BY 1").fetchall()
    assert [(row, "not-json" in rules or "not-fhir" in rules) for row, rules in q] == [
        ("Observation.ndjson:2", True), ("Observation.ndjson:3", True)]
    assert "not-json" in q[0][1] and "not-fhir" in q[1][1]
