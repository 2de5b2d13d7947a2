"""A small-scale smoke of bench/bounded_memory.py (CI times nothing): every case runs and ends as it should."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_bounded_memory_smoke(tmp_path):
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bounded_memory.py"), "--rows", "2000", "--field-mb", "2",
         "--work", str(tmp_path)],
        capture_output=True, text=True, timeout=900, cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rows = {cells[1].strip(): [c.strip() for c in cells[2:6]]
            for cells in (line.split("|") for line in out.stdout.splitlines() if line.startswith("| "))}
    assert list(rows) == ["case", "all-bad", "dup-keys", "big-field", "zip-bomb", "deep-bundle"]
    for case, (_, peak, wall, _) in list(rows.items())[1:]:
        assert 0 < float(peak) < 1024 and float(wall) > 0, case
    assert rows["all-bad"][3].endswith("2000/0/2000/0")
    assert rows["dup-keys"][3].endswith("10000/1/9999/0")
    assert rows["big-field"][3].endswith("3/2/1/0")
    assert "gtfs.zip" in rows["zip-bomb"][3] and "ratio limit" in rows["zip-bomb"][3]
    assert rows["deep-bundle"][3].endswith("2/1/1/0")
