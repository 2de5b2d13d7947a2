"""Runs a benchmark script for a smoke test: tiny, once, without dlt; fails with its stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_bench(script: str, rows: int, work: Path, contenders: tuple[str, ...], *extra: str,
              timeout: float = 300) -> list[str]:
    """``bench/<script> --rows ROWS --repeat 1 --no-dlt --work WORK``: its stdout lines, after checking that it
    succeeded and that its table has a row for each of ``contenders``."""
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), "--rows", str(rows), "--repeat", "1", "--no-dlt",
         "--work", str(work), *extra],
        capture_output=True, text=True, timeout=timeout, cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    for name in contenders:
        assert any(line.startswith("|") and name in line for line in lines), name
    return lines
