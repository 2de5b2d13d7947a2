"""Marts: SQL files in ``warehouse/marts/``, rebuilt after loads."""

from __future__ import annotations

from pathlib import Path

import duckdb

MARTS_DIR = Path(__file__).parent / "marts"


def build_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    built = []
    for path in sorted(MARTS_DIR.glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))
        built.append(f"marts.{path.stem}")
    return built
