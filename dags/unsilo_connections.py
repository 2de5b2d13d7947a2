"""Department credentials inside Airflow tasks: from the Airflow Connection a source YAML names, never from the YAML.

A source YAML names where its credentials live, not what they are::

    connector:
      url: "sqlite:///{home}/departments/housing/housing.db"   # the embedded demo default
      url_env: UNSILO_HOUSING_URL                              # the CLI: an environment variable
      conn_id: housing_db                                      # Airflow: a Connection

Inside a task, when the Connection exists, its SQLAlchemy URL is put in the task process's ``url_env`` variable,
which ``unsilo.catalog`` reads; the URL (and its password) is never logged. Only this module (in ``dags/``) knows
Airflow Connections; ``unsilo`` sees an environment variable as it does on the CLI.
"""

from __future__ import annotations

import os

import yaml

from unsilo.catalog import source_paths
from unsilo.settings import Settings, settings

#: Airflow connection types -> SQLAlchemy drivers installed with unsilo. ``extra: {"drivername": ...}`` overrides.
DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
}


def connection_url(conn) -> str:
    """The SQLAlchemy URL of an Airflow Connection (login, password, host, port, schema = database)."""
    from sqlalchemy.engine import URL

    extra = conn.extra_dejson or {}
    if extra.get("sqlalchemy_url"):
        return extra["sqlalchemy_url"]
    driver = extra.get("drivername") or DRIVERS.get(conn.conn_type, conn.conn_type)
    url = URL.create(driver, username=conn.login or None, password=conn.password or None, host=conn.host or None,
                     port=conn.port or None, database=conn.schema or None)
    return url.render_as_string(hide_password=False)


def task_settings() -> Settings:
    """The settings a task runs with, after putting each Connection-backed source's URL in its ``url_env``."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    cfg = settings()
    for path in source_paths(cfg):
        options = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("connector") or {}
        conn_id, env = options.get("conn_id"), options.get("url_env")
        if not conn_id or not env:
            continue
        try:
            conn = Connection.get(conn_id)
        except AirflowNotFoundException:  # no such Connection: the environment variable or the YAML default stands
            continue
        os.environ[env] = connection_url(conn)
    pseudonym_key_connection()
    return cfg


def pseudonym_key_connection() -> None:
    """Hand the Connection ``unsilo_pseudonym_key`` (its password: the key chain) to unsilo in the form Airflow gives
    a Connection defined in the environment (``AIRFLOW_CONN_UNSILO_PSEUDONYM_KEY``, JSON), which unsilo.settings
    reads; a Connection kept in the metadata database reaches a task only through ``Connection.get``."""
    import json

    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from unsilo.settings import KEY_CONN_ENV, KEY_CONN_ID

    if os.environ.get(KEY_CONN_ENV):
        return
    try:
        conn = Connection.get(KEY_CONN_ID)
    except AirflowNotFoundException:
        return
    if conn.password:
        os.environ[KEY_CONN_ENV] = json.dumps({"conn_type": conn.conn_type or "generic", "password": conn.password})
