"""Code lists (``standards/codelists/NAME.csv``) and crosswalks from department codes (``NAME.crosswalk.csv``)."""

from __future__ import annotations

import csv
import os
from functools import cache
from pathlib import Path

CODELISTS_DIR = Path(__file__).parent / "codelists"


def codelists_dir() -> Path:
    """``UNSILO_CODELISTS`` (e.g. a steward's fixed copy, before the fix is committed), else the standard's own."""
    return Path(os.environ.get("UNSILO_CODELISTS") or CODELISTS_DIR)


def codelist(name: str) -> dict[str, dict[str, str]]:
    """Code -> its row (label, label_zh, ...)."""
    return _codelist(codelists_dir(), name)


def crosswalk(name: str, system: str) -> dict[str, str]:
    """Department code -> standard code for one source system; empty if the system uses standard codes."""
    return _crosswalk(codelists_dir(), name, system)


@cache
def _codelist(directory: Path, name: str) -> dict[str, dict[str, str]]:
    path = directory / f"{name}.csv"
    if not path.exists():
        raise KeyError(f"no code list {name!r} (expected {path})")
    with path.open(encoding="utf-8", newline="") as f:
        return {row["code"]: row for row in csv.DictReader(f)}


@cache
def _crosswalk(directory: Path, name: str, system: str) -> dict[str, str]:
    path = directory / f"{name}.crosswalk.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {row["source_code"]: row["code"] for row in csv.DictReader(f) if row["system"] == system}


def codelist_names() -> list[str]:
    return sorted(p.stem for p in codelists_dir().glob("*.csv") if not p.stem.endswith(".crosswalk"))
