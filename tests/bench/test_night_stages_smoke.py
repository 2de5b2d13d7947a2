"""A tiny smoke of the per-stage benchmark (CI times nothing): every stage is reported, and the night is right."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("kind, extracted", [("full", 400), ("incr", None)])
def test_night_stages_smoke(tmp_path, kind, extracted):
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "night_stages.py"), "--rows", "400", "--kind", kind,
         "--work", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    rows = {line.split("|")[1].strip(): line.split("|")[2:5] for line in lines if line.startswith("| ")}
    assert list(rows) == ["stage", "imports", "extract", "normalize", "validate", "load", "**night**"]
    walls = [float(rows[s][0]) for s in ("imports", "extract", "normalize", "validate", "load")]
    assert all(w >= 0 for w in walls) and abs(sum(walls) - float(rows["**night**"][0])) < 0.05
    counts = [int(x) for x in lines[-1].split(":")[1].split()]
    got, loaded, quarantined, unchanged = counts
    assert got == loaded + quarantined + unchanged
    if extracted:  # the full night: every row again, about 1% changed since the previous night
        assert got == extracted and 0 < loaded < 20
    else:  # the incremental night: only the changed rows, every one of them loaded
        assert 0 < got < 20 and loaded == got
