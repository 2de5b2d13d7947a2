"""One generated district and its night, run in-process, shared by the end-to-end tests of a module."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from unsilo.catalog import sources
from unsilo.demo import NIGHT, generate
from unsilo.interval import Interval
from unsilo.night import rebuild_marts, run_source
from unsilo.settings import settings

KEY = "test-pseudonym-key"
PEOPLE = 300


@dataclass
class Night:
    home: Path
    truth: dict
    interval: Interval

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse" / "unsilo.duckdb"

    def run(self):
        cfg = settings()
        entries = [run_source(s, self.interval, cfg) for s in sources(cfg)]
        rebuild_marts(cfg)
        return entries

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.warehouse), read_only=True)


def night_env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("UNSILO_HOME", str(home))
    monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)
    monkeypatch.delenv("UNSILO_SOURCES", raising=False)
    monkeypatch.delenv("UNSILO_HOUSING_URL", raising=False)


def generated_night(tmp_path_factory, monkeypatch: pytest.MonkeyPatch, people: int = PEOPLE) -> Night:
    home = tmp_path_factory.mktemp("night")
    night_env(monkeypatch, home)
    generate(home, people=people)
    truth = json.loads((home / "departments" / "truth.json").read_text(encoding="utf-8"))
    return Night(home=home, truth=truth, interval=Interval.night(NIGHT))


def ran_night(tmp_path_factory, people: int = PEOPLE):
    """A generated district after its night (marts and snapshot included), for a module-scoped fixture to yield
    from: ``yield from ran_night(tmp_path_factory, 120)``."""
    with pytest.MonkeyPatch.context() as mp:
        night = generated_night(tmp_path_factory, mp, people=people)
        night.run()
        yield night
