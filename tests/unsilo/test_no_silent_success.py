"""No silent success (issue 12, item 4): a missing, empty, cut-off or far-too-small nightly drop ends as its own ledger
status (``missing``, ``empty``, ``suspect``) with a non-zero exit and nothing loaded, unless the source declares it
normal; compressed drops are read when the connector can (gzip, bzip2, xz, zip) and named when it cannot.

On the generated demo's employment registrations (a GB18030 CSV drop); earlier nights are the same drop copied to
earlier dates."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import lzma
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from connectors.compression import cut_off
from tests.night_fixture import KEY, generated_night
from unsilo.catalog import source
from unsilo.extract import extract
from unsilo.interval import Interval
from unsilo.night import run_source
from unsilo.night_status import NotLoaded
from unsilo.settings import settings

SOURCE = "employment_registration"
REPO = Path(__file__).resolve().parents[2]


def drop(home: Path, day: dt.date) -> Path:
    return home / "departments" / "employment" / "drop" / f"就业登记_{day:%Y%m%d}.csv"


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        night = generated_night(tmp_path_factory, mp, people=300)
        yield night.home, night.interval


@pytest.fixture
def home(district, tmp_path, monkeypatch):
    """A fresh copy of the district with no warehouse yet; returns (home, the demo's night, its drop's bytes)."""
    template, interval = district
    copy = tmp_path / "home"
    shutil.copytree(template, copy, ignore=shutil.ignore_patterns("warehouse", "landing", "staging"))
    monkeypatch.setenv("UNSILO_HOME", str(copy))
    monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)
    monkeypatch.delenv("UNSILO_SOURCES", raising=False)
    return copy, interval, drop(copy, interval.start).read_bytes()


def src(**declared) -> dict:
    return {**source(SOURCE, settings()), **declared}


def ledger(home: Path) -> list[dict]:
    with duckdb.connect(str(home / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        cur = con.execute("SELECT * FROM meta.ledger WHERE source = ? ORDER BY started_at", [SOURCE])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def loaded_rows(home: Path) -> int:
    with duckdb.connect(str(home / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        return con.execute("SELECT count(*) FROM std.employment_spell WHERE _source = ?", [SOURCE]).fetchone()[0]


def reconciles(rows: list[dict]) -> None:
    for r in rows:
        if r["status"] != "failed":
            assert r["extracted"] == r["loaded"] + r["quarantined"] + r["unchanged"], r


def refused(home: Path, interval: Interval, status: str, **declared) -> dict:
    with pytest.raises(NotLoaded) as caught:
        run_source(src(**declared), interval, settings())
    assert caught.value.status == status
    rows = ledger(home)
    assert rows[-1]["status"] == status and rows[-1]["loaded"] == 0
    reconciles(rows)
    return rows[-1]


def cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "UNSILO_HOME": str(home), "UNSILO_PSEUDONYM_KEY": KEY, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", "from unsilo.cli import run; run()", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_zero_byte_drop_is_empty_and_exits_1(home):
    home, interval, _ = home
    drop(home, interval.start).write_bytes(b"")
    done = cli("sync", SOURCE, "--start", str(interval.start), home=home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "empty" in done.stderr and "allow_empty" in done.stderr
    row = ledger(home)[-1]
    assert (row["status"], row["extracted"], row["loaded"]) == ("empty", 0, 0)
    assert loaded_rows(home) == 0


def test_a_header_only_drop_is_empty(home):
    home, interval, data = home
    drop(home, interval.start).write_bytes(data.split(b"\n", 1)[0] + b"\n")
    refused(home, interval, "empty")


def test_a_missing_drop_is_missing(home):
    home, interval, _ = home
    drop(home, interval.start).unlink()
    row = refused(home, interval, "missing")
    assert "allow_missing" in row["message"] and f"{interval.start:%Y%m%d}" in row["message"]


def test_declared_normal_empty_and_missing_nights_succeed(home):
    home, interval, _ = home
    drop(home, interval.start).write_bytes(b"")
    assert run_source(src(allow_empty=True), interval, settings()).status == "success"
    drop(home, interval.start).unlink()
    assert run_source(src(allow_missing=True), interval, settings()).status == "success"
    # allow_missing does not excuse a drop that is there but empty
    drop(home, interval.start).write_bytes(b"")
    refused(home, interval, "empty", allow_missing=True)
    rows = ledger(home)
    assert [r["status"] for r in rows] == ["success", "success", "empty"]
    reconciles(rows)


def cut_mid_line(data: bytes) -> bytes:
    """The first half of the file, ending one field into a line (no line break after it)."""
    line_start = data.index(b"\n", len(data) // 2) + 1
    return data[: data.index(b",", line_start) + 1]


def test_a_drop_cut_at_half_mid_line_is_suspect_and_loads_nothing_until_accepted(home):
    home, interval, data = home
    drop(home, interval.start).write_bytes(cut_mid_line(data))
    row = refused(home, interval, "suspect")
    assert "cut off" in row["message"] and "--accept-suspect" in row["message"]
    assert loaded_rows(home) == 0
    landing = home / "landing" / SOURCE / f"{interval.slug}.parquet"
    held = pq.read_metadata(landing).num_rows  # the rows are held in landing, not lost
    assert 0 < held < data.count(b"\n")
    assert str(held) in row["message"]
    # the steward checked it: load it as it is; the cut last line is quarantined as a ragged row
    entry = run_source(src(), interval, settings(), accept_suspect=True)
    assert entry.status == "success" and entry.extracted == held and entry.quarantined >= 1
    with duckdb.connect(str(home / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        rules = con.execute("SELECT rules FROM meta.quarantine WHERE source = ? ORDER BY source_row", [SOURCE])
        assert any("ragged-row" in r[0] for r in rules.fetchall())
    reconciles(ledger(home))


def test_cut_off_tells_an_open_quote_and_a_short_last_line_from_a_whole_one():
    assert "quoted" in cut_off(b'a,b,c\n1,2,"thr', "utf-8", ",", '"', 3)
    assert "1 of the header's 3" in cut_off(b"a,b,c\n1,2,3\n4", "utf-8", ",", '"', 3)
    assert cut_off(b"a,b,c\n1,2,3", "utf-8", ",", '"', 3) is None  # no final line break, but whole
    assert cut_off(b"a,b,c\n1,2\n", "utf-8", ",", '"', 3) is None  # a ragged row, not a cut: it ends its line
    assert cut_off("a,b\n1,2".encode("utf-16-le"), "utf-16-le", ",", '"', 2) is None


def test_a_night_with_a_tenth_of_the_usual_rows_is_suspect(home):
    home, interval, data = home
    for back in (3, 2, 1):
        day = interval.start - dt.timedelta(days=back)
        drop(home, day).write_bytes(data)
        assert run_source(src(), Interval.night(day), settings()).status == "success"
    lines = data.splitlines(keepends=True)
    tenth = b"".join(lines[: 1 + (len(lines) - 1) // 10])  # whole lines: nothing looks cut
    drop(home, interval.start).write_bytes(tenth)
    row = refused(home, interval, "suspect")
    assert "median" in row["message"] and "suspect_below" in row["message"]
    # declared off, the same night loads
    assert run_source(src(suspect_below=0), interval, settings()).status == "success"
    reconciles(ledger(home))


def test_fewer_rows_than_the_source_expects_is_suspect(home):
    home, interval, data = home
    row = refused(home, interval, "suspect", expected_rows=data.count(b"\n") * 2)
    assert "expected_rows" in row["message"]


def landed(interval: Interval) -> list:
    path = extract(src(), interval, settings()).path
    return pq.read_table(path).drop(["_extracted_at"]).to_pylist()


@pytest.mark.parametrize("pack", ["gzip", "bzip2", "xz", "zip"])
def test_a_compressed_drop_lands_the_same_rows_as_the_plain_file(home, pack):
    home, interval, data = home
    plain = landed(interval)
    path = drop(home, interval.start)
    if pack == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("export.csv", data)
    else:
        path.write_bytes({"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}[pack](data))
    assert path.read_bytes()[:2] != data[:2]  # the name still says .csv: told by its bytes
    assert len(plain) > 50
    assert landed(interval) == plain


def test_a_gzip_drop_loads_through_the_cli(home):
    home, interval, data = home
    drop(home, interval.start).write_bytes(gzip.compress(data))
    done = cli("sync", SOURCE, "--start", str(interval.start), home=home)
    assert done.returncode == 0, done.stdout + done.stderr
    row = ledger(home)[-1]
    assert row["status"] == "success" and row["extracted"] > 50
    reconciles([row])


@pytest.mark.parametrize("magic,name", [(b"\x28\xb5\x2f\xfd", "zstd"), (b"7z\xbc\xaf\x27\x1c", "7z"),
                                        (b"Rar!\x1a\x07\x00", "rar")])
def test_an_unsupported_compression_is_named(home, magic, name):
    home, interval, data = home
    path = drop(home, interval.start)
    path.write_bytes(magic + data[:200])
    with pytest.raises(Exception) as caught:
        run_source(src(), interval, settings())
    assert f"is a {name}-compressed file" in str(caught.value) and path.name in str(caught.value)
    assert "columns changed" not in str(caught.value)
    row = ledger(home)[-1]
    assert row["status"] == "failed" and f"{name}-compressed" in row["message"]


def test_a_drop_past_the_decompressed_limit_is_refused(home, monkeypatch):
    home, interval, data = home
    drop(home, interval.start).write_bytes(gzip.compress(data))
    monkeypatch.setenv("UNSILO_MAX_DECOMPRESSED", "4096")
    with pytest.raises(Exception) as caught:
        run_source(src(), interval, settings())
    assert "UNSILO_MAX_DECOMPRESSED" in str(caught.value) and drop(home, interval.start).name in str(caught.value)
    assert loaded_rows(home) == 0


def test_a_cut_off_gzip_drop_is_named_damaged(home):
    home, interval, data = home
    packed = gzip.compress(data)
    drop(home, interval.start).write_bytes(packed[: len(packed) // 2])
    with pytest.raises(Exception) as caught:
        run_source(src(), interval, settings())
    assert "damaged or cut off" in str(caught.value)
    assert loaded_rows(home) == 0


def test_night_exits_1_and_shows_the_empty_source_while_the_others_load(home):
    home, interval, _ = home
    drop(home, interval.start).write_bytes(b"")
    done = cli("night", "--date", str(interval.start), "--department", "employment", home=home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "empty" in done.stdout and SOURCE in done.stderr
    with duckdb.connect(str(home / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        statuses = dict(con.execute("SELECT source, status FROM meta.ledger").fetchall())
    assert statuses[SOURCE] == "empty" and "success" in statuses.values()
