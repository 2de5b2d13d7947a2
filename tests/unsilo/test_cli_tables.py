"""CLI tables at 80 columns: keys and codes show whole on one line; free text wraps instead."""

from __future__ import annotations

import os
import subprocess
import sys

from rich.console import Console

from unsilo.cli_tables import cli_table
from unsilo.settings import REPO

PERSON_KEY = "9f86d081884c7d659a2feaa0c55ad015"
COMMUNITY = "440305001001"
RUN_ID = "employment_unemployment__20260601__a1b2c3d4e5"


def rendered(table) -> str:
    console = Console(width=80, record=True, file=open(os.devnull, "w"))
    console.print(table)
    return console.export_text()


def test_keys_and_codes_are_whole_at_80_columns():
    text = rendered(cli_table(
        ("person_key", "community_code", "status", "description"),
        [(PERSON_KEY, COMMUNITY, "success", "a long free-text description that has to wrap " * 3)]))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    for value in (PERSON_KEY, COMMUNITY, "success"):
        assert any(value in line for line in lines), value
    assert "…" not in text
    assert max(len(line) for line in rendered(cli_table(["person_key"], [(PERSON_KEY,)])).splitlines()) == 32


def test_the_ledger_columns_fit_80_columns():
    cols = ("source", "interval_start", "extracted", "loaded", "quarantined", "unchanged", "status", "run_id")
    text = rendered(cli_table(cols, [("employment_unemployment", "2026-06-01", "104", "100", "4", "0", "success",
                                      RUN_ID)]))
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "employment_unemployment" in text and "2026-06-01" in text and "…" not in text
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line) == {"─"})
    at = lines[rule - 1].index("run_id")
    assert "".join(line[at:].strip() for line in lines[rule + 1:]) == RUN_ID  # folded over lines, none lost
    assert lines[rule + 1].split()[:7] == ["employment_unemployment", "2026-06-01", "104", "100", "4", "0", "success"]


def test_the_sources_command_at_columns_80(tmp_path):
    env = dict(os.environ, COLUMNS="80", UNSILO_HOME=str(tmp_path), PYTHONPATH=str(REPO))
    env.pop("UNSILO_SOURCES", None)
    out = subprocess.run([sys.executable, "-c", "from unsilo.cli import run; run()", "sources"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    for source_id in ("employment_registration", "employment_unemployment", "housing_communities"):
        assert source_id in out.stdout, source_id
