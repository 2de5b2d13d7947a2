"""The analysts' warehouse: the published snapshot (read-only, atomic swap, nothing raw in it), the community mart
against an independent computation from the department files, history across nights, reads during a load, and a
load killed mid-transaction. The tests of this module share one generated night and run in file order."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pytest

from tests.night_fixture import generated_night
from tests.pause_before_commit import kill_at_commit
from unsilo.catalog import source, sources
from unsilo.interval import Interval
from unsilo.night import rebuild_marts, run_source
from unsilo.settings import settings

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
NO_EXTENSIONS = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        n = generated_night(tmp_path_factory, mp, people=200)
        n.entries = n.run()
        yield n


def current(night) -> Path:
    return night.home / "warehouse" / "snapshots" / "current.duckdb"


def tables(con) -> list[tuple[str, str]]:
    return con.execute("SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
                       "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1, 2").fetchall()


def test_the_snapshot_opens_read_only_in_a_fresh_process_without_any_extension(night, tmp_path):
    script = ("import duckdb, sys, json; c = duckdb.connect(sys.argv[1], read_only=True, config=json.loads(sys.argv[2]));"
              "print(json.dumps([c.execute(f'SELECT count(*) FROM {s}.{t}').fetchone()[0] for s, t in "
              "c.execute('SELECT schema_name, table_name FROM duckdb_tables()').fetchall()]))")
    env = dict(os.environ, HOME=str(tmp_path))  # no extension cache to fall back on
    out = subprocess.run([sys.executable, "-c", script, str(current(night)), json.dumps(NO_EXTENSIONS)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout)
    assert len(counts) >= 20 and sum(counts) > 0


def test_the_snapshot_leaves_out_the_restricted_schema_and_the_quarantine(night):
    with night.connect() as working:
        assert working.execute("SELECT count(*) FROM restricted.person_profile").fetchone()[0] > 100
        assert working.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0] > 0
    with duckdb.connect(str(current(night)), read_only=True) as con:
        names = {f"{s}.{t}" for s, t in tables(con)}
        comments = dict(((s, t), c) for s, t, c in con.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables()").fetchall())
    assert not any(n.startswith("restricted.") for n in names)
    assert "meta.quarantine" not in names
    assert {"std.person", "std.person_history", "marts.community_month", "meta.ledger"} <= names
    assert all(comments.values()), [k for k, v in comments.items() if not v]


def _raw_identities(night) -> set[str]:
    """Every resident ID number, name and exact address the departments exported."""
    dep = night.home / "departments"
    raw = set()
    for line in (dep / "health" / "bulk" / "2026-06-01" / "Patient.ndjson").read_text(encoding="utf-8").splitlines():
        p = json.loads(line)
        raw.update(i["value"] for i in p.get("identifier", []))
        raw.update(n["text"] for n in p.get("name", []) if n.get("text"))
        raw.update(a["text"] for a in p.get("address", []) if a.get("text"))
    for path in (dep / "employment" / "drop").glob("*.csv"):
        for row in csv.DictReader(io.StringIO(path.read_bytes().decode("gb18030", errors="replace"))):
            raw.update(v for k, v in row.items() if k in ("身份证号", "姓名") and v)
    with sqlite3.connect(dep / "housing" / "housing.db") as db:
        raw.update(a for (a,) in db.execute("SELECT address FROM housing_units") if a)
        raw.update(h for (h,) in db.execute("SELECT head_id_number FROM households") if h)
    return raw


def test_no_column_of_the_snapshot_holds_a_raw_id_number_name_or_exact_address(night):
    raw = _raw_identities(night)
    assert len(raw) > 400
    leaks = []
    with duckdb.connect(str(current(night)), read_only=True) as con:
        for schema, table in tables(con):
            for (column,) in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                                         "AND table_name = ?", [schema, table]).fetchall():
                values = {v for (v,) in con.execute(
                    f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM {schema}."{table}"').fetchall() if v}
                hit = (values & raw) | {v for v in values if ID_NUMBER.search(v)}
                if hit:
                    leaks.append(f"{schema}.{table}.{column}: {sorted(hit)[:3]}")
    assert leaks == []


def _date(text: str) -> dt.date | None:
    """The four date forms of the employment drop."""
    text = text.strip()
    if not text:
        return None
    for pattern in (r"(\d{4})年(\d{1,2})月(\d{1,2})日", r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})", r"(\d{4})(\d{2})(\d{2})"):
        m = re.fullmatch(pattern, text)
        if m:
            return dt.date(*map(int, m.groups()))
    raise ValueError(text)


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _independent_community_month(night) -> dict[str, dict]:
    """The community mart's figures, computed from the department files with plain Python, skipping the rows the
    truth says are defective (those are quarantined, not loaded)."""
    dep, truth = night.home / "departments", night.truth
    as_of = dt.date.fromisoformat(truth["night"])
    bad = {row for s in truth["sources"].values() for rows in s["defects"].values() for row in rows}
    out: dict[str, dict] = defaultdict(Counter)
    people = {}
    bulk = dep / "health" / "bulk" / "2026-06-01"
    for n, line in enumerate((bulk / "Patient.ndjson").read_text(encoding="utf-8").splitlines(), 1):
        if f"Patient.ndjson:{n}" not in bad:
            p = json.loads(line)
            people[p["identifier"][0]["value"]] = (p["address"][0]["extension"][0]["valueCode"],
                                                   dt.date.fromisoformat(p["birthDate"]))
    for community, born in people.values():
        age = _age(born, as_of)
        out[community]["residents"] += 1
        out[community]["working_age_residents"] += 16 <= age <= 59
        out[community]["children_under_7"] += age < 7
    immunized = set()
    for n, line in enumerate((bulk / "Immunization.ndjson").read_text(encoding="utf-8").splitlines(), 1):
        if f"Immunization.ndjson:{n}" not in bad:
            immunized.add(json.loads(line)["patient"]["identifier"]["value"])
    employed = set()
    text = (dep / "employment" / "drop" / "就业登记_20260601.csv").read_bytes().decode("gb18030", errors="replace")
    for n, row in enumerate(csv.DictReader(io.StringIO(text)), 2):
        if f"就业登记_20260601.csv:{n}" not in bad:
            start, end = _date(row["登记日期"]), _date(row["终止日期"])
            if start <= as_of and (end is None or end > as_of):
                employed.add(row["身份证号"])
    for rid, (community, born) in people.items():
        out[community]["employed_residents"] += rid in employed and 16 <= _age(born, as_of) <= 59
        out[community]["immunized_children"] += rid in immunized and _age(born, as_of) < 7
    with sqlite3.connect(dep / "housing" / "housing.db") as db:
        units = {u: a for u, a in db.execute("SELECT unit_id, floor_area FROM housing_units")
                 if f"housing_units:{u}" not in bad}
        households = {h: (c, u, m) for h, c, u, m in db.execute(
            "SELECT household_id, community_code, unit_id, members FROM households") if f"households:{h}" not in bad}
        subsidised = {h for s, h, start, end in db.execute(
            "SELECT subsidy_id, household_id, start_date, end_date FROM subsidies")
            if f"subsidies:{s}" not in bad and h in households and dt.date.fromisoformat(start) <= as_of
            and (end is None or dt.date.fromisoformat(end) > as_of)}
    area: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for h, (community, unit, members) in households.items():
        out[community]["households"] += 1
        out[community]["subsidised_households"] += h in subsidised
        if unit in units and members > 0:
            area[community][0] += units[unit]
            area[community][1] += members
    with zipfile.ZipFile(dep / "transport" / "gtfs.zip") as z:
        rows = list(csv.DictReader(io.StringIO(z.read("stops.txt").decode("utf-8"))))
    stops = {r["stop_id"]: (r["zone_id"], float(r["stop_lat"]), float(r["stop_lon"]))
             for n, r in enumerate(rows, 2) if f"stops.txt:{n}" not in bad}
    by_zone = defaultdict(list)
    for zone, lat, lon in stops.values():
        by_zone[zone].append((lat, lon))
    for zone, points in by_zone.items():
        clat, clon = sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)
        for _, lat, lon in stops.values():
            h = (math.sin(math.radians(lat - clat) / 2) ** 2
                 + math.cos(math.radians(clat)) * math.cos(math.radians(lat)) * math.sin(math.radians(lon - clon) / 2) ** 2)
            out[zone]["stops_within_walk"] += 2 * 6371008.8 * math.asin(math.sqrt(h)) <= 500
    ridership = (dep / "transport" / "ridership" / "ridership_20260601.csv").read_text(encoding="utf-8")
    for n, r in enumerate(csv.DictReader(io.StringIO(ridership)), 2):
        if f"ridership_20260601.csv:{n}" not in bad and r["stop_id"] in stops:
            out[stops[r["stop_id"]][0]]["boardings"] += int(r["boardings"])
    for community, c in out.items():
        c["floor_area_per_person_m2"] = round(area[community][0] / area[community][1], 2) if area[community][1] else None
    return out


def test_the_community_mart_matches_an_independent_computation_from_the_department_files(night):
    expected = _independent_community_month(night)
    pop = night.truth["population"]["communities"]
    with duckdb.connect(str(current(night)), read_only=True) as con:
        cur = con.execute("SELECT * FROM marts.community_month WHERE month = DATE '2026-06-01' AND level = 'community'")
        names = [d[0] for d in cur.description]
        rows = {r[0]: dict(zip(names, r)) for r in cur.fetchall()}
    assert set(rows) == set(pop)
    checked = 0
    for code, got in rows.items():
        want = expected[code]
        withheld = set((got["suppressed"] or "").split(","))  # disclosure control: NULL and named, never 0
        if 0 < want["residents"] < 5:
            assert got["residents"] is None and "residents" in withheld, code  # small cell suppressed
        for col in ("residents", "households", "working_age_residents", "employed_residents", "children_under_7",
                    "immunized_children", "subsidised_households", "floor_area_per_person_m2", "boardings"):
            assert got[col] == want[col] or (got[col] is None and col in withheld), (code, col)
        assert got["open_unemployment_claims"] in (pop[code]["open_unemployment_claims"], None), code
        assert got["residents"] is None or got["residents"] <= pop[code]["residents"]
        checked += got["residents"] is not None
    for code, got in rows.items():  # transit stops come from the public timetable: never suppressed
        assert got["stops_within_walk"] == expected[code]["stops_within_walk"], code
    assert checked >= len(rows) - 4
    assert sum(r["boardings"] or 0 for r in rows.values()) > 0
    assert sum(r["employed_residents"] or 0 for r in rows.values()) > 0


def test_small_cells_follow_unsilo_min_cell(night, monkeypatch):
    monkeypatch.setenv("UNSILO_MIN_CELL", "100000")
    rebuild_marts(settings())
    with duckdb.connect(str(current(night)), read_only=True) as con:
        shown = "count(*) FILTER (WHERE residents > 0), count(*) FILTER (WHERE households > 0)"  # zeros are shown
        assert con.execute(f"SELECT {shown} FROM marts.community_month").fetchone() == (0, 0)
        assert con.execute(f"SELECT {shown} FROM marts.community_overview").fetchone() == (0, 0)
    monkeypatch.delenv("UNSILO_MIN_CELL")
    rebuild_marts(settings())


def test_a_reader_of_the_old_snapshot_keeps_reading_across_swaps_and_pruning(night):
    old = duckdb.connect(str(current(night)), read_only=True)
    before = old.execute("SELECT count(*) FROM std.person").fetchone()[0]
    old_file = current(night).resolve()
    for _ in range(4):
        rebuild_marts(settings())
    assert not old_file.exists()  # pruned: only the newest UNSILO_SNAPSHOTS_KEEP (3) remain
    assert len(list(current(night).parent.glob("unsilo-*.duckdb"))) == 3
    assert old.execute("SELECT count(*) FROM std.person").fetchone()[0] == before
    old.close()


ANALYST = """
import json, sys, time, pathlib
from warehouse.analyst_read import analyst_read  # the sandboxed read unsilo query uses
snapshot, stop, report = map(pathlib.Path, sys.argv[1:4])
seen, errors = [], []
while True:
    last = stop.exists()
    try:
        with analyst_read(snapshot) as c:
            runs = sorted({n for (n,) in c.query("SELECT count(*) FROM meta.ledger GROUP BY source").fetchall()})
            arrears = c.query("SELECT sum(arrears_months) FROM std.tenancy").fetchall()[0][0]
            versions = c.query("SELECT count(*) FROM std.tenancy_history").fetchall()[0][0]
        seen.append([runs, arrears, versions])
    except Exception as exc:
        errors.append(repr(exc))
    if last:
        break
report.write_text(json.dumps({"seen": seen, "errors": errors}))
"""


def test_an_analyst_querying_during_a_night_sees_whole_nights_only(night, tmp_path):
    with duckdb.connect(str(current(night)), read_only=True) as c:
        old_arrears = c.execute("SELECT sum(arrears_months) FROM std.tenancy").fetchone()[0]
    with sqlite3.connect(night.home / "departments" / "housing" / "housing.db") as db:
        db.execute("UPDATE tenancies SET arrears_months = arrears_months + 5 WHERE tenancy_id = 'T000003'")
    stop, report = tmp_path / "stop", tmp_path / "report.json"
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(current(night)), str(stop), str(report)])
    try:
        time.sleep(0.5)
        entries = night.run()  # every source again, then marts and a new snapshot
        assert all(e.status == "success" for e in entries)
        time.sleep(0.5)
    finally:
        stop.touch()
        analyst.wait(timeout=60)
    result = json.loads(report.read_text())
    assert result["errors"] == []
    seen = result["seen"]
    assert len(seen) >= 5
    for runs, arrears, versions in seen:
        assert len(runs) == 1, runs  # every source has run as often as every other: a whole night
        assert arrears == (old_arrears if runs == [1] else old_arrears + 5)
    assert seen[0][0] == [1] and seen[-1][0] == [2]


def test_history_keeps_the_version_of_each_night_and_a_rerun_adds_none(night):
    nxt = Interval(night.interval.end, night.interval.end + dt.timedelta(days=1))
    with sqlite3.connect(night.home / "departments" / "housing" / "housing.db") as db:
        db.execute("UPDATE tenancies SET arrears_months = arrears_months + 1, updated_at = ? WHERE tenancy_id = "
                   "'T000003'", [f"{nxt.start} 09:00:00"])
    entry = run_source(source("housing_tenancies", settings()), nxt, settings())
    assert (entry.extracted, entry.loaded, entry.unchanged) == (1, 1, 0)
    again = run_source(source("housing_tenancies", settings()), nxt, settings())
    assert (again.loaded, again.unchanged) == (0, 1)
    with night.connect() as con:
        versions = con.execute("SELECT valid_from, valid_to, is_current FROM std.tenancy_history "
                               "WHERE tenancy_id = 'T000003' ORDER BY valid_from").fetchall()
        current_rows = con.execute("SELECT count(*) FROM std.tenancy").fetchone()[0]
        all_ids = con.execute("SELECT count(DISTINCT tenancy_id) FROM std.tenancy_history").fetchone()[0]
    assert versions == [(night.interval.start, nxt.start, False), (nxt.start, None, True)]
    assert current_rows == all_ids


def _state(con) -> dict:
    out = {}
    for schema, table in tables(con):
        if schema in ("std", "meta", "marts", "restricted"):
            out[f"{schema}.{table}"] = sorted(map(repr, con.execute(f'SELECT * FROM {schema}."{table}"').fetchall()))
    return out


def test_a_load_killed_mid_transaction_leaves_the_warehouse_as_it_was_and_the_next_run_completes_it(night):
    with night.connect() as con:
        before = _state(con)
    with sqlite3.connect(night.home / "departments" / "housing" / "housing.db") as db:
        db.execute("UPDATE tenancies SET monthly_rent = monthly_rent + 100 WHERE tenancy_id = 'T000005'")
    # the pause is injected from outside (tests/pause_before_commit.py): the load waits before its COMMIT
    code = kill_at_commit("unsilo.night", ["sync", "housing_tenancies", "--start", night.interval.start.isoformat()],
                          dict(os.environ), wait=90)
    assert code == -signal.SIGKILL
    with night.connect() as con:
        assert _state(con) == before
    entry = run_source(source("housing_tenancies", settings()), night.interval, settings())
    assert entry.loaded == 1 and entry.reconciles()
    with night.connect() as con:
        rent = con.execute("SELECT count(*) FROM std.tenancy_history WHERE tenancy_id = 'T000005'").fetchone()[0]
    assert rent == 1  # same night re-run with a corrected row: its version is replaced, not duplicated
    assert len(list(sources(settings()))) > 10
