"""A real Airflow deployment for integration tests: PostgreSQL metadata, an API server, a scheduler, workers.

Shared by the scheduler-driven tests (``test_airflow_backfill.py``, ``test_airflow_celery.py``): the settings every
Airflow process needs, starting each process in its own process group, and ending all of them (with their task
subprocesses) even when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
JWT_SECRET = "unsilo-test-jwt-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def airflow_cluster(monkeypatch: pytest.MonkeyPatch, url: str, executor: str, api_port: int) -> None:
    """Point every Airflow process this test starts at the PostgreSQL database ``url`` and the API server."""
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", url)
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
                       url.replace("postgresql+psycopg://", "postgresql+psycopg_async://"))
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", executor)
    monkeypatch.setenv("AIRFLOW__CORE__PARALLELISM", "8")
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", f"http://127.0.0.1:{api_port}/execution/")
    monkeypatch.setenv("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", str(free_port()))
    monkeypatch.setenv("AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC", "1")


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start ``airflow <args>`` in a process group of its own (so :func:`stop` also ends its children)."""
    return subprocess.Popen([AIRFLOW, *args], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def airflow_cli(args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    out = subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"airflow {' '.join(args)}: " + out.stdout[-2000:] + out.stderr[-2000:]
    return out.stdout


def stop(procs: list[subprocess.Popen], timeout: float = 30) -> None:
    """End the Airflow processes this test started, with their children (workers, task runners), and return only
    when none of them is left: a task runner killed mid-write holds the warehouse's DuckDB lock until the kernel
    has finished its exit, after its group leader has already been reaped."""
    groups = [p.pid for p in procs]
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
    for p in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout)
    deadline = time.monotonic() + timeout
    while left := members(groups):
        for group in groups:  # whatever of a group is left (a runner ignoring SIGTERM, a child of a dead leader)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(1)
        assert time.monotonic() < deadline, f"Airflow processes still alive {timeout:.0f} s after SIGKILL: {left}"
        time.sleep(0.2)


def members(groups: list[int]) -> list[int]:
    """The live (not zombie) processes in the process groups ``groups``."""
    alive = []
    for proc in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(proc.pid) in groups and proc.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(proc.pid)
    return alive


def wait_for_port(port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, f"the Airflow API server did not listen on {port}"
            time.sleep(0.5)


def wait_for_backfill_runs(url: str, expected: int, timeout: float) -> list[tuple[str, str, str]]:
    """Poll the metadata DB until ``expected`` backfill runs have finished; return (dag_id, logical_date, state)
    ordered by DAG and date. Fails with the runs and the unfinished task instances when time runs out."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as con:
                runs = [tuple(map(str, r)) for r in con.execute(sa.text(
                    "SELECT dag_id, logical_date, state FROM dag_run WHERE backfill_id IS NOT NULL "
                    "ORDER BY dag_id, logical_date")).fetchall()]
                if len(runs) == expected and all(state in ("success", "failed") for _, _, state in runs):
                    return runs
                tis = con.execute(sa.text(
                    "SELECT dag_id, task_id, state FROM task_instance WHERE state <> 'success'")).fetchall()
            assert time.monotonic() < deadline, f"backfill runs not finished in {timeout:.0f} s: {runs}; {tis}"
            time.sleep(2)
    finally:
        engine.dispose()
