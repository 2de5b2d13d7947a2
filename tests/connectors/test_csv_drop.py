"""csv_drop on the generated employment drop (GB18030, Chinese headers) and on small hand-made files."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from connectors import CsvDrop, SourceError, connector
from tests.connectors.conftest import NEXT, NIGHT, read_batches, read_table

REGISTRATION = "就业登记_20260601.csv"
HEADER = ["登记编号", "身份证号", "姓名", "性别", "登记日期", "终止日期", "单位名称", "行业代码", "职业代码", "用工形式", "社区代码"]


def employment(departments, **extra) -> CsvDrop:
    options = {"folder": str(departments / "employment" / "drop"), "pattern": "就业登记_{date:%Y%m%d}.csv",
               "encoding": "gb18030", **extra}
    return CsvDrop(source_id="employment_registration", options=options)


@pytest.fixture(scope="module")
def registrations(demo):
    departments, truth = demo
    return read_table(employment(departments)), truth["sources"]["employment_registration"], departments


def test_chinese_headers_decoded(registrations):
    table, _, _ = registrations
    assert table.column_names == HEADER + ["_reject", "_raw", "_source_row"]


def test_row_count_matches_truth(registrations):
    table, truth, _ = registrations
    assert table.num_rows == truth["rows"] > 0


def test_source_rows_are_file_and_line_from_2(registrations):
    table, _, _ = registrations
    assert table.column("_source_row").to_pylist() == [f"{REGISTRATION}:{n}" for n in range(2, table.num_rows + 2)]


def test_every_column_is_text_with_no_nulls(registrations):
    table, _, _ = registrations
    for name in table.column_names:
        assert str(table.schema.field(name).type) == "string", name
        # _reject and _raw are null on every row the connector could read
        assert table.column(name).null_count == (table.num_rows if name in ("_reject", "_raw") else 0), name


def test_values_equal_python_csv_reading_of_the_gb18030_bytes(registrations):
    table, _, departments = registrations
    raw = (departments / "employment" / "drop" / REGISTRATION).read_bytes()
    header, *rows = list(csv.reader(io.StringIO(raw.decode("gb18030", errors="replace"), newline="")))
    assert header == HEADER
    got = [[r[h] for h in HEADER] for r in table.select(HEADER).to_pylist()]
    assert got == rows
    assert {r[3] for r in got} <= {"男", "女"} and {r[3] for r in got} != set()


def test_undecodable_byte_becomes_replacement_character_in_name_only(registrations):
    table, truth, departments = registrations
    bad = set(truth["defects"]["undecodable-bytes"])
    assert bad, "the demo seeds at least one undecodable byte"
    rows = table.to_pylist()
    with_fffd = {r["_source_row"] for r in rows if "\ufffd" in r["姓名"]}
    assert with_fffd == bad
    for r in rows:
        others = [v for k, v in r.items() if k != "姓名" and v and "\ufffd" in v]
        assert not others, r["_source_row"]
        if r["_source_row"] in bad:
            # 0xFF is one bad byte: one U+FFFD, the rest of the name decodes as Chinese characters
            assert r["姓名"].count("\ufffd") == 1
            assert all("\u4e00" <= ch <= "\u9fff" for ch in r["姓名"].replace("\ufffd", ""))
            assert len(r["身份证号"]) == 18
    # and the raw file really has the byte on that line
    lines = (departments / "employment" / "drop" / REGISTRATION).read_bytes().split(b"\r\n")
    for source_row in bad:
        assert b"\xff" in lines[int(source_row.rsplit(":", 1)[1]) - 1]


def test_small_batches_give_same_rows(demo, registrations):
    departments, _ = demo
    whole, _, _ = registrations
    assert read_table(employment(departments, batch_rows=7)).to_pylist() == whole.to_pylist()


def test_missing_drop_names_source_and_file(demo):
    departments, _ = demo
    missing = departments / "employment" / "drop" / "就业登记_20260602.csv"
    with pytest.raises(SourceError) as err:
        read_batches(employment(departments), NEXT, NEXT + dt.timedelta(days=1))
    assert "employment_registration" in str(err.value)
    assert str(missing) in str(err.value)


def test_interval_with_one_missing_night_fails_before_yielding(demo):
    departments, _ = demo
    batches = employment(departments).read(NIGHT, NIGHT + dt.timedelta(days=2))
    with pytest.raises(SourceError, match="就业登记_20260602.csv"):
        next(batches)


def test_unknown_encoding(demo):
    departments, _ = demo
    with pytest.raises(SourceError, match="gb9999") as err:
        read_batches(employment(departments, encoding="gb9999"))
    assert "employment_registration" in str(err.value)


def test_connector_factory_builds_csv_drop(demo):
    departments, truth = demo
    conn = connector("employment_registration", "csv_drop", employment(departments).options)
    assert isinstance(conn, CsvDrop)
    assert read_table(conn).num_rows == truth["sources"]["employment_registration"]["rows"]
    with pytest.raises(SourceError, match="employment_registration.*csv_dropp"):
        connector("employment_registration", "csv_dropp", {})


# --- hand-made files -------------------------------------------------------------------------------------------


def drop(tmp_path, name: str, data: bytes, **extra) -> CsvDrop:
    (tmp_path / name).write_bytes(data)
    return CsvDrop(source_id="t", options={"folder": str(tmp_path), "pattern": name, **extra})


def row(values: dict, line: str, reject: str | None = None, raw: str | None = None) -> dict:
    return {**values, "_reject": reject, "_raw": raw, "_source_row": line}


def test_short_rows_are_rejected_as_ragged(tmp_path):
    table = read_table(drop(tmp_path, "short.csv", b"a,b,c\n1,2,3\n4,5\n6\n"))
    assert table.to_pylist() == [
        row({"a": "1", "b": "2", "c": "3"}, "short.csv:2"),
        row({"a": "4", "b": "5", "c": ""}, "short.csv:3", "ragged-row", "4,5"),
        row({"a": "6", "b": "", "c": ""}, "short.csv:4", "ragged-row", "6"),
    ]


def test_short_rows_padded_where_the_yaml_says_so(tmp_path):
    table = read_table(drop(tmp_path, "short.csv", b"a,b,c\n1,2,3\n4,5\n6\n", short_rows="pad"))
    assert table.to_pylist() == [
        row({"a": "1", "b": "2", "c": "3"}, "short.csv:2"),
        row({"a": "4", "b": "5", "c": ""}, "short.csv:3"),
        row({"a": "6", "b": "", "c": ""}, "short.csv:4"),
    ]


def test_long_row_is_rejected_with_every_field_kept(tmp_path):
    table = read_table(drop(tmp_path, "long.csv", b"a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n"))
    assert table.column("_reject").to_pylist() == [None, "ragged-row", None]
    assert table.column("_raw").to_pylist() == [None, "4,5,6,7", None]
    assert table.column("a").to_pylist() == ["1", "4", "8"]
    assert table.column("_source_row").to_pylist() == ["long.csv:2", "long.csv:3", "long.csv:4"]


def test_line_numbers_are_physical_across_quoted_newlines_and_blank_lines(tmp_path):
    data = b'a,b\r\n1,"two\r\nlines"\r\n\r\n3,"x\ny\nz"\r\n4,four\r\n\r\n'
    table = read_table(drop(tmp_path, "multi.csv", data))
    assert table.column("_source_row").to_pylist() == ["multi.csv:2", "multi.csv:4", "multi.csv:5", "multi.csv:8"]
    assert table.column("_reject").to_pylist() == [None, "blank-line", None, None]
    assert table.column("b").to_pylist() == ["two\r\nlines", "", "x\ny\nz", "four"]


def test_lone_cr_line_endings(tmp_path):
    table = read_table(drop(tmp_path, "mac.csv", b'a,b\r1,"x\ry"\r2,z\r'))
    assert table.column("a").to_pylist() == ["1", "2"]
    assert table.column("_source_row").to_pylist() == ["mac.csv:2", "mac.csv:4"]


def test_preamble_footer_second_header_and_decimal_commas(tmp_path):
    data = "统计表\n单位：万元\n地区;收入;人口\n;元;人\n甲;1.234,5;12\n乙;7,25;3\n注：数据为初步核算\n来源：统计局\n"
    table = read_table(drop(tmp_path, "t.csv", data.encode("gb18030"), header_rows=2, footer_rows=2, delimiter=";",
                            decimal_comma=["收入 元"]))
    assert table.column_names[:3] == ["地区", "收入 元", "人口 人"]
    assert table.column("收入 元").to_pylist() == ["1234.5", "7.25", "", ""]
    assert table.column("_reject").to_pylist() == [None, None, "footer-row", "footer-row"]
    assert table.column("_source_row").to_pylist() == ["t.csv:5", "t.csv:6", "t.csv:7", "t.csv:8"]


def test_duplicate_and_blank_headers_renamed(tmp_path):
    conn = drop(tmp_path, "h.csv", b"id,name,,name,id\n1,a,b,c,d\n")
    table = read_table(conn)
    assert table.column_names[:5] == ["id", "name", "column_3", "name_2", "id_2"]
    assert conn.reports[0].notes == [
        "header 3 is blank: named column_3", "header 4 repeats 'name': named name_2", "header 5 repeats 'id': named id_2"
    ]


def test_header_only_file_without_newline_gives_no_rows(tmp_path):
    assert read_table(drop(tmp_path, "header.csv", b"a,b,c")).num_rows == 0


def test_short_row_after_many_batches_keeps_every_row_once(tmp_path):
    n = 100_000
    body = "".join(f"{i},x{i},y{i}\r\n" for i in range(n))
    batches = read_batches(drop(tmp_path, "big.csv", f"a,b,c\r\n{body}{n},short\r\n".encode(), batch_rows=30_000))
    assert [b.num_rows for b in batches] == [30_000, 30_000, 30_000, 10_001]
    table = read_table(drop(tmp_path, "big.csv", f"a,b,c\r\n{body}{n},short\r\n".encode()))
    assert table.num_rows == n + 1
    assert table.column("a").to_pylist() == [str(i) for i in range(n + 1)]
    assert table.column("_source_row").to_pylist() == [f"big.csv:{line}" for line in range(2, n + 3)]
    assert table.slice(n).to_pylist()[0] == row({"a": str(n), "b": "short", "c": ""}, f"big.csv:{n + 2}",
                                                "ragged-row", f"{n},short")


def test_delimiter_option(tmp_path):
    table = read_table(drop(tmp_path, "semi.csv", "编号;名称\n1;西湖\n".encode("gb18030"), delimiter=";", encoding="gb18030"))
    assert table.to_pylist() == [row({"编号": "1", "名称": "西湖"}, "semi.csv:2")]


def test_connector_modules_are_imported_only_for_their_kind():
    import subprocess
    import sys

    script = (
        "import sys; from connectors import connector; "
        "c = connector('s', 'csv_drop', {'folder': '.', 'pattern': 'x'}); "
        "print(type(c).__name__, 'connectors.sql_table' in sys.modules, 'sqlalchemy' in sys.modules, "
        "'httpx' in sys.modules); from connectors import SqlTable; print(SqlTable.kind)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["CsvDrop", "False", "False", "False", "sql_table"]
