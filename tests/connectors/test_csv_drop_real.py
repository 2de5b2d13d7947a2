"""csv_drop on real third-party files in ../shared/data/real (see its PROVENANCE.md)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from connectors import CsvDrop, SourceError
from tests.connectors.conftest import read_table


def one_file(path: Path, encoding: str = "utf-8", **extra) -> CsvDrop:
    """A connector pointed at exactly one real file (the name has no braces, so the pattern is the name)."""
    return CsvDrop(source_id="t", options={"folder": str(path.parent), "pattern": path.name, "encoding": encoding, **extra})


def csv_records(path: Path, encoding: str) -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as f:
        return [r for r in csv.reader(f) if r]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_gbk_stock_names_decode(real, encoding):
    path = real / "badcsv" / "gbk" / "gbk.csv"
    table = read_table(one_file(path, encoding))
    header, *records = csv_records(path, "gbk")
    assert table.column_names == ["sym", "name", "_reject", "_raw", "_source_row"]
    names = table.column("name").to_pylist()
    assert table.num_rows == len(records) == 20
    assert names[0] == "中国宝安"
    assert "苏常柴Ａ" in names  # full-width Ａ (U+FF21)
    assert "*ST东电" in names
    assert names[-1] == "三变科技"
    assert not any("\ufffd" in n for n in names)
    assert table.column("sym").to_pylist()[0] == "000009.SZ"
    assert table.column("_source_row").to_pylist()[-1] == "gbk.csv:21"


def test_gbk_file_read_as_utf8_is_replaced_not_fatal(real):
    # a wrong declared encoding does not crash: the undecodable bytes become U+FFFD, row by row
    table = read_table(one_file(real / "badcsv" / "gbk" / "gbk.csv", "utf-8"))
    assert table.num_rows == 20
    assert all("\ufffd" in n for n in table.column("name").to_pylist())


def test_nbs_export_preamble_found_and_footer_rejected(real):
    # 3 metadata lines (数据库/指标/时间) above the header, a note and a source line below the table
    path = real / "badcsv" / "gbk" / "分省年度数据.csv"
    conn = one_file(path, "auto")  # encoding detected
    table = read_table(conn)
    header, *records = [r for r in csv_records(path, "gbk")][3:]
    assert conn.reports[0].encoding == "gb18030"
    assert table.column_names[:2] == ["地区", "2024年"] and header[0] == "地区"
    assert table.num_rows == len(records) == 33
    rejected = [(r["_source_row"], r["_reject"]) for r in table.to_pylist() if r["_reject"]]
    assert rejected == [("分省年度数据.csv:36", "ragged-row"), ("分省年度数据.csv:37", "ragged-row")]
    assert [n.split(":")[0] for n in conn.reports[0].notes] == ["line 1", "line 2", "line 3"]
    # declared as footer, the same two lines are footer rows
    footer = read_table(one_file(path, "gbk", footer_rows=2))
    assert [r for r in footer.column("_reject").to_pylist() if r] == ["footer-row", "footer-row"]
    assert footer.column("地区").to_pylist()[0] == records[0][0]


def test_utf8_bom_stripped_from_first_header(real):
    table = read_table(one_file(real / "badcsv" / "csvkit" / "test_utf8_bom.csv", "utf-8"))
    assert table.column_names == ["foo", "bar", "baz", "_reject", "_raw", "_source_row"]
    assert table.select(["foo", "bar", "baz", "_source_row"]).to_pylist() == [
        {"foo": "1", "bar": "2", "baz": "3", "_source_row": "test_utf8_bom.csv:2"},
        {"foo": "4", "bar": "5", "baz": "ʤ", "_source_row": "test_utf8_bom.csv:3"},
    ]


def test_utf8_bom_chinese_headers(real):
    path = real / "employment" / "china-nbs" / "失业率.csv"
    table = read_table(one_file(path, "utf-8"))
    header, *records = csv_records(path, "utf-8-sig")
    assert table.column_names[:3] == ["指标", "2022年", "2021年"]
    assert table.column_names == header + ["_reject", "_raw", "_source_row"]
    assert table.column("指标").to_pylist() == ["城镇登记失业人数(万人)", "城镇登记失业率(%)"]
    assert [[r[h] for h in header] for r in table.to_pylist()] == records


def test_bls_table_with_left_out_trailing_fields(real):
    # 1941..2010 rows end with an empty 'footnotes' field; 2011.. rows leave it out (11 fields under 12 headers)
    path = real / "employment" / "bls-employment-us" / "aat1.csv"
    header, *records = csv_records(path, "utf-8")
    rejected = read_table(one_file(path, "utf-8"))  # by default a short row is a ragged row
    assert rejected.column("_reject").to_pylist() == [None] * 71 + ["ragged-row"] * 14
    table = read_table(one_file(path, "utf-8", short_rows="pad"))  # what a steward declares for this file
    assert table.num_rows == len(records) == 85
    assert {len(r) for r in records} == {11, 12}
    assert table.column("year").to_pylist() == [r[0] for r in records]
    assert table.column("year").to_pylist()[-1] == "2024"
    assert table.column("_reject").null_count == 85
    assert table.column("agrictulture_ratio").to_pylist() == [r[6] for r in records]
    assert table.column("footnotes").to_pylist() == [(r + [""])[11] for r in records]
    assert table.column("_source_row").to_pylist() == [f"aat1.csv:{n}" for n in range(2, 87)]


def test_bls_archive_crlf(real):
    path = real / "employment" / "bls-employment-us" / "aat1_archive_crlf.csv"
    header, *records = csv_records(path, "utf-8")
    table = read_table(one_file(path, "utf-8"))
    assert table.num_rows == len(records)
    assert [[r[h] for h in header] for r in table.to_pylist()] == records
    assert not any("\r" in v for v in table.column("footnotes").to_pylist())


def test_file_for_another_night_is_missing(real):
    conn = CsvDrop(source_id="t", options={"folder": str(real / "badcsv" / "gbk"), "pattern": "gbk_{date:%Y%m%d}.csv"})
    with pytest.raises(SourceError, match="gbk_20260601.csv"):
        read_table(conn, dt.date(2026, 6, 1), dt.date(2026, 6, 2))
