"""The one DAG shape every department shares: one task per source in the catalog, on a nightly data interval.

DAG files are configuration: no database, network or heavy import at parse time; the work is ``unsilo.night``,
imported inside the task.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from unsilo.catalog import sources
from unsilo.settings import settings

TIMEZONE = settings().timezone  # the city's days: UNSILO_TIMEZONE, default Asia/Shanghai
#: Every task that writes the DuckDB file runs in this one-slot pool (created by ``unsilo`` before a run):
#: DuckDB allows one writing process per file.
WAREHOUSE_POOL = "unsilo_warehouse"
START = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)
DEFAULT_ARGS = {
    "owner": "unsilo",
    "retries": 2,
    "retry_delay": pendulum.duration(minutes=5),
    "retry_exponential_backoff": True,
}


def department_dag(department: str):
    source_ids = [s["id"] for s in sources(settings(), department)]

    @dag(
        dag_id=f"sync_{department}",
        description=f"Nightly sync of the {department} department's sources into the unsilo warehouse",
        schedule=CronDataIntervalTimetable("0 0 * * *", timezone=TIMEZONE),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["unsilo", department],
        doc_md=__doc__,
    )
    def sync():
        @task(task_id="build_marts", trigger_rule="all_done", pool=WAREHOUSE_POOL)
        def marts() -> list[str]:
            from unsilo.night import rebuild_marts
            from unsilo.settings import settings as current

            return rebuild_marts(current())

        done = marts()
        for source_id in source_ids:

            @task(task_id=source_id, pool=WAREHOUSE_POOL)
            def run(source_id: str = source_id, data_interval_start=None, data_interval_end=None) -> dict:
                from unsilo.night import run_airflow_task

                return run_airflow_task(source_id, data_interval_start, data_interval_end, TIMEZONE)

            run() >> done

    return sync()
