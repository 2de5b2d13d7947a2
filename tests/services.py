"""Real database servers and real data for tests: skip on a laptop without them, fail under CI=true.

On a laptop without the server the test skips, saying what to start; under ``CI=true`` it fails instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

SERVERS = {
    "postgresql": {
        "label": "PostgreSQL", "where": "127.0.0.1:5432", "base": "postgresql+psycopg://postgres@127.0.0.1:5432/",
        "admin_db": "postgres", "start": "pg_ctlcluster 15 main start", "create": "", "query": "",
        "drop": " WITH (FORCE)",
    },
    "mariadb": {
        "label": "MariaDB", "where": "127.0.0.1:3306", "base": "mysql+pymysql://root@127.0.0.1:3306/",
        "admin_db": "", "start": "start-stop-daemon --start --background --exec /usr/sbin/mariadbd",
        "create": " CHARACTER SET utf8mb4", "query": "?charset=utf8mb4", "drop": "",
    },
}


def unavailable(message: str) -> None:
    """Skip on a laptop; under CI=true what a test needs must be there, so fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true requires it)")
    pytest.skip(message)


@contextmanager
def server_database(kind: str, prefix: str = "unsilo_test") -> Iterator[str]:
    """Create ``<prefix>_<random>`` on the server and yield its SQLAlchemy URL; drop it afterwards."""
    s = SERVERS[kind]
    admin = sa.create_engine(s["base"] + s["admin_db"], isolation_level="AUTOCOMMIT",
                             connect_args={"connect_timeout": 3})
    name = f"{prefix}_{secrets.token_hex(5)}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}{s['create']}"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        unavailable(f"{s['label']} not reachable at {s['where']}: start it with `{s['start']}` "
                    f"({str(exc).splitlines()[0][:120]})")
    try:
        yield s["base"] + name + s["query"]
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}{s['drop']}"))
        admin.dispose()
