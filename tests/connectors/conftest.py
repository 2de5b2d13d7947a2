"""Shared fixtures of the connector tests: one generated demo district, the real third-party files, reading helpers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.base import read_all
from tests.services import unavailable

from unsilo.demo import generate

NIGHT = dt.date(2026, 6, 1)
NEXT = dt.date(2026, 6, 2)
PEOPLE = 200
# /work/main/tests/connectors/conftest.py -> /work/shared/data/real
REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    """``(departments folder, truth)`` of one small generated district; tests must not modify it."""
    home = tmp_path_factory.mktemp("demo-home")
    truth = generate(home, people=PEOPLE)
    return home / "departments", truth


@pytest.fixture(scope="session")
def real() -> Path:
    if not REAL.is_dir():
        unavailable(f"real data folder ../shared/data/real is absent (looked in {REAL})")
    return REAL


def read_batches(conn, start: dt.date = NIGHT, end: dt.date = NEXT) -> list[pa.Table]:
    return read_all(lambda: conn.read(start, end))


def read_table(conn, start: dt.date = NIGHT, end: dt.date = NEXT) -> pa.Table:
    """All batches concatenated (an empty table when the connector yields none)."""
    batches = read_batches(conn, start, end)
    if not batches:
        return pa.table({})
    return pa.concat_tables([b if isinstance(b, pa.Table) else pa.Table.from_batches([b]) for b in batches])
