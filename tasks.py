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


def run(*cmd: str | Path, **kw) -> None:
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"unsilo needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print("creating .venv", flush=True)
        run(sys.executable, "-m", "venv", VENV)
    inputs = [ROOT / "pyproject.toml", ROOT / "uv.lock", Path(__file__)]
    if STAMP.exists() and all(STAMP.stat().st_mtime >= p.stat().st_mtime for p in inputs):
        return
    if not (BIN / "uv").exists():
        print(f"installing uv {UV_VERSION} into .venv", flush=True)
        if subprocess.run([str(BIN / "python"), "-m", "pip", "--version"], capture_output=True).returncode != 0:
            run(BIN / "python", "-m", "ensurepip", "--upgrade")  # a venv made without pip
        run(BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"uv=={UV_VERSION}")
    print("installing the locked dependencies (uv sync --locked --compile-bytecode)", flush=True)
    env = dict(os.environ, UV_PROJECT_ENVIRONMENT=str(VENV))
    # --compile-bytecode: every process (CLI, Airflow task, test) then imports from .pyc even where
    # PYTHONDONTWRITEBYTECODE is set; without it a night spent ~6 s compiling great_expectations and pandas anew.
    run(BIN / "uv", "sync", "--locked", "--inexact", "--compile-bytecode", env=env)
    STAMP.touch()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "setup"):
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "setup":
        return 0
    exe = BIN / ("unsilo" if command == "demo" else "pytest")
    args = ["demo", *rest] if command == "demo" else rest
    return subprocess.run([str(exe), *args], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
