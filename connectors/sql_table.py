"""A table in a department's relational database (SQLite, PostgreSQL, MariaDB) over SQLAlchemy 2.

Rows whose cursor column falls in the interval are streamed with a server-side cursor (``stream_results``) in
batches, so memory is bounded by the batch size, not the table size. On PostgreSQL (psycopg) the rows come as
``COPY ... TO STDOUT`` CSV that Arrow parses a batch at a time instead (connectors/postgres_copy.py; option
``copy: false`` turns it off): the same text, several times faster than building a Python object per value.

With ``incremental: true`` the interval does not bound the query: the rows read are those whose cursor is at or
after the last cursor value a load committed (``_state``, kept in ``meta.source_state``) minus ``lookback``
(seconds for a timestamp cursor, units for a number; default 3600). ``>=`` re-reads the rows that share the last
value, and the lookback re-reads rows that committed late with an older value; the warehouse's merge recognises
the ones it already has as unchanged. ``_full_refresh`` reads the whole table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from connectors import postgres_copy
from connectors.base import Connector, Option, SourceError, as_strings
from standards.redact import scrub

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# SQLite compares timestamps as text: bind the bounds as 'YYYY-MM-DD HH:MM:SS' (SQLAlchemy's default appends
# '.000000', which sorts after a stored '2026-06-01 00:00:00' and so moves midnight rows to the previous night).
BOUND = sa.DateTime().with_variant(
    sqlite.DATETIME(storage_format="%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d"), "sqlite"
)


def _later(kind: str, a: str, b: str) -> bool:
    if kind == "datetime":
        return dt.datetime.fromisoformat(a) > dt.datetime.fromisoformat(b)
    if kind == "number":
        return float(a) > float(b)
    return a > b


def _ident(source_id: str, what: str, name: str) -> str:
    if not IDENT.match(name):
        raise SourceError(f"source {source_id}: {what} {name!r} is not a plain SQL identifier")
    return name


class SqlTable(Connector):
    """Options: ``url`` (SQLAlchemy URL), ``table``, ``key`` (primary key column), ``cursor`` (timestamp column)."""

    kind = "sql_table"
    OPTIONS = Connector.OPTIONS + (
        Option("url", ("string",), "SQLAlchemy URL (sqlite:///..., postgresql+psycopg://..., mysql+pymysql://...)",
               required=True, path="sqlite_url"),
        Option("url_env", ("string",), "an environment variable that holds the URL (wins over url); its name ends "
               "in _URL, so no other variable (a key, a password) can be read into an error message",
               pattern=r"^[A-Z][A-Z0-9_]*_URL$"),
        Option("conn_id", ("string",), "an Airflow Connection whose URL a task puts in url_env"),
        Option("table", ("string",), "a plain identifier", required=True, pattern=IDENT.pattern),
        Option("key", ("string",), "primary key column (source_row is <table>:<key>)", required=True,
               pattern=IDENT.pattern),
        Option("cursor", ("string",), "a timestamp (or number) column", required=True, pattern=IDENT.pattern),
        Option("incremental", ("boolean",), "read from the last committed cursor minus lookback", False),
        Option("lookback", ("number",), "seconds (number cursor: units) re-read before the saved cursor", 3600),
        Option("copy", ("boolean",), "PostgreSQL: read with COPY ... TO STDOUT parsed by Arrow", True),
    )

    state: dict | None = None

    def _incremental(self, key: str, cursor: str) -> tuple[str, dict, dict]:
        """The WHERE and ORDER BY of an incremental read from the saved state, its bounds and their types."""
        saved = None if self.options.get("_full_refresh") else self.options.get("_state")
        self.state = saved
        if not saved:
            return f"ORDER BY {key}", {}, {}
        lookback = float(self.options.get("lookback", 3600))
        if saved["type"] == "datetime":
            since, types = dt.datetime.fromisoformat(saved["cursor"]) - dt.timedelta(seconds=lookback), {"since": BOUND}
        elif saved["type"] == "number":
            since, types = float(saved["cursor"]) - lookback, {}
        else:
            since, types = saved["cursor"], {}
        return f"WHERE {cursor} >= :since ORDER BY {key}", {"since": since}, types

    def _advance(self, values: pa.Array) -> None:
        """Keep the largest cursor value read (compared as the database's type, stored as text)."""
        values = values.drop_null()
        if len(values) == 0:
            return
        top = pc.max(values).as_py()
        if isinstance(top, str):  # SQLite keeps timestamps as ISO text, which sorts as time
            try:
                top = dt.datetime.fromisoformat(top)
            except ValueError:
                pass
        kind = "datetime" if isinstance(top, dt.datetime) else "number" if isinstance(top, (int, float)) else "text"
        if kind == "datetime" and top.tzinfo is not None:
            top = top.astimezone(dt.timezone.utc).replace(tzinfo=None)
        value = top.isoformat(sep=" ") if kind == "datetime" else str(top)
        old = self.state
        if not old or old.get("type") != kind or _later(kind, value, old["cursor"]):
            self.state = {"cursor": value, "type": kind, "column": self.option("cursor")}

    def read(self, start: dt.date, end: dt.date) -> Iterator[pa.Table]:
        table = _ident(self.source_id, "table", self.option("table"))
        key = _ident(self.source_id, "key", self.option("key"))
        cursor = _ident(self.source_id, "cursor", self.option("cursor"))
        incremental = bool(self.options.get("incremental"))
        where = f"WHERE {cursor} >= :start AND {cursor} < :end ORDER BY {key}"
        bounds = {"start": dt.datetime.combine(start, dt.time()), "end": dt.datetime.combine(end, dt.time())}
        types = {"start": BOUND, "end": BOUND}
        if incremental:
            where, bounds, types = self._incremental(key, cursor)
        url = self.option("url")
        try:
            engine = sa.create_engine(url)
        except Exception as exc:  # noqa: BLE001 - turned into a source error a steward can act on
            raise SourceError(f"source {self.source_id}: cannot use database URL: {scrub(exc)}") from None
        try:
            with engine.connect() as conn:
                batches = None
                if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg" and self.options.get(
                        "copy", True):
                    batches = postgres_copy.copy_batches(conn.connection.driver_connection, table, where, bounds,
                                                         self.batch_rows)
                if batches is None:
                    batches = self._fetched(conn, table, where, bounds, types)
                for raw in batches:
                    if incremental:
                        self._advance(raw.column(cursor).combine_chunks())
                    batch = as_strings(raw)
                    ids = pc.binary_join_element_wise(pa.scalar(table), batch.column(key), ":")
                    yield batch.append_column("_source_row", ids)
        except (sa.exc.SQLAlchemyError, psycopg.Error) as exc:
            raise SourceError(
                f"source {self.source_id}: reading table {table!r} failed: {scrub(str(exc).splitlines()[0])}"
            ) from None
        except pa.ArrowInvalid as exc:
            raise SourceError(
                f"source {self.source_id}: table {table!r} holds a value that cannot be read: {scrub(exc)} (the rows are in the department's table, never in this message)"
            ) from None
        finally:
            engine.dispose()
            pa.default_memory_pool().release_unused()  # hand the batches' freed memory back before the next step

    def _fetched(self, conn: sa.Connection, table: str, where: str, bounds: dict, types: dict) -> Iterator[pa.Table]:
        """Any database: a server-side cursor, ``batch_rows`` rows at a time, each column through ``pa.array``."""
        query = sa.text(f"SELECT * FROM {table} {where}").bindparams(
            *(sa.bindparam(name, type_=type_) for name, type_ in types.items())
        )
        result = conn.execution_options(stream_results=True, yield_per=self.batch_rows).execute(query, bounds)
        names = list(result.keys())
        for rows in result.partitions(self.batch_rows):
            yield pa.table({n: pa.array(c) for n, c in zip(names, zip(*rows))})
