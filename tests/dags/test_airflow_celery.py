"""Scale-out: the four department DAGs for the demo night on CeleryExecutor over Redis, PostgreSQL metadata, two
Celery workers; the warehouse ends identical to the same night run in-process, both workers ran tasks, and the
ledger reconciles."""

from __future__ import annotations

import os
import re
import subprocess
import time

import duckdb
import pytest

from tests.dags.airflow_cluster import (
    airflow_cli, airflow_cluster, free_port, start, stop, wait_for_backfill_runs, wait_for_port,
)
from tests.night_fixture import generated_night
from tests.services import server_database, unavailable
from unsilo.airflow_runner import airflow_env, prepare
from unsilo.catalog import sources
from unsilo.demo import NIGHT
from unsilo.night import run_source
from unsilo.settings import settings

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.services,
    # an API server, a scheduler, two Celery workers and ~40 task processes: minutes, so CI runs it, a laptop need not
    pytest.mark.skipif(os.environ.get("CI") != "true", reason="runs under CI=true (Celery workers over Redis)"),
]
DAGS = ["sync_health", "sync_employment", "sync_housing", "sync_transport"]
PEOPLE = 120
REDIS_DB = 7  # a Redis database of this test's own, flushed afterwards
TIMEOUT_SECONDS = 240
RECEIVED = re.compile(r"Task \S*execute_workload\[[0-9a-f-]+\] received")
#: Lineage that differs by run by design: which run wrote a row, and when.
PER_RUN = {"_run_id", "_extracted_at", "run_id", "quarantined_at"}


def redis_cli(*args: str) -> str:
    try:
        out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "-n", str(REDIS_DB), *args],
                             capture_output=True, text=True, timeout=10)
    except FileNotFoundError:
        unavailable("redis-cli not installed (apt-get install redis-tools)")
    if out.returncode != 0 or out.stdout.startswith("Could not connect"):
        unavailable(f"Redis not reachable at 127.0.0.1:6379: start it with `redis-server --daemonize yes` ({out.stdout}"
                    f"{out.stderr})".strip())
    return out.stdout.strip()


def warehouse_state(path) -> dict[str, list]:
    """Every standard table and the quarantine, without the per-run lineage columns."""
    out = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND "
            "(table_schema = 'std' OR (table_schema = 'meta' AND table_name = 'quarantine')) ORDER BY 1, 2").fetchall()
        for schema, name in tables:
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position", [schema, name]).fetchall() if c not in PER_RUN]
            rows = con.execute(f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} FROM "{schema}"."{name}"')
            out[f"{schema}.{name}"] = sorted(map(repr, rows.fetchall()))
    return out


def test_two_celery_workers_run_the_four_departments_like_one_process(tmp_path_factory, monkeypatch):
    assert redis_cli("PING") == "PONG"
    redis_cli("FLUSHDB")
    night = generated_night(tmp_path_factory, monkeypatch, people=PEOPLE)
    with server_database("postgresql", "unsilo_airflow") as url:
        api = free_port()
        airflow_cluster(monkeypatch, url, "CeleryExecutor", api)
        monkeypatch.setenv("AIRFLOW__CELERY__BROKER_URL", f"redis://127.0.0.1:6379/{REDIS_DB}")
        monkeypatch.setenv("AIRFLOW__CELERY__RESULT_BACKEND", f"db+{url}")
        monkeypatch.setenv("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE", "False")  # only the runs this test asks for
        monkeypatch.setenv("UNSILO_RETRIES", "0")  # a failure shows at once instead of after backoff
        cfg = settings()
        prepare(cfg, night.home / "airflow.log")
        env = airflow_env(cfg)
        logs = night.home / "airflow"
        t0 = time.monotonic()
        procs = [start(["api-server", "--port", str(api)], env, logs / "api.log")]
        workers = {name: logs / f"{name}.log" for name in ("worker1", "worker2")}
        try:
            for name, log in workers.items():  # two workers on one machine: distinct names, distinct log servers
                procs.append(start(["celery", "worker", "--celery-hostname", name, "--concurrency", "2"],
                                   {**env, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}, log))
            for dag_id in DAGS:  # the scheduler starts runs of unpaused DAGs only
                airflow_cli(["dags", "unpause", dag_id], env)
            wait_for_port(api, t0 + 120)  # tasks report to the API server: it must be up before they run
            procs.append(start(["scheduler"], env, logs / "scheduler.log"))
            # the demo night [2026-06-01, 2026-06-02) local: a run's logical date is its interval's start
            night_start = f"{NIGHT}T00:00:00+08:00"
            for dag_id in DAGS:
                airflow_cli(["backfill", "create", "--dag-id", dag_id, "--from-date", night_start,
                             "--to-date", night_start], env)
            runs = {dag: state for dag, _, state in wait_for_backfill_runs(url, len(DAGS), TIMEOUT_SECONDS)}
        finally:
            stop(procs)
            redis_cli("FLUSHDB")
    print(f"four departments on two Celery workers: {time.monotonic() - t0:.0f} s from starting the API server")
    assert runs == dict.fromkeys(DAGS, "success"), runs
    ran = {name: len(RECEIVED.findall(log.read_text(encoding="utf-8", errors="replace")))
           for name, log in workers.items()}
    print(f"tasks per worker: {ran}")
    assert all(ran.values()), f"each worker should have run tasks: {ran}"
    assert sum(ran.values()) == 3 * len(sources(cfg)), ran  # extract, normalize_validate, load per source

    with duckdb.connect(str(night.warehouse), read_only=True) as con:
        ledger = con.execute("SELECT source, extracted, loaded, quarantined, unchanged, status FROM meta.ledger "
                             "WHERE interval_start = ?", [NIGHT]).fetchall()
    assert {r[0] for r in ledger} == set(night.truth["sources"]) and len(ledger) == len(night.truth["sources"])
    for src, extracted, loaded, quarantined, unchanged, status in ledger:
        assert status == "success", src
        assert extracted == loaded + quarantined + unchanged == night.truth["sources"][src]["rows"], src

    celery = warehouse_state(night.warehouse)
    local = generated_night(tmp_path_factory, monkeypatch, people=PEOPLE)  # the same district, a fresh data root
    cfg = settings()
    assert [run_source(s, local.interval, cfg).status for s in sources(cfg)] == ["success"] * len(sources(cfg))
    in_process = warehouse_state(local.warehouse)
    assert any(in_process.values()) and in_process.keys() == celery.keys()
    for table in in_process:
        assert celery[table] == in_process[table], table
