"""Airflow DAGs from the source catalog: one DAG per department and schedule found in ``sources/*.yaml``.

A source YAML names its ``department`` and may declare a ``schedule`` (``daily`` by default, ``weekly``,
``hourly`` or a cron expression, on the city's clock ``UNSILO_TIMEZONE``). Its sources are grouped by
(department, schedule); each group is one DAG (dags/unsilo_department_dag.py): ``sync_<department>`` for the
daily sources, ``sync_<department>_<schedule>`` for the others. A new department's YAML gets its DAG at the next
parse with no code edit (the department needs a root: docs/night.md).

Configuration only: reading the catalog's small YAML files is the one thing done at parse time.
"""

from __future__ import annotations

from unsilo.catalog import sources
from unsilo.interval import DEFAULT_SCHEDULE
from unsilo.settings import settings
from unsilo_department_dag import dag_id, department_dag


def catalog_groups(catalog: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """The catalog's sources by (department, schedule), in a stable order."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for src in catalog:
        groups.setdefault((src["department"], src.get("schedule") or DEFAULT_SCHEDULE), []).append(src)
    return dict(sorted(groups.items()))


for (_department, _schedule), _sources in catalog_groups(sources(settings())).items():
    globals()[dag_id(_department, _schedule)] = department_dag(_department, _sources, _schedule)
