#!/usr/bin/env python3
"""Set-up and the two everyday commands, with nothing but Python 3.11+ on the machine.

    python3 tasks.py demo   # a full night of all four departments on the embedded default
    python3 tasks.py test   # the test suite

Both create ``.venv`` and install exactly what ``uv.lock`` pins (uv itself is installed into ``.venv`` by pip).
Extra arguments are passed on: ``python3 tasks.py demo --people 500``, ``python3 tasks.py test -k ledger``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
UV_VERSION = "0.13.8"
STAMP = VENV / ".unsilo-synced"


LOG = VENV / "install.log"


class SetupError(RuntimeError):
    """A set-up step failed; the message is the one line a person reads (the installer's output is in LOG)."""


def run(*cmd: str | Path, step: str, **kw) -> None:
    """Run one set-up step, its output appended to LOG; a failure becomes one :class:`SetupError` line."""
    LOG.parent.mkdir(parents=True, exist_ok=True)
    try:
        with LOG.open("a", encoding="utf-8") as log:
            log.write(f"\n$ {' '.join(str(c) for c in cmd)}\n")
            log.flush()
            code = subprocess.run([str(c) for c in cmd], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  **kw).returncode
    except OSError as exc:
        raise SetupError(f"{step} failed: cannot run {Path(str(cmd[0])).name} ({exc.strerror or exc})") from None
    if code != 0:
        said = [line.strip() for line in LOG.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
        last = said[-1][:200] if said and not said[-1].startswith("$ ") else "no output"
        raise SetupError(f"{step} failed (exit {code}): {last}. If the package index cannot be reached, check the "
                         f"network, proxy and PIP_INDEX_URL / UV_INDEX_URL; the installer's output is in {LOG}")


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"unsilo needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print("creating .venv", flush=True)
        run(sys.executable, "-m", "venv", VENV, step="creating .venv")
    inputs = [ROOT / "pyproject.toml", ROOT / "uv.lock", Path(__file__)]
    if STAMP.exists() and all(STAMP.stat().st_mtime >= p.stat().st_mtime for p in inputs):
        return
    if not (BIN / "uv").exists():
        print(f"installing uv {UV_VERSION} into .venv", flush=True)
        if subprocess.run([str(BIN / "python"), "-m", "pip", "--version"], capture_output=True).returncode != 0:
            run(BIN / "python", "-m", "ensurepip", "--upgrade", step="installing pip")  # a venv made without pip
        run(BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"uv=={UV_VERSION}",
            step=f"installing uv {UV_VERSION} with pip")
    print("installing the locked dependencies (uv sync --locked --compile-bytecode)", flush=True)
    env = dict(os.environ, UV_PROJECT_ENVIRONMENT=str(VENV))
    # --compile-bytecode: every process (CLI, Airflow task, test) then imports from .pyc even where
    # PYTHONDONTWRITEBYTECODE is set; without it a night spent ~6 s compiling great_expectations and pandas anew.
    run(BIN / "uv", "sync", "--locked", "--inexact", "--compile-bytecode", env=env,
        step="installing the locked dependencies with uv")
    STAMP.touch()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "setup"):
        print(__doc__)
        return 2
    try:
        ensure_venv()
    except SetupError as exc:
        print(f"tasks.py: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tasks.py: set-up interrupted; run it again to finish", file=sys.stderr)
        return 130
    command, rest = argv[0], argv[1:]
    if command == "setup":
        return 0
    exe = BIN / ("unsilo" if command == "demo" else "pytest")
    args = ["demo", *rest] if command == "demo" else rest
    return subprocess.run([str(exe), *args], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
