"""The Arrow fast path gives exactly what the exact csv-module path gives, or steps aside for it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from connectors.csv_read import CsvLayout, CsvReport, csv_read
from unsilo.demo import generate

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
FOLDERS = ("badcsv", "employment", "housing")


def read(path: Path, fast: bool, layout: CsvLayout | None = None, batch_rows: int = 7):
    report = CsvReport()
    tables = list(csv_read(lambda: path.open("rb"), path.name, layout or CsvLayout(), batch_rows, report, fast=fast))
    table = pa.concat_tables(tables) if tables else None
    return table, report


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
    import connectors.csv_read as module

    generate(tmp_path, people=150)
    path = tmp_path / "departments" / "employment" / "drop" / "就业登记_20260601.csv"
    calls = []
    real_fast = module.csv_fast
    monkeypatch.setattr(module, "csv_fast", lambda *a, **k: calls.append(1) or real_fast(*a, **k))
    fast, _ = read(path, True, CsvLayout(encoding="gb18030"), batch_rows=50)
    exact, _ = read(path, False, CsvLayout(encoding="gb18030"), batch_rows=50)
    assert calls and fast.to_pylist() == exact.to_pylist()
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
    import connectors.csv_read as module

    path = tmp_path / "f.csv"
    path.write_bytes(text)
    results = []
    real_fast = module.csv_fast
    monkeypatch.setattr(module, "csv_fast", lambda *a, **k: results.append(r := real_fast(*a, **k)) or r)
    fast, _ = read(path, True)
    exact, _ = read(path, False)
    assert fast.to_pylist() == exact.to_pylist()
    assert (results[0] is not None) == fast_taken


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
