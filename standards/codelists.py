"""Code lists (``standards/codelists/NAME.csv``) and crosswalks from department codes (``NAME.crosswalk.csv``)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

CODELISTS_DIR = Path(__file__).parent / "codelists"


@cache
def codelist(name: str) -> dict[str, dict[str, str]]:
    """Code -> its row (label, label_zh, ...)."""
    path = CODELISTS_DIR / f"{name}.csv"
    if not path.exists():
        raise KeyError(f"no code list {name!r} (expected {path})")
    with path.open(encoding="utf-8", newline="") as f:
        return {row["code"]: row for row in csv.DictReader(f)}


@cache
def crosswalk(name: str, system: str) -> dict[str, str]:
    """Department code -> standard code for one source system; empty if the system uses standard codes."""
    path = CODELISTS_DIR / f"{name}.crosswalk.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {row["source_code"]: row["code"] for row in csv.DictReader(f) if row["system"] == system}


def codelist_names() -> list[str]:
    return sorted(p.stem for p in CODELISTS_DIR.glob("*.csv") if not p.stem.endswith(".crosswalk"))
