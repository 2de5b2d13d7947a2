"""The analysts' snapshot opens in a DuckDB 1.4 LTS client, installed with pip into its own environment (cached
under ``~/.cache/unsilo-test/duckdb14``, or ``UNSILO_TEST_CACHE``). Without PyPI the test skips, under CI=true
it fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.services import unavailable
from tests.warehouse.deid_fixture import working_warehouse
from warehouse.publish_snapshot import POINTER, publish_snapshot

READ = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps({"version": duckdb.__version__,
                  "person": con.execute("SELECT count(*), count(DISTINCT birth_date) FROM std.person").fetchone(),
                  "k": con.execute("SELECT min(k_achieved) FROM meta.disclosure WHERE records > 0").fetchone()[0]}))
"""


def duckdb14() -> Path:
    """The python of a virtual environment with duckdb 1.4.*, created once and cached."""
    cache = Path(os.environ.get("UNSILO_TEST_CACHE", Path.home() / ".cache" / "unsilo-test")) / "duckdb14"
    python = cache / "bin" / "python"
    check = [str(python), "-c", "import duckdb; assert duckdb.__version__.startswith('1.4.')"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    steps = [[sys.executable, "-m", "venv", "--clear", str(cache)],
             [str(python), "-m", "pip", "install", "--quiet", "duckdb==1.4.*"]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            unavailable(f"could not install a DuckDB 1.4 client ({' '.join(step[-2:])}): "
                        f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}")
    return python


def test_a_duckdb_1_4_client_reads_the_snapshot(tmp_path):
    python = duckdb14()
    con = working_warehouse(tmp_path / "working.duckdb", people=1000, encounters=1000)
    publish_snapshot(con, tmp_path / "snapshots", k=5)
    con.close()
    snapshot = tmp_path / "snapshots" / POINTER
    with duckdb.connect(str(snapshot), read_only=True) as latest:
        expected = latest.execute("SELECT count(*), count(DISTINCT birth_date) FROM std.person").fetchone()
    out = subprocess.run([str(python), "-c", READ, str(snapshot)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["version"].startswith("1.4.")
    assert tuple(seen["person"]) == expected and expected[0] == 1000
    assert seen["k"] >= 5
