"""Bring a warehouse made before an entity gained ``history: scd2`` up to date, once, when it is opened for writing.

Such a warehouse has ``std.<entity>`` as a plain table and no versions. Its rows become the first versions in
``std.<entity>_history`` (``valid_from`` = the start of the night of the run that loaded each row, from the
ledger), and ``std.<entity>`` becomes the view of current versions, all in one transaction.
"""

from __future__ import annotations

import duckdb

from standards.ddl import LINEAGE_COLUMNS
from standards.entity import entities


def adopt_history(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Return the entities whose plain table was turned into history."""
    tables = {name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'std'"
    ).fetchall()}
    adopted = []
    for e in entities().values():
        if e.history != "scd2" or e.name not in tables:
            continue
        cols = ", ".join([f'"{f.name}"' for f in e.fields] + list(LINEAGE_COLUMNS))
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                f"""INSERT INTO {e.history_table} ({cols}, valid_from, valid_to, is_current)
                SELECT {', '.join(f't.{c}' for c in cols.split(', '))},
                       coalesce(l.interval_start, CAST(t._extracted_at AS DATE)), NULL, true
                FROM {e.table} t LEFT JOIN meta.ledger l ON l.run_id = t._run_id"""
            )
            con.execute(f"DROP TABLE {e.table}")
            current = cols + ", valid_from"
            con.execute(f"CREATE VIEW {e.table} AS SELECT {current} FROM {e.history_table} WHERE is_current")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        adopted.append(e.name)
    return adopted
