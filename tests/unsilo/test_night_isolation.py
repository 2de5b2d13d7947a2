"""``unsilo night``: each source fails alone, even one whose process is killed or recurses without end.

The fault is injected from outside product code (tests/inject/sitecustomize.py, on ``PYTHONPATH``): the CLI, the
night's forkserver and so each source's child import it at start-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.night_fixture import generated_night
from unsilo.catalog import sources
from unsilo.settings import settings

REPO = Path(__file__).resolve().parents[2]
INJECT = REPO / "tests" / "inject"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        n = generated_night(tmp_path_factory, mp)
        yield n


def night(home, department: str, fault: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=f"{INJECT}{os.pathsep}{REPO}", UNSILO_TEST_FAULT=fault, COLUMNS="200")
    script = "import sys; from unsilo.cli import run; sys.argv = ['unsilo'] + sys.argv[1:]; run()"
    return subprocess.run([sys.executable, "-c", script, "night", "--date", home.interval.start.isoformat(),
                           "--department", department], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=1200)


def ledger(home, department: str) -> dict[str, tuple[str, str]]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        rows = con.execute("SELECT source, status, message FROM meta.ledger WHERE department = ? "
                           "ORDER BY finished_at", [department]).fetchall()
    return {s: (status, message or "") for s, status, message in rows}


def marts(home) -> list[str]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                          "WHERE table_schema = 'marts'").fetchall()]


@pytest.mark.parametrize("department, victim, fault, said", [
    ("housing", "housing_units", "kill", "killed by sigkill"),
    ("transport", "transport_stops", "recursion", "normalize_validate: maximum recursion depth exceeded"),
    ("employment", "employment_unemployment", "abort", "killed by sigabrt"),
])
def test_a_source_that_dies_fails_alone_and_the_marts_still_rebuild(home, department, victim, fault, said):
    snapshot = home.home / "warehouse" / "snapshots" / "current.duckdb"
    published = snapshot.stat().st_mtime_ns if snapshot.exists() else 0
    ran = night(home, department, f"{victim}:{fault}")
    assert ran.returncode == 1, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert victim in ran.stderr and "sources failed" in ran.stderr
    rows = ledger(home, department)
    expected = {s["id"] for s in sources(settings(), department)}
    assert set(rows) == expected
    status, message = rows[victim]
    assert status == "failed" and said in message.lower()
    if fault != "recursion":  # the parent wrote the row of a child that died
        assert message.startswith(f"night: the process of source {victim} ")
    assert {s: r[0] for s, r in rows.items() if s != victim} == {s: "success" for s in expected - {victim}}
    assert marts(home), "the marts were not rebuilt after the failed source"
    assert snapshot.exists() and snapshot.stat().st_mtime_ns > published  # and the analysts' snapshot published
