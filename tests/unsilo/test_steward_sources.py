"""``unsilo sync PATH_TO_YAML`` for a YAML a steward writes for a file the project has never seen, one per connector
kind, run as a user runs it (a subprocess). Rows a connector rejects land in quarantine with their reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.night_fixture import KEY

UNSILO = Path(sys.executable).with_name("unsilo")
NIGHT = "2026-06-01"


def sync(home: Path, yaml_path: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, UNSILO_HOME=str(home), UNSILO_PSEUDONYM_KEY=KEY, COLUMNS="200")
    env.pop("UNSILO_WAREHOUSE", None)
    return subprocess.run([str(UNSILO), "sync", str(yaml_path), "--start", NIGHT, *extra], env=env,
                          capture_output=True, text=True, timeout=180)


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
