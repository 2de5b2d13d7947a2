"""Run the department DAGs through real Airflow (``airflow dags test``) on the embedded default.

Airflow runs as a subprocess with its own home under the data root (SQLite metadata), so no Airflow code is
imported here.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from unsilo.settings import REPO, Settings

DAGS_FOLDER = REPO / "dags"
WAREHOUSE_POOL = "unsilo_warehouse"  # the pool the DAGs' writing tasks use (dags/unsilo_department_dag.py)


class AirflowError(RuntimeError):
    pass


def airflow_env(settings: Settings) -> dict[str, str]:
    home = settings.home / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            # Airflow sets its task logs' modes itself (0664/0775 by default), past the umask: owner-only here too
            "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FILE_PERMISSIONS": "0o600",
            "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FOLDER_PERMISSIONS": "0o700",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": env.get(
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}"
            ),
            "UNSILO_HOME": str(settings.home),
            "UNSILO_WAREHOUSE": str(settings.warehouse),
            "UNSILO_SOURCES": str(settings.sources_dir),
            "UNSILO_TIMEZONE": settings.timezone,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        }
    )
    return env


def airflow(args: list[str], settings: Settings, log: Path) -> None:
    exe = Path(sys.executable).with_name("airflow")
    cmd = [str(exe) if exe.exists() else "airflow", *args]
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(cmd, env=airflow_env(settings), stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    if proc.returncode != 0:
        raise AirflowError(f"`airflow {' '.join(args)}` failed (exit {proc.returncode}); see {log}")


def prepare(settings: Settings, log: Path) -> None:
    """Migrate the metadata DB and serialize the DAGs (``airflow dags test`` needs both)."""
    airflow(["db", "migrate"], settings, log)
    airflow(["pools", "set", WAREHOUSE_POOL, "1", "One writer of the unsilo DuckDB warehouse at a time"], settings, log)
    airflow(["dags", "reserialize"], settings, log)


def logical_date(night: dt.date, timezone: str) -> str:
    """The run that covers ``[night, night+1)`` local: Airflow infers a manual run's interval as the one ending
    at the logical date, so pass the end of the night."""
    end = dt.datetime.combine(night + dt.timedelta(days=1), dt.time())
    from zoneinfo import ZoneInfo

    return end.replace(tzinfo=ZoneInfo(timezone)).isoformat()


def run_dag(dag_id: str, night: dt.date, settings: Settings, log: Path) -> None:
    airflow(["dags", "test", dag_id, logical_date(night, settings.timezone)], settings, log)


def run_marts(settings: Settings, log: Path) -> None:
    """Run the asset-scheduled ``build_marts`` DAG once: under ``airflow dags test`` nothing triggers it by itself."""
    airflow(["dags", "test", "build_marts"], settings, log)
