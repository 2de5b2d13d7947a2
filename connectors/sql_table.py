"""A table in a department's relational database (SQLite, PostgreSQL, MariaDB) over SQLAlchemy 2.

Rows whose cursor column falls in the interval are streamed with a server-side cursor (``stream_results``) in
batches, so memory is bounded by the batch size, not the table size.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from connectors.base import Connector, SourceError, as_strings

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# SQLite compares timestamps as text: bind the bounds as 'YYYY-MM-DD HH:MM:SS' (SQLAlchemy's default appends
# '.000000', which sorts after a stored '2026-06-01 00:00:00' and so moves midnight rows to the previous night).
BOUND = sa.DateTime().with_variant(
    sqlite.DATETIME(storage_format="%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d"), "sqlite"
)


def _ident(source_id: str, what: str, name: str) -> str:
    if not IDENT.match(name):
        raise SourceError(f"source {source_id}: {what} {name!r} is not a plain SQL identifier")
    return name


class SqlTable(Connector):
    """Options: ``url`` (SQLAlchemy URL), ``table``, ``key`` (primary key column), ``cursor`` (timestamp column)."""

    kind = "sql_table"

    def read(self, start: dt.date, end: dt.date) -> Iterator[pa.Table]:
        table = _ident(self.source_id, "table", self.option("table"))
        key = _ident(self.source_id, "key", self.option("key"))
        cursor = _ident(self.source_id, "cursor", self.option("cursor"))
        query = sa.text(f"SELECT * FROM {table} WHERE {cursor} >= :start AND {cursor} < :end ORDER BY {key}").bindparams(
            sa.bindparam("start", type_=BOUND), sa.bindparam("end", type_=BOUND)
        )
        url = self.option("url")
        try:
            engine = sa.create_engine(url)
        except Exception as exc:  # noqa: BLE001 - turned into a source error a steward can act on
            raise SourceError(f"source {self.source_id}: cannot use database URL: {exc}") from None
        bounds = {"start": dt.datetime.combine(start, dt.time()), "end": dt.datetime.combine(end, dt.time())}
        try:
            with engine.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=self.batch_rows).execute(query, bounds)
                names = list(result.keys())
                for rows in result.partitions(self.batch_rows):
                    cols = list(zip(*rows))
                    batch = as_strings(pa.table({n: pa.array(c) for n, c in zip(names, cols)}))
                    ids = pc.binary_join_element_wise(
                        pa.array([table] * batch.num_rows, pa.string()), batch.column(key), ":"
                    )
                    yield batch.append_column("_source_row", ids)
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(
                f"source {self.source_id}: reading table {table!r} failed: {str(exc).splitlines()[0]}"
            ) from None
        finally:
            engine.dispose()
