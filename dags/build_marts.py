"""Airflow DAG: rebuild the cross-department marts whenever a load lands new rows in an entity the catalog feeds.

Scheduled on the entity Assets the department DAGs' load tasks emit (any of them): marts follow their inputs,
not the clock. The work is ``unsilo.night.rebuild_marts`` (which also publishes the analyst snapshot when that
feature is present), in the one-slot warehouse pool.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetAny, dag, task

from unsilo.catalog import sources
from unsilo.settings import settings
from unsilo_assets import entity_asset
from unsilo_department_dag import DEFAULT_ARGS, WAREHOUSE_POOL

ENTITIES = sorted({s["entity"] for s in sources(settings())})


@dag(
    dag_id="build_marts",
    description="Rebuild the unsilo marts when department loads land",
    schedule=AssetAny(*(entity_asset(e) for e in ENTITIES)),
    start_date=pendulum.datetime(2026, 1, 1, tz=settings().timezone),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["unsilo", "marts"],
    doc_md=__doc__,
)
def build_marts():
    @task(pool=WAREHOUSE_POOL)
    def rebuild() -> list[str]:
        from unsilo.night import rebuild_marts
        from unsilo_connections import task_settings

        return rebuild_marts(task_settings())

    rebuild()


build_marts()
