"""The example source YAMLs in sources/examples run on the real files they name (../shared/data/real): each
night reconciles, and what loads or goes to quarantine is what reading the files by hand gives."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from tests.night_fixture import KEY
from tests.services import unavailable
from unsilo.catalog import CatalogError, source
from unsilo.interval import Interval
from unsilo.night import run_source
from unsilo.settings import REPO, settings

REAL = REPO.parent / "shared" / "data" / "real"
EXAMPLES = REPO / "sources" / "examples"
NIGHT = Interval.night(dt.date(2026, 6, 1))


@pytest.fixture
def run(tmp_path, monkeypatch):
    if not REAL.is_dir():
        unavailable(f"real data folder ../shared/data/real is absent (looked in {REAL})")
    monkeypatch.setenv("UNSILO_HOME", str(tmp_path))
    monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", KEY)
    # the examples read the real files: the steward allows their folders as roots (docs/sources.md)
    monkeypatch.setenv("UNSILO_DEPARTMENT_ROOTS", ",".join(f"{d}={REAL / d}" for d in ("health", "housing", "transport")))
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)

    def go(name: str):
        cfg = settings()
        entry = run_source(source(str(EXAMPLES / name), cfg), NIGHT, cfg)
        assert entry.status == "success" and entry.reconciles()
        with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
            rules = [r for (r,) in con.execute("SELECT rules FROM meta.quarantine").fetchall()]
        return entry, rules

    return go


def records(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [r for r in csv.reader(f) if r][1:]


def test_the_examples_are_refused_without_their_roots(tmp_path, monkeypatch):
    if not REAL.is_dir():
        unavailable(f"real data folder ../shared/data/real is absent (looked in {REAL})")
    monkeypatch.setenv("UNSILO_HOME", str(tmp_path))
    monkeypatch.delenv("UNSILO_DEPARTMENT_ROOTS", raising=False)
    with pytest.raises(CatalogError, match="outside department transport's root"):
        source(str(EXAMPLES / "caltrain_stops.yaml"), settings())


def test_every_example_is_tested():
    tested = {"caltrain_stops.yaml", "caltrain_routes.yaml", "synthea_observations.yaml", "taiwan_housing_units.yaml"}
    assert {p.name for p in EXAMPLES.glob("*.yaml")} == tested


@pytest.mark.parametrize("name, file", [("caltrain_stops.yaml", "stops.txt"), ("caltrain_routes.yaml", "routes.txt")])
def test_caltrain_loads_every_row(run, name, file):
    entry, rules = run(name)
    assert entry.extracted == entry.loaded == len(records(REAL / "transport" / "caltrain-2017-07-24" / file)) > 0
    assert rules == []


def test_synthea_observations_all_quarantined_for_want_of_a_resident_id(run):
    entry, rules = run("synthea_observations.yaml")
    want = 0
    for path in (REAL / "health" / "synthea-r4").glob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        want += sum(e["resource"]["resourceType"] == "Observation" for e in doc["entry"])
    assert entry.extracted == entry.quarantined == want > 0
    assert all("id-check-digit" in r for r in rules)


def test_taiwan_second_header_row_and_every_row_kept_in_quarantine(run):
    entry, rules = run("taiwan_housing_units.yaml")
    assert entry.extracted == entry.quarantined == len(records(REAL / "housing" / "taiwan-lvr" / "a_lvr_land_a.csv")) - 1
    assert all("pattern-mismatch" in r and "required-missing" in r for r in rules)
