"""A process that reads CSV through Arrow exits cleanly, however its reading ended (issue: SIGABRT at exit).

Arrow's streaming CSV reader reads ahead on native threads that call back into Python (the counting file of the
one-pass read). A reading generator dropped half-way and finalized only during interpreter teardown used to abort
the process ("terminate called without an active exception", "PyGILState_Release"); ``connectors.csv_fast``
closes such readings at exit while the interpreter is still whole.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from tests.connectors.conftest import REAL
from tests.services import unavailable

ROOT = Path(__file__).resolve().parents[2]
UNSILO = Path(sys.executable).with_name("unsilo")

HALF_READ = """
import sys
sys.path.insert(0, {root!r})
from connectors.csv_fast import _speculative

class Dialect:
    delimiter, quotechar, doublequote, escapechar = ",", '"', True, None

reading = _speculative(lambda: open({path!r}, "rb"), Dialect, ["a", "b", "c"], 10_000)
next(reading)  # one batch, then the interpreter exits with the reader mid-file
"""


def _runs(commands: list[list[str]]) -> list[subprocess.CompletedProcess]:
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda c: subprocess.run(c, capture_output=True, text=True, timeout=120), commands))


def test_a_reading_dropped_half_way_does_not_abort_at_exit(tmp_path):
    n = 1_000_000
    path = tmp_path / "big.csv"
    pacsv.write_csv(pa.table({"a": pa.array(range(n)), "b": pa.array(range(n)), "c": pa.array(range(n))}), path)
    code = HALF_READ.format(root=str(ROOT), path=str(path))
    done = _runs([[sys.executable, "-c", code]] * 12)
    failed = [(p.returncode, p.stderr.strip().splitlines()[-1:]) for p in done if p.returncode != 0]
    assert not failed, f"{len(failed)} of 12 processes did not exit cleanly: {failed[:3]}"


def test_inspect_on_a_gtfs_file_50_times_never_aborts():
    feed = REAL / "transport" / "caltrain-2017-07-24"
    if not feed.is_dir():
        unavailable(f"real data folder ../shared/data/real is absent (looked in {feed})")
    done = _runs([[str(UNSILO), "inspect", str(feed / "agency.txt"), "--json"]] * 50)
    failed = [(p.returncode, p.stderr.strip().splitlines()[-1:]) for p in done if p.returncode != 0]
    assert not failed, f"{len(failed)} of 50 runs failed: {failed[:3]}"
