"""Great Expectations is imported in a background thread while a night normalizes, once per process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_background_import_happens_once_and_leaves_the_validator_imported():
    script = textwrap.dedent(
        """
        import sys, threading
        from unsilo.validate import import_validator_in_background
        print("before", "great_expectations" in sys.modules)
        first = import_validator_in_background()
        print("same-thread", import_validator_in_background() is first)
        print("main-thread-free", first is not threading.current_thread())
        first.join()
        print("after", "quality.validate_in_duckdb" in sys.modules and "great_expectations" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["before", "False", "same-thread", "True", "main-thread-free", "True", "after", "True"]
