"""Landing Parquet (raw IDs) is kept for a declared number of nights, then removed with a ledger row."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.night_fixture import generated_night
from unsilo.catalog import source, sources
from unsilo.landing_retention import KEEP_VARIABLE, STATUS, keep_nights, landed_nights, remove_old_landing
from unsilo.night import rebuild_marts, run_source
from unsilo.replay import ReplayError, replay
from unsilo.settings import SettingsError, settings
from warehouse.schema import connect

DAY = dt.date(2026, 5, 1)


def land(home: Path, source_id: str, days: range) -> list[Path]:
    folder = home / "landing" / source_id
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for d in days:
        start = DAY + dt.timedelta(days=d)
        path = folder / f"{start:%Y%m%d}-{start + dt.timedelta(days=1):%Y%m%d}.parquet"
        path.write_bytes(b"PAR1")
        out.append(path)
    return out


def ledger(con, status=STATUS) -> list[tuple]:
    return con.execute("SELECT source, interval_start, interval_end, extracted, loaded, quarantined, unchanged, "
                       "message FROM meta.ledger WHERE status = ? ORDER BY source", [status]).fetchall()


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("UNSILO_HOME", str(home))
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)
    monkeypatch.delenv("UNSILO_SOURCES", raising=False)
    monkeypatch.delenv(KEEP_VARIABLE, raising=False)
    return home


def test_nights_past_the_default_seven_are_removed_and_noted(home):
    cfg = settings()
    ridership = land(home, "transport_ridership", range(10))
    stops = land(home, "transport_stops", range(3, 10))  # exactly seven nights: all kept
    with connect(cfg.warehouse) as con:
        assert remove_old_landing(con, cfg) == {"transport_ridership": 3}
        rows = ledger(con)
    assert [p.exists() for p in ridership] == [False] * 3 + [True] * 7 and all(p.exists() for p in stops)
    assert len(rows) == 1
    src, start, end, *counts, message = rows[0]
    assert (src, start, end, counts) == ("transport_ridership", DAY, DAY + dt.timedelta(days=3), [0, 0, 0, 0])
    assert "removed 3 landing files (3 nights" in message and f"{KEEP_VARIABLE} = 7" in message
    with connect(cfg.warehouse) as con:
        assert remove_old_landing(con, cfg) == {} and len(ledger(con)) == 1  # nothing more to remove, no new row


def test_the_setting_and_a_source_yaml_key_declare_the_nights(home, tmp_path, monkeypatch):
    catalog = tmp_path / "sources"
    shutil.copytree(Path(settings().sources_dir), catalog)
    spec = yaml.safe_load((catalog / "transport_stops.yaml").read_text(encoding="utf-8"))
    spec["landing_keep_nights"] = 2
    (catalog / "transport_stops.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("UNSILO_SOURCES", str(catalog))
    monkeypatch.setenv(KEEP_VARIABLE, "4")
    cfg = settings()
    land(home, "transport_ridership", range(10))
    land(home, "transport_stops", range(10))
    with connect(cfg.warehouse) as con:
        assert remove_old_landing(con, cfg) == {"transport_ridership": 6, "transport_stops": 8}
        messages = dict((r[0], r[-1]) for r in ledger(con))
    assert [n.start.day for n in landed_nights(cfg, "transport_ridership")] == [7, 8, 9, 10]
    assert [n.start.day for n in landed_nights(cfg, "transport_stops")] == [9, 10]
    assert "landing_keep_nights in sources/transport_stops.yaml = 2" in messages["transport_stops"]
    assert f"{KEEP_VARIABLE} = 4" in messages["transport_ridership"]
    monkeypatch.setenv(KEEP_VARIABLE, "0")
    with pytest.raises(SettingsError, match=KEEP_VARIABLE):
        keep_nights(source("transport_ridership", settings()))


@pytest.fixture(scope="module")
def housing(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        n = generated_night(tmp_path_factory, mp, people=120)
        mp.delenv(KEEP_VARIABLE, raising=False)
        cfg = settings()
        for s in sources(cfg, "housing"):
            run_source(s, n.interval, cfg)
        yield n


def test_replay_works_within_retention_and_names_a_removed_night(housing):
    cfg = settings()
    tenancies = source("housing_tenancies", cfg)
    night_file = landed_nights(cfg, "housing_tenancies")[0].path
    with connect(cfg.warehouse) as con:
        quarantined = con.execute("SELECT count(*) FROM meta.quarantine WHERE source = 'housing_tenancies'"
                                  ).fetchone()[0]
    assert quarantined > 0
    # a newer night six nights later: the demo night is still within the seven kept
    shutil.copy(night_file, night_file.with_name("20260607-20260608.parquet"))
    rebuild_marts(cfg)
    assert night_file.exists()
    entries = replay(tenancies, cfg)
    assert [(e.status, e.interval_start, e.extracted) for e in entries] == [("replay", housing.interval.start,
                                                                            quarantined)]
    # eight nights later: the end of that night removes the demo night's landing file and says so in the ledger
    shutil.copy(night_file, night_file.with_name("20260609-20260610.parquet"))
    rebuild_marts(cfg)
    assert not night_file.exists()
    with connect(cfg.warehouse, read_only=True) as con:
        rows = [r for r in ledger(con) if r[0] == "housing_tenancies"]
    assert len(rows) == 1 and rows[0][1] == housing.interval.start and "removed 1 landing file (1 night," in rows[0][-1]
    with pytest.raises(ReplayError) as err:
        replay(tenancies, cfg)
    said = str(err.value)
    assert "the night 2026-06-01 is removed by landing retention" in said
    assert KEEP_VARIABLE in said and "unsilo sync housing_tenancies --start 2026-06-01" in said
    with duckdb.connect(str(housing.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM meta.quarantine WHERE source = 'housing_tenancies'"
                           ).fetchone()[0] == quarantined  # still there, for the steward to re-run the night
