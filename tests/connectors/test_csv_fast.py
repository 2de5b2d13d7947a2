"""The Arrow fast path gives exactly what the exact csv-module path gives, or steps aside for it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from connectors.base import ReadAgain
from connectors.csv_fast import FastPathMiss
from connectors.csv_read import CsvLayout, CsvReport, csv_read
from unsilo.demo import generate

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
FOLDERS = ("badcsv", "employment", "housing")


def read(path: Path, fast: bool, layout: CsvLayout | None = None, batch_rows: int = 7, speculate: bool = True):
    report = CsvReport()
    try:
        tables = list(csv_read(lambda: path.open("rb"), path.name, layout or CsvLayout(), batch_rows, report, fast=fast,
                               speculate=speculate))
    except ReadAgain:  # as a connector does: once more, the careful way
        report = CsvReport()
        tables = list(csv_read(lambda: path.open("rb"), path.name, layout or CsvLayout(), batch_rows, report, fast=fast,
                               speculate=False))
    table = pa.concat_tables(tables) if tables else None
    return table, report


def spy_on_fast_path(monkeypatch) -> list[bool]:
    """Whether each fast-path read of csv_read ran to its end (True) or stepped aside (False)."""
    import connectors.csv_read as module

    taken: list[bool] = []
    real_fast = module.csv_fast

    def spy(*args, **kwargs):
        try:
            yield from real_fast(*args, **kwargs)
        except (FastPathMiss, ReadAgain):
            taken.append(False)
            raise
        taken.append(True)

    monkeypatch.setattr(module, "csv_fast", spy)
    return taken


def real_files() -> list[Path]:
    if not REAL.is_dir():
        return []
    return sorted(p for f in FOLDERS for p in (REAL / f).rglob("*") if p.suffix in (".csv", ".txt") and p.is_file())


@pytest.mark.parametrize("path", real_files(), ids=lambda p: str(p.relative_to(REAL)))
def test_fast_path_equals_exact_path_on_every_real_file(path):
    fast, fast_report = read(path, True)
    exact, exact_report = read(path, False)
    if fast is None or exact is None:
        assert fast is None and exact is None
        return
    assert fast.column_names == exact.column_names
    assert fast.to_pylist() == exact.to_pylist()
    assert (fast_report.encoding, fast_report.columns) == (exact_report.encoding, exact_report.columns)


def test_there_are_real_files():
    if not REAL.is_dir():
        from tests.services import unavailable

        unavailable("real data folder ../shared/data/real is absent")
    assert len(real_files()) > 30


def test_demo_drop_takes_the_fast_path_and_equals_the_exact_path(tmp_path, monkeypatch):
    generate(tmp_path, people=150)
    path = tmp_path / "departments" / "employment" / "drop" / "就业登记_20260601.csv"
    taken = spy_on_fast_path(monkeypatch)
    fast, _ = read(path, True, CsvLayout(encoding="gb18030"), batch_rows=50)
    exact, _ = read(path, False, CsvLayout(encoding="gb18030"), batch_rows=50)
    assert taken == [True] and fast.to_pylist() == exact.to_pylist()
    assert any("\ufffd" in (r["姓名"] or "") for r in fast.to_pylist())  # the seeded 0xFF byte, kept per row


@pytest.mark.parametrize(
    "text, fast_taken",
    [
        (b"a,b\n1,2\n3,4\n", True),
        (b"a,b\r\n1,2\r\n3,4", True),  # CRLF, no final line break
        (b"a,b\n1,2\n\n3,4\n", False),  # a blank line: the exact path rejects it with its line
        (b'a,b\n"1\n1",2\n3,4\n', False),  # a quoted value over two lines
        (b"a,b\n1,2,3\n3,4\n", False),  # a ragged row
        (b"a,b\r1,2\r3,4\r", False),  # old Mac line ends
        (b"a,b\n,\n3,4\n", True),  # a blank row is rejected on both paths
    ],
)
def test_fast_path_steps_aside_for_what_it_cannot_number_exactly(tmp_path, monkeypatch, text, fast_taken):
    path = tmp_path / "f.csv"
    path.write_bytes(text)
    taken = spy_on_fast_path(monkeypatch)
    fast, _ = read(path, True)
    exact, _ = read(path, False)
    assert fast.to_pylist() == exact.to_pylist()
    assert taken == [fast_taken]


@pytest.mark.parametrize(
    "text, copied",
    [
        ("a,b\n1,2\n3,4\n".encode(), False),  # clean UTF-8: read as it is, no transcoded copy
        ("名,值\n张三,2\n李四,4".encode(), False),
        (b"a,b\n1,\xff2\n3,4\n", True),  # invalid UTF-8: Arrow refuses it, the transcoded copy has U+FFFD
        (b"a,b\n1,\x002\n3,4\n", True),  # a NUL: transcoded to U+FFFD as on the exact path
    ],
)
def test_utf8_is_read_without_a_copy_unless_it_needs_replacing(tmp_path, monkeypatch, text, copied):
    import connectors.csv_fast as fast_module

    path = tmp_path / "f.csv"
    path.write_bytes(text)
    copies = []
    real = fast_module._transcode
    monkeypatch.setattr(fast_module, "_transcode", lambda *a: copies.append(1) or real(*a))
    fast, _ = read(path, True, CsvLayout(encoding="utf-8"))
    exact, _ = read(path, False, CsvLayout(encoding="utf-8"))
    assert fast.to_pylist() == exact.to_pylist()
    assert bool(copies) == copied


@pytest.mark.parametrize("piece", [1, 2, 3, 5])
@pytest.mark.parametrize("text", ["a\r\nb\r\n", "a\n\nb\n", "a\n\r\nb", "a\rb\n", "a\nb\r", "ab", "a\r\n\r\n"])
def test_line_count_is_the_same_however_the_text_is_cut(text, piece):
    from connectors.csv_fast import _Lines

    whole, pieces, as_bytes = _Lines(""), _Lines(""), _Lines(b"")
    whole.feed(text)
    for i in range(0, len(text), piece):
        pieces.feed(text[i:i + piece])
        as_bytes.feed(text[i:i + piece].encode())
    assert whole.result() == pieces.result() == as_bytes.result()
    lines, plain = whole.result()
    if plain:  # with a lone CR or a blank line the count is not used: the exact path reads the file
        assert lines == len(text.splitlines())
    assert plain == ("\r" not in text.replace("\r\n", "").removesuffix("\r") and "\n\n" not in text and "\n\r\n" not in text)


def big_export(rows: int, last: bytes = b"") -> bytes:
    """A clean UTF-8 export of several Arrow blocks (1 MiB each), ending with ``last``."""
    body = b"".join(b"%d,name %d,%d.5\n" % (i, i, i) for i in range(rows))
    return b"id,name,amount\n" + body + last


@pytest.mark.parametrize(
    "last, found_late",
    [
        (b'7,"two\nlines",1\n', True),  # a quoted line break: only the line count tells, at the end
        # the one non-ASCII byte of an otherwise ASCII file: the encoding decision reads on to it and names the
        # file cp1252, so nothing is found late (invalid UTF-8 late: tests/connectors/test_encoding_decision.py)
        (b"9,caf\xe9,1\n", False),
        (b"10,ragged\n", True),  # a ragged row in the last block
        (b"\n11,after blank,1\n", True),  # a blank line: known only at the end
        (b"8,nul\x00here,1\n", None),  # a NUL: seen when Arrow reads ahead, which may be before the first batch
    ],
)
def test_a_surprise_after_the_first_batch_means_read_again_and_then_the_same_rows(tmp_path, last, found_late):
    path = tmp_path / "late.csv"
    path.write_bytes(big_export(150_000, last))  # ~3.5 MB: Arrow passes on the first blocks before the surprise
    again = False
    try:  # batches of 5,000 rows: blocks of Arrow's least, 1 MiB
        list(csv_read(lambda: path.open("rb"), path.name, CsvLayout(), 5_000))
    except ReadAgain:
        again = True
    if found_late is not None:
        assert again == found_late
    careful, _ = read(path, True, batch_rows=5_000, speculate=not again)
    exact, _ = read(path, False, batch_rows=5_000)
    assert careful.num_rows == exact.num_rows > 150_000
    assert careful.to_pylist() == exact.to_pylist()


def test_a_clean_export_is_parsed_once(tmp_path, monkeypatch):
    import connectors.csv_fast as fast_module

    path = tmp_path / "clean.csv"
    path.write_bytes(big_export(150_000))
    parses = []
    real_reader = fast_module._reader
    monkeypatch.setattr(fast_module, "_reader", lambda *a: parses.append(1) or real_reader(*a))
    fast, _ = read(path, True, batch_rows=5_000)
    assert len(parses) == 1 and fast.num_rows == 150_000
    assert fast.column("_source_row")[-1].as_py() == "clean.csv:150001"


def test_a_night_lands_a_late_surprise_once_with_every_line_numbered(tmp_path, monkeypatch):
    """Through extract: the void first batches are not landed twice, and the rejected row keeps its line."""
    import datetime as dt

    import pyarrow.parquet as pq

    import unsilo.extract as module
    from unsilo.extract import extract
    from unsilo.interval import Interval
    from unsilo.settings import settings

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "x_20260601.csv").write_bytes(big_export(150_000, b"10,ragged\n"))
    monkeypatch.setenv("UNSILO_HOME", str(tmp_path / "home"))
    source = {"id": "late", "entity": "employment_spell",
              "connector": {"kind": "csv_drop", "folder": str(drop), "pattern": "x_{date:%Y%m%d}.csv",
                            "batch_rows": 5_000}}
    lands = []
    real_land = module._land
    monkeypatch.setattr(module, "_land", lambda *a: lands.append(1) or real_land(*a))
    landed = extract(source, Interval.night(dt.date(2026, 6, 1)), settings())
    table = pq.read_table(landed.path)
    assert len(lands) == 2  # the first, one-pass reading raised ReadAgain after landing its first batches
    assert landed.rows == table.num_rows == 150_001
    assert table.column("_ordinal").to_pylist() == list(range(150_001))
    rejected = [r for r in table.select(["_reject", "_source_row"]).to_pylist() if r["_reject"]]
    assert rejected == [{"_reject": "ragged-row", "_source_row": "x_20260601.csv:150002"}]
