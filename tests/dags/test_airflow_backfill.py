"""Airflow 3's own backfill on the department DAGs: ``airflow backfill create`` for three nights of sync_transport,
run by a real scheduler (LocalExecutor, PostgreSQL metadata, an API server for the task SDK), lands each night in
the warehouse ledger."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import duckdb
import pytest

from tests.dags.airflow_cluster import (
    airflow_cli, airflow_cluster, free_port, start, stop, wait_for_backfill_runs, wait_for_port,
)
from tests.night_fixture import generated_night
from tests.services import server_database
from unsilo.airflow_runner import airflow_env, prepare
from unsilo.catalog import sources
from unsilo.settings import settings

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.services,
    # a scheduler, an API server and 27 task processes: minutes on a shared machine, so CI runs it, a laptop need not
    pytest.mark.skipif(os.environ.get("CI") != "true", reason="runs under CI=true (a scheduler-driven backfill)"),
]
NIGHTS = [dt.date(2026, 6, 1), dt.date(2026, 6, 2), dt.date(2026, 6, 3)]
TIMEOUT_SECONDS = 300


def ridership_for(home: Path, day: dt.date) -> None:
    folder = home / "departments" / "transport" / "ridership"
    text = (folder / f"ridership_{NIGHTS[0]:%Y%m%d}.csv").read_text(encoding="utf-8")
    (folder / f"ridership_{day:%Y%m%d}.csv").write_text(text.replace(str(NIGHTS[0]), str(day)), encoding="utf-8")


def test_airflow_backfill_create_runs_three_nights_with_a_scheduler(tmp_path_factory, monkeypatch):
    night = generated_night(tmp_path_factory, monkeypatch, people=60)
    for day in NIGHTS[1:]:
        ridership_for(night.home, day)
    with server_database("postgresql", "unsilo_airflow") as url:
        api = free_port()
        airflow_cluster(monkeypatch, url, "LocalExecutor", api)
        monkeypatch.setenv("UNSILO_RETRIES", "0")  # the scheduler's own run of the latest night has no data
        cfg = settings()
        log = night.home / "airflow.log"
        prepare(cfg, log)
        env = airflow_env(cfg)
        logs = night.home / "airflow"
        t0 = time.monotonic()
        procs = [start(["api-server", "--port", str(api)], env, logs / "api.log")]
        try:
            # the scheduler only starts a backfill's runs for an unpaused DAG (DAGs are paused at creation)
            airflow_cli(["dags", "unpause", "sync_transport"], env)
            wait_for_port(api, t0 + 120)  # tasks report to the API server: it must be up before the scheduler
            procs.append(start(["scheduler"], env, logs / "scheduler.log"))
            # CronDataIntervalTimetable: a run's logical date is the start of its data interval (local midnight)
            first = f"{NIGHTS[0]}T00:00:00+08:00"
            last = f"{NIGHTS[-1]}T00:00:00+08:00"
            airflow_cli(["backfill", "create", "--dag-id", "sync_transport", "--from-date", first, "--to-date", last],
                        env)
            runs = wait_for_backfill_runs(url, 3, TIMEOUT_SECONDS)
        finally:
            stop(procs)
    print(f"backfill of 3 nights: {time.monotonic() - t0:.0f} s from starting the API server")
    assert [state for _, _, state in runs] == ["success"] * 3, runs
    transport = {s["id"] for s in sources(cfg, "transport")}
    with duckdb.connect(str(night.warehouse), read_only=True) as con:
        ledger = con.execute(
            "SELECT source, interval_start, interval_end, status FROM meta.ledger WHERE interval_start IN (?, ?, ?)",
            NIGHTS).fetchall()
        days = con.execute("SELECT DISTINCT service_date FROM std.daily_ridership ORDER BY 1").fetchall()
    assert sorted(ledger) == sorted((s, d, d + dt.timedelta(days=1), "success") for s in transport for d in NIGHTS)
    assert [d for (d,) in days] == NIGHTS
