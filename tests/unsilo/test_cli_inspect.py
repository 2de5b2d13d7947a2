"""``unsilo inspect PATH``, run as a steward runs it, on real files in ../shared/data/real and on broken input."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import unavailable

UNSILO = Path(sys.executable).with_name("unsilo")
REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


@pytest.fixture(scope="module")
def real() -> Path:
    if not REAL.is_dir():
        unavailable(f"real data folder ../shared/data/real is absent (looked in {REAL})")
    return REAL


def inspect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(UNSILO), "inspect", *args], capture_output=True, text=True, timeout=60)


def as_json(*args: str) -> dict:
    out = inspect(*args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_gbk_export_with_preamble_and_footer(real):
    report = as_json(str(real / "badcsv" / "gbk" / "分省年度数据.csv"))
    assert {k: report[k] for k in ("kind", "encoding", "rows_read", "rows_ok", "rows_rejected", "reasons")} == {
        "kind": "csv", "encoding": "gb18030", "rows_read": 33, "rows_ok": 31, "rows_rejected": 2,
        "reasons": {"ragged-row": 2},
    }
    assert report["first_rejects"] == {"ragged-row": ["分省年度数据.csv:36", "分省年度数据.csv:37"]}
    assert report["columns"][:2] == ["地区", "2024年"] and report["delimiter"] == ","


def test_utf16_and_semicolons_detected(real):
    assert as_json(str(real / "badcsv" / "csvkit" / "test_utf16_little.csv"))["encoding"] == "utf-16"
    report = as_json(str(real / "badcsv" / "frictionless" / "delimiter.csv"))
    assert report["delimiter"] == ";" and report["rows_ok"] == 2


def test_demo_gb18030_drop_read_as_the_sync_reads_it(tmp_path):
    """Issue 12: inspect read the demo's 就业登记 drop as cp1252 (garbled headers, 0 rejected); sync declares
    gb18030. The drop holds seeded stray bytes, so no code page decodes it whole: the decision tolerates them."""
    from unsilo.demo import generate

    generate(tmp_path, people=200)
    drop = sorted((tmp_path / "departments" / "employment" / "drop").glob("就业登记_*.csv"))[0]
    report = as_json(str(drop))
    assert report["encoding"] == "gb18030" and report["columns"][:2] == ["登记编号", "身份证号"]
    assert report["encoding_how"].startswith("detected despite") and report["rows_undecodable"] >= 1
    out = inspect(str(drop))
    assert out.returncode == 0 and "gb18030 (detected despite" in out.stdout and "登记编号" in out.stdout


def test_second_header_row_reported(real):
    report = as_json(str(real / "housing" / "taiwan-lvr" / "a_lvr_land_a.csv"))
    assert report["header_lines"] == 2 and report["header_line"] == 1
    assert report["columns"][0] == "鄉鎮市區 The villages and towns urban district"
    assert report["rows_read"] == report["rows_ok"] == 289
    assert any("header_rows: 2" in n for n in report["notes"])
    assert report["encoding"] == "utf-8-sig" and report["encoding_how"] == "byte order mark"


def test_gtfs_feed_names_each_files_encoding(real):
    report = as_json(str(real / "transport" / "transitfeed-tests" / "utf8bom"))
    assert report["encoding"] == "utf-8, utf-8-sig"
    assert report["files"]["agency.txt"]["encoding"] == "utf-8-sig"
    assert report["files"]["calendar.txt"]["encoding"] == "utf-8"
    assert as_json(str(real / "transport" / "transitfeed-tests" / "utf16"))["encoding"] == "utf-16"


def test_fhir_folder_counts_resources_and_the_broken_file(real):
    report = as_json(str(real / "health" / "fhir-validator-cases"))
    assert report["kind"] == "fhir"
    assert report["reasons"] == {"not-json": 1} and report["rows_ok"] == report["rows_read"] - 1 == 3


def test_gtfs_feed_lists_its_files(real):
    report = as_json(str(real / "transport" / "google-sample-feed-1.zip"))
    assert report["kind"] == "gtfs"
    assert report["files"]["stops.txt"]["rows"] == 9
    assert "stop_id" in report["columns"]


def test_sqlite_tables(tmp_path):
    db = tmp_path / "housing.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE units (unit_id TEXT, area REAL)")
        con.executemany("INSERT INTO units VALUES (?, ?)", [("u1", 50.0), ("u2", 71.5)])
    report = as_json(str(db))
    assert report["kind"] == "sql" and report["tables"] == {"units": {"rows": 2, "columns": ["unit_id", "area"]}}


def test_human_output_names_reasons_and_lines(real):
    out = inspect(str(real / "badcsv" / "frictionless" / "invalid.csv"))
    assert out.returncode == 0, out.stderr
    assert "ragged-row" in out.stdout and "invalid.csv:2" in out.stdout and "blank-line" in out.stdout


@pytest.mark.parametrize("name, data, problem", [
    ("missing.csv", None, "no such file"),
    ("feed.zip", b"PK\x03\x04 not really", "zip"),
    ("h.db", b"SQLite format 3\x00garbage" * 10, "not a database"),
])
def test_unreadable_input_exits_2_with_one_line(tmp_path, name, data, problem):
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    out = inspect(str(path), *(["--kind", "gtfs"] if path.suffix == ".zip" else []))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and problem in lines[0], out.stderr
    assert "Traceback" not in out.stderr
