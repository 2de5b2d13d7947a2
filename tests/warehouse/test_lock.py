"""One writer per DuckDB file: a second writer waits for the lock instead of failing, up to a limit."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from warehouse.schema import connect

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(float(sys.argv[2]))"


def hold_lock(path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_writer_waits_for_the_lock(tmp_path):
    path = tmp_path / "w.duckdb"
    connect(path).close()
    holder = hold_lock(path, 1.5)
    t0 = time.monotonic()
    con = connect(path, wait_seconds=30)
    waited = time.monotonic() - t0
    con.close()
    holder.wait()
    assert waited > 0.5  # it really waited for the other process


def test_writer_gives_up_after_the_limit(tmp_path):
    path = tmp_path / "w.duckdb"
    connect(path).close()
    holder = hold_lock(path, 5)
    try:
        with pytest.raises(duckdb.IOException, match="lock"):
            connect(path, wait_seconds=0.3)
    finally:
        holder.kill()
        holder.wait()
