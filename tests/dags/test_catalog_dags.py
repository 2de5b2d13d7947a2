"""DAGs from the catalog: a new department added as one YAML (plus its root) appears as a DAG with no code edit and
runs through real Airflow; a source declaring ``schedule: weekly`` gets its own weekly DAG on an explicit data
interval; the marts DAG listens to the new department's entity too."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from tests.night_fixture import night_env
from unsilo.airflow_runner import DAGS_FOLDER, airflow, airflow_env, prepare, run_dag
from unsilo.demo.resident_id import compose
from unsilo.settings import REPO, settings

pytestmark = pytest.mark.airflow
WEEK = [dt.date(2026, 6, 1) + dt.timedelta(days=i) for i in range(7)]  # Monday 1 June to Sunday 7 June

PROBE = """
import json, sys
from pathlib import Path
from airflow.dag_processing.dagbag import BundleDagBag
bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=Path(sys.argv[1]))
out = {"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    tt = dag.timetable
    cond = getattr(tt, "asset_condition", None)
    out["dags"][dag_id] = {"timetable": type(tt).__name__, "cron": getattr(tt, "_expression", None),
                           "tz": str(getattr(tt, "_timezone", "")), "tasks": sorted(t.task_id for t in dag.tasks),
                           "assets": sorted(a.uri for a in getattr(cond, "objects", ()))}
print(json.dumps(out))
"""


def welfare_yaml(source_id: str, pattern: str, schedule: str | None) -> str:
    return "\n".join([
        f"id: {source_id}",
        "department: welfare",
        "entity: unemployment_claim",
        "description: The welfare office's claims, a nightly UTF-8 CSV drop.",
        *([f"schedule: {schedule}"] if schedule else []),
        "connector:",
        "  kind: csv_drop",
        '  folder: "{home}/departments/welfare/drop"',
        f'  pattern: "{pattern}"',
        "quality:",
        "  row_count: false",
        "fields:",
        "  claim_id: claim",
        "  person_key: {from: resident_id, pseudonymize: person}",
        '  registered_on: {from: registered, formats: ["%Y-%m-%d"]}',
        "  status_code: status",
        "  community_code: community",
        "",
    ])


def drop(path: Path, prefix: str, day: dt.date, rows: int) -> None:
    lines = ["claim,resident_id,registered,status,community"]
    for i in range(rows):
        rid = compose("440305", dt.date(1980 + i, 1 + i, 10), 100 + i)
        lines.append(f"{prefix}{day:%Y%m%d}{i},{rid},{day},open,440305001001")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def welfare(tmp_path_factory):
    """The shipped catalog plus a new department, welfare: one daily and one weekly source, their files under
    ``<home>/departments/welfare`` (its root, named in UNSILO_DEPARTMENT_ROOTS)."""
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("welfare")
        night_env(mp, home)
        catalog = home / "sources"
        shutil.copytree(REPO / "sources", catalog, ignore=shutil.ignore_patterns("examples"))
        (catalog / "welfare_claims.yaml").write_text(
            welfare_yaml("welfare_claims", "claims_{date:%Y%m%d}.csv", None), encoding="utf-8")
        (catalog / "welfare_weekly.yaml").write_text(
            welfare_yaml("welfare_weekly", "weekly_{date:%Y%m%d}.csv", "weekly"), encoding="utf-8")
        mp.setenv("UNSILO_SOURCES", str(catalog))
        mp.setenv("UNSILO_DEPARTMENT_ROOTS", "welfare={home}/departments/welfare")
        drop(home / "departments" / "welfare" / "drop" / "claims_20260601.csv", "D", WEEK[0], 4)
        for day in WEEK:
            drop(home / "departments" / "welfare" / "drop" / f"weekly_{day:%Y%m%d}.csv", "W", day, 2)
        yield home


def parsed() -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(DAGS_FOLDER)], env=airflow_env(settings()),
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_new_department_yaml_appears_as_dags_on_explicit_intervals(welfare):
    bag = parsed()
    assert bag["import_errors"] == {}
    dags = bag["dags"]
    assert set(dags) == {"sync_health", "sync_employment", "sync_housing", "sync_transport", "sync_welfare",
                         "sync_welfare_weekly", "build_marts"}
    daily, weekly = dags["sync_welfare"], dags["sync_welfare_weekly"]
    tz = settings().timezone
    assert (daily["timetable"], daily["cron"], daily["tz"]) == ("CronDataIntervalTimetable", "0 0 * * *", tz)
    assert (weekly["timetable"], weekly["cron"], weekly["tz"]) == ("CronDataIntervalTimetable", "0 0 * * 1", tz)
    assert daily["tasks"] == [f"welfare_claims.{t}" for t in ("extract", "load", "normalize_validate")]
    assert weekly["tasks"] == [f"welfare_weekly.{t}" for t in ("extract", "load", "normalize_validate")]
    others = [d["cron"] for k, d in dags.items() if k.startswith("sync_") and k != "sync_welfare_weekly"]
    assert others == ["0 0 * * *"] * 5
    assert dags["build_marts"]["timetable"] == "AssetTriggeredTimetable"
    assert "unsilo://std/unemployment_claim" in dags["build_marts"]["assets"]
    assert "unsilo://std/transit_stop" in dags["build_marts"]["assets"]


def test_the_new_department_runs_through_airflow_daily_and_weekly(welfare):
    cfg = settings()
    log = welfare / "airflow.log"
    prepare(cfg, log)
    run_dag("sync_welfare", WEEK[0], cfg, log)  # the night [1 June, 2 June)
    # the weekly run whose interval ends on Monday 8 June, local: the week [1 June, 8 June)
    monday = dt.datetime(2026, 6, 8, tzinfo=ZoneInfo(cfg.timezone)).isoformat()
    airflow(["dags", "test", "sync_welfare_weekly", monday], cfg, log)
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        ledger = {r[0]: r[1:] for r in con.execute(
            "SELECT source, interval_start::VARCHAR, interval_end::VARCHAR, status, extracted, loaded "
            "FROM meta.ledger").fetchall()}
        claims = con.execute("SELECT count(*) FROM std.unemployment_claim").fetchone()[0]
    assert ledger == {"welfare_claims": ("2026-06-01", "2026-06-02", "success", 4, 4),
                      "welfare_weekly": ("2026-06-01", "2026-06-08", "success", 14, 14)}
    assert claims == 18

