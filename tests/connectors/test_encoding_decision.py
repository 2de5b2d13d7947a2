"""One encoding decision (issue 12, item 5): ``unsilo inspect`` and the CSV connector decide a file's encoding with
the same function (connectors/encoding.py) and agree, on every real file under ../shared/data/real, on the demo's
GB18030 drop (one stray 0xFF byte: inspect used to say cp1252) and on Shift-JIS, Big5, EUC-KR and UTF-16 without a
byte order mark generated here; a second header row (Taiwan's land-price export) is found."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pytest
import yaml

from connectors import CsvDrop
from connectors.base import ReadAgain
from connectors.csv_read import CsvLayout, CsvReport, csv_read
from connectors.encoding import SAMPLE, EncodingError, decide, file_encoding
from tests.connectors.conftest import REAL, read_table
from unsilo.inspect_path import inspect_path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("badcsv", "employment", "housing", "transport/transitfeed-tests")
REAL_FILES = sorted(
    str(p.relative_to(REAL)) for d in FOLDERS if (REAL / d).is_dir() for p in (REAL / d).rglob("*")
    if p.is_file() and p.suffix.lower() in (".csv", ".txt")
)
TAIWAN = "housing/taiwan-lvr/a_lvr_land_a.csv"

# What each named file is, by its provenance (../shared/data/real/PROVENANCE.md) and by reading it, and the rule
# that finds it.
EXPECTED = {
    "badcsv/gbk/gbk.csv": ("gb18030", "detected"),  # GBK stock names, read with its superset
    "badcsv/gbk/分省年度数据.csv": ("gb18030", "detected"),  # China NBS export, GBK, 3 preamble lines
    "employment/china-nbs/失业率.csv": ("utf-8-sig", "byte order mark"),
    TAIWAN: ("utf-8-sig", "byte order mark"),  # Traditional Chinese, but UTF-8 with BOM (not Big5)
    "badcsv/csvkit/test_utf16_big.csv": ("utf-16", "byte order mark"),
    "badcsv/csvkit/test_utf16_little.csv": ("utf-16", "byte order mark"),
    "badcsv/csvkit/test_utf8_bom.csv": ("utf-8-sig", "byte order mark"),
    "badcsv/frictionless/bom.csv": ("utf-8-sig", "byte order mark"),
    "badcsv/csv-spectrum/utf8.csv": ("utf-8", "valid UTF-8"),
    "badcsv/frictionless/ascii-notvalid.csv": ("utf-8", "valid UTF-8"),
    "badcsv/csvkit/test_latin1.csv": ("cp1252", "detected"),  # ISO-8859-1: cp1252 reads it the same
    "badcsv/frictionless/latin1.csv": ("cp1252", "detected"),
    "badcsv/frictionless/table-with-accents.csv": ("cp1252", "detected"),  # charset-normalizer alone: cp1250
    "transport/transitfeed-tests/utf16/stops.txt": ("utf-16", "byte order mark"),  # big-endian with BOM
    "transport/transitfeed-tests/utf8bom/agency.txt": ("utf-8-sig", "byte order mark"),
    "transport/transitfeed-tests/utf8bom/calendar.txt": ("utf-8", "ASCII only"),
    # bytes cut out of UTF-8 ('\xec' alone): not UTF-8 on its own; as a GTFS feed it is declared UTF-8 (below)
    "transport/transitfeed-tests/bad_utf8/agency.txt": ("cp1252", "detected"),
    "transport/transitfeed-tests/contains_null/stops.txt": ("utf-8", "valid UTF-8"),
}


def connector(path: Path, **options) -> CsvDrop:
    return CsvDrop(source_id="t", options={"folder": str(path.parent), "pattern": path.name, **options})


def connector_report(path: Path, **options) -> tuple[CsvReport, int]:
    conn = connector(path, **options)
    table = read_table(conn)
    return conn.reports[0], table.num_rows


@pytest.mark.parametrize("name", REAL_FILES)
def test_inspect_and_the_connector_agree_on_every_real_file(real, name):
    path = real / name
    report, rows = connector_report(path)
    seen = inspect_path(str(path), "csv")
    assert (seen["encoding"], seen["encoding_how"]) == (report.encoding, report.encoding_how)
    assert seen["delimiter"] == report.delimiter
    if report.header_lines_found == report.header_lines:  # inspect reads a second header row as header
        assert seen["columns"] == report.columns and seen["rows_read"] == rows
    # every codec named is one Python reads the whole file with
    assert path.read_bytes().decode(report.encoding, errors="replace") is not None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_real_files_are_recognised(real, name):
    path = real / name
    decision = file_encoding(lambda: path.open("rb"))
    assert (decision.encoding, decision.how) == EXPECTED[name]
    text = path.read_bytes().decode(decision.encoding)  # strictly: nothing lost
    assert "\ufffd" not in text


def test_corpus_is_there():
    assert len(REAL_FILES) >= 100 or not REAL.is_dir()
    assert set(EXPECTED) <= set(REAL_FILES) or not REAL.is_dir()


def test_only_the_taiwan_export_has_a_second_header_row(real):
    found = [name for name in REAL_FILES if _sniffed_header_lines(real / name) == 2]
    assert found == [TAIWAN]


def _sniffed_header_lines(path: Path) -> int:
    from connectors.csv_read import csv_sniff

    return csv_sniff(lambda: path.open("rb"), CsvLayout()).header_lines


# --- the demo's own drops --------------------------------------------------------------------------------------


def demo_drops(demo) -> list[Path]:
    departments, _ = demo
    drops = sorted((departments / "employment" / "drop").glob("*.csv"))
    assert drops, "the demo writes employment drops"
    return drops


def declared(source_yaml: str) -> str:
    return yaml.safe_load((ROOT / "sources" / source_yaml).read_text(encoding="utf-8"))["connector"]["encoding"]


def test_demo_drop_inspect_reads_what_sync_reads(demo):
    """The symptom: inspect read 就业登记 as cp1252 (garbled headers) while sync, declaring gb18030, read GB18030."""
    for path in demo_drops(demo):
        source = "employment_registration.yaml" if path.name.startswith("就业") else "employment_unemployment.yaml"
        sync_report, sync_rows = connector_report(path, encoding=declared(source))
        seen = inspect_path(str(path))
        assert seen["encoding"] == sync_report.encoding == codecs.lookup(declared(source)).name == "gb18030"
        assert seen["columns"] == sync_report.columns and "登记编号" in seen["columns"]
        assert seen["rows_read"] == sync_rows
        table = read_table(connector(path, encoding=declared(source)))
        broken = sum(any("\ufffd" in (v or "") for v in row.values()) for row in table.to_pylist())
        assert seen["rows_undecodable"] == broken


def test_demo_stray_byte_is_tolerated(demo):
    path = next(p for p in demo_drops(demo) if b"\xff" in p.read_bytes())  # the demo seeds undecodable bytes
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("gb18030")
    decision = file_encoding(lambda: path.open("rb"))
    assert decision.encoding == "gb18030" and decision.undecodable >= 1
    assert decision.how.startswith("detected despite")


# --- generated inputs: CJK code pages, UTF-16 without BOM, ASCII heads, large files -----------------------------

JAPANESE = "氏名,フリガナ,住所,電話番号,登録日\n" + "".join(
    f"山田{i}郎,ヤマダタロウ,東京都千代田区丸の内{i}丁目,03-1234-{i:04d},2024年4月{i % 28 + 1}日\n" for i in range(1, 40)
)
KOREAN = "이름,주소,전화\n" + "".join(f"김민수{i},서울특별시 종로구 세종대로 {i},02-123-{i:04d}\n" for i in range(40))
CHINESE = "登记编号,姓名,单位名称,社区代码\n" + "".join(
    f"JY{i:010d},王安志,杭州恒生物流有限公司,330106001004\n" for i in range(60)
)


def taiwan_text(real: Path, lines: int = 60) -> str:
    text = (real / TAIWAN).read_text(encoding="utf-8-sig")
    return "\n".join(text.splitlines()[:lines]) + "\n"


def check(tmp_path: Path, name: str, data: bytes, codec: str, header: str, how: str | None = None) -> None:
    """The decision names ``codec``; the connector and inspect read the header right and agree."""
    path = tmp_path / name
    path.write_bytes(data)
    decision = file_encoding(lambda: path.open("rb"))
    assert decision.encoding == codec, decision
    if how:
        assert decision.how.startswith(how)
    report, rows = connector_report(path)
    assert report.encoding == codec and report.columns[0] == header
    seen = inspect_path(str(path))
    assert seen["encoding"] == codec and seen["columns"][0].split(" ")[0] == header
    assert seen["rows_read"] == rows - (seen["header_lines"] - 1) > 0  # inspect takes a second header row as one
    assert seen["rows_undecodable"] == 0


@pytest.mark.parametrize("text, codec", [(JAPANESE, "shift_jis"), (KOREAN, "euc_kr"), (CHINESE, "gb18030")])
def test_cjk_code_pages_are_recognised(tmp_path, text, codec):
    check(tmp_path, f"{codec}.csv", text.encode(codec), codec, text.split(",")[0], "detected")


def test_big5_is_recognised_on_taiwan_text(tmp_path, real):
    text = taiwan_text(real)
    check(tmp_path, "big5.csv", text.encode("big5", errors="ignore"), "big5", "鄉鎮市區", "detected")
    assert inspect_path(str(tmp_path / "big5.csv"))["header_lines"] == 2  # the English names below the Chinese


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", [JAPANESE, CHINESE, KOREAN])
def test_utf16_without_bom_is_recognised(tmp_path, codec, text):
    check(tmp_path, "u16.csv", text.encode(codec), codec, text.split(",")[0], "UTF-16 without byte order mark")


def test_declared_utf16_without_bom_picks_the_byte_order(tmp_path):
    assert decide(CHINESE.encode("utf-16-be"), "utf-16").encoding == "utf-16-be"
    assert decide(CHINESE.encode("utf-16-le"), "UTF16").encoding == "utf-16-le"
    assert decide(codecs.BOM_UTF16_BE + CHINESE.encode("utf-16-be"), "utf-16").encoding == "utf-16"


def test_declared_encoding_wins(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(CHINESE.encode("gb18030"))
    decision = file_encoding(lambda: path.open("rb"), "cp1252")
    assert (decision.encoding, decision.how) == ("cp1252", "declared")
    with pytest.raises(EncodingError):
        file_encoding(lambda: path.open("rb"), "gb9999")


ASCII_ROWS = "".join(f"JY{i:010d},330106197109135331,20050126,2011-03-19,G,6\n" for i in range(25_000))


def test_ascii_first_mib_then_gb18030_is_confirmed_by_reading_on(tmp_path):
    """Detection on the first MiB alone said UTF-8 (it is ASCII); the lines further down are GB18030."""
    head = "registration,name,started,ended,industry,occupation\n"  # ASCII, as the first 25,000 rows
    tail = "".join(f"JY{i:010d},王安志,杭州恒生物流有限公司,,G,6\n" for i in range(200))
    data = (head + ASCII_ROWS + tail).encode("gb18030")
    assert len(data) > SAMPLE and data[:SAMPLE].count(b"\n") > 1000
    path = tmp_path / "late.csv"
    path.write_bytes(data)
    decision = file_encoding(lambda: path.open("rb"))
    assert decision.encoding == "gb18030" and "on the lines holding non-ASCII bytes" in decision.how
    table = read_table(connector(path))
    names = table.column("name").to_pylist()
    assert names[-1] == "王安志" and not any("\ufffd" in n for n in names)


def test_ascii_file_larger_than_the_sample_is_read_to_the_end(tmp_path):
    path = tmp_path / "ascii.csv"
    path.write_bytes(("a,b,c,d,e,f\n" + ASCII_ROWS * 2).encode())
    decision = file_encoding(lambda: path.open("rb"))
    assert (decision.encoding, decision.how) == ("utf-8", "ASCII only (the whole file read)")


def test_large_gb18030_file_is_judged_on_whole_lines():
    rows = "".join(f"JY{i:010d},王安志{i},杭州恒生物流有限公司,330106001004\n" for i in range(40_000))
    cut_inside = []
    for shift in range(4):  # wherever the first MiB ends, inside a character or not
        data = (f"登记编号{'x' * shift},姓名,单位名称,社区代码\n" + rows).encode("gb18030")
        assert len(data) > 2 * SAMPLE
        try:
            data[:SAMPLE].decode("gb18030")
        except UnicodeDecodeError:
            cut_inside.append(shift)
        assert file_encoding(lambda: io.BytesIO(data)).encoding == "gb18030"
    assert cut_inside


def test_stray_byte_in_a_gb18030_or_utf8_file(tmp_path):
    gb = CHINESE.encode("gb18030").replace("王".encode("gb18030"), b"\xff", 1)
    decision = decide(gb)
    assert decision.encoding == "gb18030" and decision.undecodable >= 1
    assert decision.how.startswith("detected despite")
    utf8 = CHINESE.encode("utf-8").replace("王".encode("utf-8"), b"\xe9", 1)
    decision = decide(utf8)
    assert (decision.encoding, decision.how) == ("utf-8", "UTF-8 with a few undecodable bytes")


def test_a_few_accents_are_not_taken_for_cjk():
    assert decide("name,year\nAnnée,2020\nCafé,2021\n".encode("cp1252")).encoding == "cp1252"


def test_invalid_utf8_late_in_a_utf8_file_means_read_again(tmp_path):
    """The fast path's speculative read of a UTF-8 file still finds bytes that are not UTF-8 after its first
    batches (test_csv_fast's ASCII-only case is cp1252 now: the decision reads on to its one Latin-1 byte)."""
    rows = "".join(f"{i},名前{i},{i}.5\n" for i in range(150_000)).encode()
    path = tmp_path / "late.csv"
    path.write_bytes(b"id,name,amount\n" + rows + b"9,caf\xe9,1\n")
    assert file_encoding(lambda: path.open("rb")).encoding == "utf-8"
    with pytest.raises(ReadAgain):
        list(csv_read(lambda: path.open("rb"), path.name, CsvLayout(), 5_000))
    careful = read_table(connector(path))
    assert careful.num_rows == 150_001 and careful.column("name").to_pylist()[-1] == "caf\ufffd"


# --- a second header row --------------------------------------------------------------------------------------


def test_taiwan_second_header_row_is_found_and_taken_when_declared(real):
    path = real / TAIWAN
    default, rows = connector_report(path)
    assert (default.header_lines, default.header_lines_found) == (1, 2)
    assert any("line 2 is a second header row" in n and "header_rows: 2" in n for n in default.notes)
    declared_report, declared_rows = connector_report(path, header_rows=2)
    assert declared_rows == rows - 1 == 289
    assert declared_report.columns[0] == "鄉鎮市區 The villages and towns urban district"
    assert declared_report.columns[-1] == "編號 serial number" and len(declared_report.columns) == 28
    assert not any("second header" in n for n in declared_report.notes)
    seen = inspect_path(str(path))
    assert seen["header_lines"] == 2 and seen["columns"] == declared_report.columns
    assert seen["rows_read"] == 289 and seen["rows_rejected"] == 0


def test_second_header_row_below_a_preamble(tmp_path):
    text = ("数据库：分省年度数据\n地区,2024年,2023年\nregion,year 2024,year 2023\n北京市,49670.2,47353.7\n"
            "天津市,17931.3,17211.8\n")
    path = tmp_path / "p.csv"
    path.write_bytes(text.encode("gb18030"))
    report, _ = connector_report(path)
    assert report.header_lines_found == 2 and any("line 3 is a second header row" in n for n in report.notes)
    report, rows = connector_report(path, header_rows=2)
    assert report.columns == ["地区 region", "2024年 year 2024", "2023年 year 2023"] and rows == 2


@pytest.mark.parametrize("text", [
    "name,city\nAlice,Paris\nBob,Berlin\nCarol,Rome\n",  # all text: no column where numbers start below
    "id,amount\n1,2.5\n2,3.5\n",  # the first data row is numbers
    "id,amount\nNA,N/A\n2,3.5\n3,4.5\n",  # null tokens are not labels
    "a,b\nx,x\n1,2\n",  # repeated cells are not labels
])
def test_no_second_header_where_there_is_none(tmp_path, text):
    path = tmp_path / "n.csv"
    path.write_text(text, encoding="utf-8")
    report, _ = connector_report(path)
    assert report.header_lines_found == 1 and not any("second header" in n for n in report.notes)
