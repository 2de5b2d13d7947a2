"""``unsilo backfill`` over three nights of smart-card ridership: skip what is loaded, resume after a failure,
reprocess on demand, and overlapping or repeated backfills leave the warehouse as one clean run does."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.night_fixture import KEY, generated_night
from unsilo.backfill import backfill
from unsilo.catalog import source
from unsilo.settings import settings

FIRST, LAST = dt.date(2026, 6, 1), dt.date(2026, 6, 3)
SOURCE = "transport_ridership"
UNSILO = Path(sys.executable).with_name("unsilo")


def ridership(home: Path, day: dt.date) -> Path:
    return home / "departments" / "transport" / "ridership" / f"ridership_{day:%Y%m%d}.csv"


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """One generated district with ridership drops for three nights; night 2 also corrects a night-1 figure."""
    with pytest.MonkeyPatch.context() as mp:
        night = generated_night(tmp_path_factory, mp, people=60)
        lines = ridership(night.home, FIRST).read_text(encoding="utf-8").splitlines()
        header, rows = lines[0], lines[1:]
        for n in (1, 2):
            day = FIRST + dt.timedelta(days=n)
            body = [r.replace(str(FIRST), str(day)).rsplit(",", 1)[0] + f",{10 * n + i}" for i, r in enumerate(rows)]
            if n == 1:  # a late correction of the first night's first stop, delivered with the second night
                body.append(rows[0].rsplit(",", 1)[0] + ",999")
            ridership(night.home, day).write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
        yield night.home


@pytest.fixture
def home(district, tmp_path, monkeypatch):
    """A fresh copy of the district with no warehouse yet."""
    copy = tmp_path / "home"
    shutil.copytree(district, copy, ignore=shutil.ignore_patterns("warehouse", "landing", "staging"))
    monkeypatch.setenv("UNSILO_HOME", str(copy))
    monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", KEY)
    return copy


def run(first=FIRST, last=LAST, reprocess=False):
    cfg = settings()
    return backfill([source(SOURCE, cfg)], first, last, cfg, reprocess)


def warehouse(home: Path) -> dict:
    with duckdb.connect(str(home / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        return {
            "std": sorted(con.execute("SELECT * EXCLUDE (_run_id, _extracted_at) FROM std.daily_ridership").fetchall()),
            "quarantine": sorted(con.execute("SELECT * EXCLUDE (run_id, quarantined_at) FROM meta.quarantine")
                                 .fetchall()),
            "ledger": con.execute("SELECT count(*) FROM meta.ledger").fetchone()[0],
        }


@pytest.fixture(scope="module")
def clean(district, tmp_path_factory):
    """One clean backfill of the three nights."""
    with pytest.MonkeyPatch.context() as mp:
        copy = tmp_path_factory.mktemp("clean") / "home"
        shutil.copytree(district, copy, ignore=shutil.ignore_patterns("warehouse", "landing", "staging"))
        mp.setenv("UNSILO_HOME", str(copy))
        mp.setenv("UNSILO_PSEUDONYM_KEY", KEY)
        result = run()
        assert [s.interval.start for s in result.ran] == [FIRST, FIRST + dt.timedelta(1), LAST]
        assert result.failed == []
        got = warehouse(copy)
        yield copy, got


def test_a_clean_backfill_loads_every_night_and_keeps_the_late_correction(clean):
    _, got = clean
    days = {r[0] for r in got["std"]}
    assert days == {FIRST, FIRST + dt.timedelta(1), LAST}
    corrected = [r for r in got["std"] if r[0] == FIRST and r[2] == 999]
    assert len(corrected) == 1  # the second night's correction of the first night stands


def test_a_repeated_backfill_skips_every_loaded_night(clean, monkeypatch):
    copy, before = clean
    monkeypatch.setenv("UNSILO_HOME", str(copy))
    monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", KEY)
    result = run()
    assert result.ran == [] and len(result.skipped) == 3
    assert warehouse(copy) == before  # not even a ledger row more


def test_a_failed_backfill_resumes_where_it_stopped(home, clean):
    drop = ridership(home, FIRST + dt.timedelta(1))
    kept = drop.read_bytes()
    drop.unlink()
    first = run()
    assert [s.interval.start for s, _ in first.failed] == [FIRST + dt.timedelta(1)]
    assert "no file" in first.failed[0][1]
    drop.write_bytes(kept)  # the department delivers the missing drop
    again = run()
    assert [(s.interval.start, s.reason) for s in again.ran] == [(FIRST + dt.timedelta(1), "new"), (LAST, "replay")]
    assert {i.start for _, i in again.skipped} == {FIRST, LAST}
    got, want = warehouse(home), clean[1]
    assert (got["std"], got["quarantine"]) == (want["std"], want["quarantine"])


def test_overlapping_backfills_in_any_order_equal_one_clean_run(home, clean):
    run(FIRST + dt.timedelta(1), LAST)
    overlap = run(FIRST, FIRST + dt.timedelta(1))  # night 1 is new; nights 2 and 3 replay after it
    assert [(s.interval.start, s.reason) for s in overlap.ran] == [
        (FIRST, "new"), (FIRST + dt.timedelta(1), "replay"), (LAST, "replay")]
    got, want = warehouse(home), clean[1]
    assert (got["std"], got["quarantine"]) == (want["std"], want["quarantine"])
    again = run(reprocess=True)
    assert [s.reason for s in again.ran] == ["reprocess"] * 3
    got = warehouse(home)
    assert (got["std"], got["quarantine"]) == (want["std"], want["quarantine"])


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, UNSILO_HOME=str(home), UNSILO_PSEUDONYM_KEY=KEY, COLUMNS="200")
    return subprocess.run([str(UNSILO), *args], env=env, capture_output=True, text=True, timeout=300)


def test_the_cli_backfills_with_a_progress_bar_and_fails_in_one_line(home):
    out = cli(home, "backfill", "--source", SOURCE, "--from", str(FIRST), "--to", str(FIRST + dt.timedelta(1)))
    assert out.returncode == 0, out.stderr
    assert "ran 2, skipped 0, failed 0" in out.stdout
    again = cli(home, "backfill", "--source", SOURCE, "--from", str(FIRST), "--to", str(FIRST + dt.timedelta(1)))
    assert "ran 0, skipped 2, failed 0" in again.stdout
    bad = cli(home, "backfill", "--department", "transport", "--source", SOURCE, "--from", "2026-06-01", "--to",
              "2026-06-01")
    assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0 and "exactly one of" in bad.stderr
    ridership(home, LAST).unlink()
    failing = cli(home, "backfill", "--source", SOURCE, "--from", str(LAST), "--to", str(LAST))
    assert failing.returncode == 1 and "Traceback" not in failing.stderr
    assert f"{SOURCE} {LAST}: missing: source {SOURCE}: no file" in failing.stderr
