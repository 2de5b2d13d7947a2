"""Hostile inputs fail alone (issue 12, item 6): a field over the limit is a rule of its own, a Bundle nested too
deep is rejected while its sibling file loads, a zip bomb is refused naming the file and the limit, and a drop where
every row breaks a rule reconciles with its failing rows written by DuckDB, not held in Python. The inputs are the
ones ``bench/bounded_memory.py`` measures, at a small scale."""

from __future__ import annotations

import argparse
import datetime as dt
import zipfile

import duckdb
import pyarrow.parquet as pq
import pytest

from bench import bounded_memory as bench
from connectors.archive_limits import ArchiveRefused, read_member
from connectors.base import SourceError
from tests.night_fixture import KEY


def night(home, yaml_path, monkeypatch):
    from unsilo.catalog import source
    from unsilo.interval import Interval
    from unsilo.night import run_source
    from unsilo.settings import settings

    monkeypatch.setenv("UNSILO_HOME", str(home))
    monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("UNSILO_DEPARTMENT_ROOTS", f"employment={home},health={home},transport={home}")
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)
    cfg = settings()
    return run_source(source(str(yaml_path), cfg), Interval.night(dt.date.fromisoformat(bench.NIGHT)), cfg), cfg


def quarantine(home) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        return con.execute("SELECT source_row, rules, CAST(record AS VARCHAR) FROM meta.quarantine "
                           "ORDER BY source_row").fetchall()


def test_field_over_the_limit_is_quarantined_as_its_own_rule_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSILO_MAX_FIELD_BYTES", "100000")
    yaml_path = bench.case_big_field(tmp_path, 0, argparse.Namespace(field_mb=1))  # one 1 MB employer name
    entry, _ = night(tmp_path, yaml_path, monkeypatch)
    assert (entry.status, entry.extracted, entry.loaded, entry.quarantined) == ("success", 3, 2, 1)
    [(row, rules, record)] = quarantine(tmp_path)
    # employer_name is required: the value is not carried on, so required-missing comes with it
    assert row == "employment_20260602.csv:3" and rules == ["field-too-large", "required-missing"]
    # the quarantine keeps the value cut, with a note of its size: bounded by the batch, not by the field
    assert len(record) < 3000 and f"[cut: {1024 * 1024 + len(bench.ROW['employer'].encode())} bytes in all]" in record


def test_a_source_may_declare_a_larger_field_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSILO_MAX_FIELD_BYTES", "100000")
    yaml_path = bench.case_big_field(tmp_path, 0, argparse.Namespace(field_mb=1))
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8") + "max_field_bytes: 2000000\n", encoding="utf-8")
    entry, _ = night(tmp_path, yaml_path, monkeypatch)
    assert (entry.extracted, entry.loaded, entry.quarantined) == (3, 3, 0)


def test_deep_bundle_is_rejected_alone_and_its_sibling_loads(tmp_path, monkeypatch):
    yaml_path = bench.case_deep_bundle(tmp_path, 0, None)
    entry, _ = night(tmp_path, yaml_path, monkeypatch)
    assert (entry.status, entry.extracted, entry.loaded, entry.quarantined) == ("success", 2, 1, 1)
    [(row, rules, record)] = quarantine(tmp_path)
    assert row == "deep.json:1" and "unparseable-file" in rules  # the file is named; its fields are all missing
    assert len(record) < 3000 and "[cut: " in record
    with duckdb.connect(str(tmp_path / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM std.person").fetchone()[0] == 1  # valid.json's patient


def test_zip_bomb_is_refused_naming_the_file_and_the_limit(tmp_path, monkeypatch):
    yaml_path = bench.case_zip_bomb(tmp_path, 2000, None)  # 1.2 MB of stops.txt in a zip of a few KB
    feed = tmp_path / "departments" / "transport" / "gtfs.zip"
    assert feed.stat().st_size < 50_000
    with pytest.raises(SourceError) as refused:
        night(tmp_path, yaml_path, monkeypatch)
    message = str(refused.value)
    assert str(feed) in message and "stops.txt" in message and "ratio limit of 100" in message
    # with the limit raised for a genuine archive, the same feed is read
    monkeypatch.setenv("UNSILO_MAX_ARCHIVE_RATIO", "100000")
    entry, _ = night(tmp_path, yaml_path, monkeypatch)
    assert entry.extracted == 1


def test_bytes_are_counted_while_a_member_is_read(tmp_path, monkeypatch):
    """The declared sizes are checked first, but a member is counted again while it inflates."""
    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("stops.txt", "stop_id\n" + "s\n" * 5000)
    monkeypatch.setenv("UNSILO_MAX_ARCHIVE_BYTES", "4096")
    with zipfile.ZipFile(path) as z, pytest.raises(ArchiveRefused, match=r"stops\.txt inflates past the limit"):
        read_member(z, path, "stops.txt")  # not checked before: only the count stops it
    monkeypatch.delenv("UNSILO_MAX_ARCHIVE_BYTES")
    with zipfile.ZipFile(path) as z:
        assert read_member(z, path, "stops.txt").count(b"\n") == 5001


def test_all_bad_rows_reconcile_and_their_verdicts_come_from_duckdb(tmp_path, monkeypatch):
    yaml_path = bench.case_all_bad(tmp_path, 3000, None)
    entry, cfg = night(tmp_path, yaml_path, monkeypatch)
    assert entry.extracted == 3000 == entry.quarantined
    assert entry.extracted == entry.loaded + entry.quarantined + entry.unchanged
    rows = quarantine(tmp_path)
    assert len(rows) == 3000 and {tuple(r[1]) for r in rows} == {("unknown-code",)}
    verdicts = pq.read_table(next((cfg.staging / "bench_employment").glob("*.verdicts.parquet")))
    assert verdicts.num_rows == 3000
    assert verdicts.column("_ordinal").to_pylist() == list(range(3000))
    assert set(map(tuple, verdicts.column("checks").to_pylist())) == {("unknown-code:industry_code",)}


def test_open_member_refuses_a_bomb_before_inflating_and_streams_a_genuine_zip(tmp_path):
    """What a zipped CSV drop needs (connectors/csv_drop.py's opener can hand csv_read ``open_member``)."""
    from connectors.archive_limits import open_member

    bomb = tmp_path / "employment_20260602.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("employment.csv", "a,b\n" + "0" * (3 << 20) + ",1\n")
    with pytest.raises(ArchiveRefused) as refused:
        open_member(bomb, "employment.csv")
    assert str(bomb) in str(refused.value) and "employment.csv" in str(refused.value)
    assert "ratio limit of 100" in str(refused.value)
    genuine = tmp_path / "genuine.zip"
    with zipfile.ZipFile(genuine, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("employment.csv", "a,b\n1,2\n")
    with open_member(genuine, "employment.csv") as f:
        assert f.read() == b"a,b\n1,2\n"
