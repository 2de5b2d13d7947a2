"""Run the ``unsilo`` CLI with a pause injected from outside: the first ``COMMIT`` that any warehouse connection
opened through ``<module>.connect`` executes waits first, so a test can SIGKILL the process inside the open
transaction (every write of the load or key rotation done, nothing committed). No hook lives in product code.

``python -m tests.pause_before_commit unsilo.night -- sync housing_tenancies --start 2026-06-01``: prints
:data:`PAUSED` to stderr, then sleeps :data:`SECONDS`.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PAUSED = "tests: paused before COMMIT inside the open transaction"
SECONDS = 120


class PausingConnection:
    """A DuckDB connection whose first ``COMMIT`` waits (everything else is the connection's own)."""

    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args, **kwargs):
        if isinstance(sql, str) and sql.strip().upper() == "COMMIT":
            print(PAUSED, file=sys.stderr, flush=True)
            time.sleep(SECONDS)
        return self._con.execute(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._con.__exit__(*exc)


def kill_at_commit(module: str, cli_args: list[str], env: dict, wait: float = 120) -> int:
    """Run the CLI (``cli_args``) pausing before the first COMMIT through ``<module>.connect``, SIGKILL it there and
    return its exit code; fails the test if it ended before the pause."""
    env = {**env, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.pause_before_commit", module, "--", *cli_args], env=env,
                            cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + wait
        for line in proc.stderr:
            if PAUSED in line or time.monotonic() > deadline:
                break
        assert proc.poll() is None, f"{' '.join(cli_args)} ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    return proc.returncode


def main(argv: list[str]) -> None:
    module_name, cli_args = argv[0], argv[argv.index("--") + 1:]
    module = importlib.import_module(module_name)
    opened = module.connect
    module.connect = lambda *a, **k: PausingConnection(opened(*a, **k))
    from unsilo.cli import run

    sys.argv = ["unsilo", *cli_args]
    run()


if __name__ == "__main__":
    main(sys.argv[1:])
