"""The one DAG shape every department shares: per source in the catalog, three tasks on the source's data interval.

``<source>.extract`` -> ``<source>.normalize_validate`` -> ``<source>.load``: a steward sees in the grid which step
of which source failed. The steps hand each other Parquet files under the data root (``UNSILO_HOME``; a shared
volume when workers run on several machines); XCom carries paths and counts only. Only ``load`` writes the DuckDB
warehouse, so only ``load`` runs in the one-slot pool. Each load emits one Airflow Asset per entity
(``unsilo://std/<entity>``); the ``build_marts`` DAG is scheduled on those assets.

Sources fail alone: each source is its own chain of tasks, so a failing source never blocks the others. A source
error (a missing drop, a database that is down) is retried with exponential backoff; any other error (a mapping
that does not fit the data) fails at once, since retrying cannot fix it.

DAG files are configuration: no database, network or heavy import at parse time beyond reading the source
catalog's YAML files; the work is ``unsilo.night_tasks``, imported inside the tasks.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import TaskGroup, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from unsilo.catalog import sources
from unsilo.settings import settings
from unsilo_assets import entity_asset

TIMEZONE = settings().timezone  # the city's days: UNSILO_TIMEZONE, default Asia/Shanghai
#: Every task that writes the DuckDB file runs in this one-slot pool (created by ``unsilo`` before a run):
#: DuckDB allows one writing process per file.
WAREHOUSE_POOL = "unsilo_warehouse"
START = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)
DEFAULT_ARGS = {
    "owner": "unsilo",
    "retries": int(os.environ.get("UNSILO_RETRIES", "2")),
    "retry_delay": pendulum.duration(seconds=float(os.environ.get("UNSILO_RETRY_DELAY_SECONDS", "300"))),
    "retry_exponential_backoff": True,
    "max_retry_delay": pendulum.duration(hours=1),
}


def _interval(data_interval_start, data_interval_end):
    """The run's data interval as the city's calendar days ``[start, end)`` (a part of a day widens to its day)."""
    from unsilo.interval import Interval

    return Interval.covering(data_interval_start.in_timezone(TIMEZONE), data_interval_end.in_timezone(TIMEZONE))


def _settings():
    from unsilo_connections import task_settings

    return task_settings()


def _retry_only_source_errors(step):
    """Run a step; an error that is not the source's (retrying will not fix it) fails the task without retries."""
    from airflow.sdk.exceptions import AirflowFailException

    from connectors import SourceError

    try:
        return step()
    except SourceError:
        raise
    except Exception as exc:
        raise AirflowFailException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc


@task(multiple_outputs=False)
def extract(source_id: str, data_interval_start=None, data_interval_end=None) -> dict:
    from unsilo.night_tasks import extract_task

    interval = _interval(data_interval_start, data_interval_end)
    return _retry_only_source_errors(lambda: extract_task(source_id, interval, _settings()))


@task(multiple_outputs=False)
def normalize_validate(handoff: dict) -> dict:
    from unsilo.night_tasks import transform_task

    return _retry_only_source_errors(lambda: transform_task(handoff, _settings()))


@task(pool=WAREHOUSE_POOL, multiple_outputs=False)
def load(handoff: dict) -> dict:
    from unsilo.night_tasks import load_task

    return _retry_only_source_errors(lambda: load_task(handoff, _settings()))


def dag_id(department: str, schedule: str | None = None) -> str:
    """``sync_<department>`` for the daily sources, ``sync_<department>_<schedule>`` for the others
    (``sync_welfare_weekly``, ``sync_transport_hourly``, ``sync_health_cron_30_2_x_x_x``)."""
    from unsilo.interval import DEFAULT_SCHEDULE, schedule_slug

    slug = schedule_slug(schedule)
    return f"sync_{department}" if slug == DEFAULT_SCHEDULE else f"sync_{department}_{slug}"


def department_dag(department: str, catalog: list[dict] | None = None, schedule: str | None = None):
    """The DAG of ``department``'s sources that run on ``schedule`` (``catalog``: those sources, already read)."""
    from unsilo.interval import DEFAULT_SCHEDULE, schedule_cron

    schedule = schedule or DEFAULT_SCHEDULE
    if catalog is None:
        catalog = [s for s in sources(settings(), department) if (s.get("schedule") or DEFAULT_SCHEDULE) == schedule]

    @dag(
        dag_id=dag_id(department, schedule),
        description=f"The {department} department's {schedule} sources into the unsilo warehouse",
        schedule=CronDataIntervalTimetable(schedule_cron(schedule), timezone=TIMEZONE),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["unsilo", department],
        doc_md=__doc__,
    )
    def sync():
        for src in catalog:
            with TaskGroup(group_id=src["id"], tooltip=src.get("description", "")):
                load.override(outlets=[entity_asset(src["entity"])])(normalize_validate(extract(src["id"])))

    return sync()
