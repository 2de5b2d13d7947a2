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
    assert table.column_names == HEADER + ["_source_row"]


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
        assert table.column(name).null_count == 0, name


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
        others = [v for k, v in r.items() if k != "姓名" and "\ufffd" in v]
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


def test_short_rows_are_padded_with_empty_fields(tmp_path):
    table = read_table(drop(tmp_path, "short.csv", b"a,b,c\n1,2,3\n4,5\n6\n"))
    assert table.to_pylist() == [
        {"a": "1", "b": "2", "c": "3", "_source_row": "short.csv:2"},
        {"a": "4", "b": "5", "c": "", "_source_row": "short.csv:3"},
        {"a": "6", "b": "", "c": "", "_source_row": "short.csv:4"},
    ]


def test_long_row_is_a_source_error_naming_the_file(tmp_path):
    with pytest.raises(SourceError, match=r"source t: .*long\.csv.*record 3 has 4 fields"):
        read_batches(drop(tmp_path, "long.csv", b"a,b,c\n1,2,3\n4,5,6,7\n"))


def test_header_only_file_without_newline_gives_no_rows(tmp_path):
    assert read_table(drop(tmp_path, "header.csv", b"a,b,c")).num_rows == 0


def test_short_row_after_the_first_block_keeps_every_row_once(tmp_path, monkeypatch):
    # Several MiB of full rows, so Arrow yields batches before it meets the short row at the end and the
    # csv-module fallback must resume after them: no row lost, none repeated.
    import connectors.csv_drop as csv_drop

    resumed = []
    padded = csv_drop.read_padded

    def spy(*args, **kwargs):
        resumed.append(kwargs["done"])
        return padded(*args, **kwargs)

    monkeypatch.setattr(csv_drop, "read_padded", spy)
    n = 250_000
    body = "".join(f"{i},x{i},y{i}\r\n" for i in range(n))
    table = read_table(drop(tmp_path, "big.csv", f"a,b,c\r\n{body}{n},short\r\n".encode()))
    assert resumed and 0 < resumed[0] < n, "the fallback did not resume mid-file"
    assert table.num_rows == n + 1
    assert table.column("a").to_pylist() == [str(i) for i in range(n + 1)]
    assert table.column("_source_row").to_pylist() == [f"big.csv:{line}" for line in range(2, n + 3)]
    assert table.slice(n).to_pylist()[0] == {"a": str(n), "b": "short", "c": "", "_source_row": f"big.csv:{n + 2}"}


def test_delimiter_option(tmp_path):
    table = read_table(drop(tmp_path, "semi.csv", "编号;名称\n1;西湖\n".encode("gb18030"), delimiter=";", encoding="gb18030"))
    assert table.to_pylist() == [{"编号": "1", "名称": "西湖", "_source_row": "semi.csv:2"}]
