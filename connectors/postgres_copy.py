"""sql_table's fast path on PostgreSQL (psycopg 3): ``COPY (SELECT ...) TO STDOUT (FORMAT csv)`` parsed by Arrow.

The generic path (a server-side cursor, one Python object per value, then ``pa.array`` per column) spends most
of a large read building and converting Python objects. Here PostgreSQL writes the rows as CSV and Arrow's C++
reader parses ``batch_rows`` of them at a time into the Arrow types the generic path would have inferred from
psycopg's Python values, so ``as_strings`` turns both into the same text:

- integers -> int64, float4/float8 -> float64, bool -> bool, date -> date32, time -> time64[us],
  timestamp -> timestamp[us];
- timestamptz is selected ``AT TIME ZONE 'UTC'`` (Arrow cannot parse every offset PostgreSQL prints, such as
  ``+00:19:32``) and shown in the session's time zone, the zone psycopg gives its datetimes;
- numeric -> the decimal type ``pa.array`` infers from ``Decimal`` values: its scale is the largest number of
  fraction digits in the batch (so an unconstrained ``numeric`` column pads as the generic path does);
- text types and types psycopg has no loader for (enums, money, xml, ...) stay the text PostgreSQL prints.

A column of any other type (json, uuid, bytea, interval, arrays, ...) makes :func:`copy_batches` return None,
and the connector reads the table the generic way. PostgreSQL sends one CopyData message per row, so a batch is
exactly ``batch_rows`` messages; memory holds one batch of CSV text and its Arrow table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql

# PostgreSQL type OIDs parsed by Arrow into the type pa.array infers from psycopg's Python value
PARSED: dict[int, pa.DataType] = {
    16: pa.bool_(),  # bool
    20: pa.int64(), 21: pa.int64(), 23: pa.int64(), 26: pa.int64(),  # int8, int2, int4, oid
    700: pa.float64(), 701: pa.float64(),  # float4 (psycopg gives a Python float), float8
    1082: pa.date32(),  # date
    1083: pa.time64("us"),  # time
    1114: pa.timestamp("us"),  # timestamp
}
TIMESTAMPTZ, NUMERIC = 1184, 1700


@dataclass(frozen=True)
class Column:
    name: str
    parse: pa.DataType  # what Arrow's CSV reader parses the column as
    kind: str  # "plain", "numeric" (decimal inferred per batch) or "timestamptz"
    tz: str | None = None  # timestamptz: the zone psycopg gives its datetimes


def _session_zone(conn: psycopg.Connection) -> str:
    """The time zone pa.array would infer from psycopg's timestamptz values on this connection."""
    return pa.array([dt.datetime(2000, 1, 1, tzinfo=conn.info.timezone)]).type.tz


def columns(conn: psycopg.Connection, table: str) -> list[Column] | None:
    """The table's columns and how each is parsed, or None when a column's type has no fast conversion."""
    text = psycopg.pq.Format.TEXT
    text_loader = conn.adapters.get_loader(25, text)
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {table} LIMIT 0")
        description = cur.description
    found = []
    for col in description:
        oid = col.type_code
        if oid in PARSED:
            found.append(Column(col.name, PARSED[oid], "plain"))
        elif oid == NUMERIC:
            found.append(Column(col.name, pa.string(), "numeric"))
        elif oid == TIMESTAMPTZ:
            found.append(Column(col.name, pa.timestamp("us"), "timestamptz", _session_zone(conn)))
        elif conn.adapters.get_loader(oid, text) in (None, text_loader):  # psycopg hands over PostgreSQL's text
            found.append(Column(col.name, pa.string(), "plain"))
        else:
            return None
    return found


def numeric_type(values: pa.Array) -> pa.DataType:
    """The decimal type ``pa.array`` infers from the ``Decimal`` psycopg makes of each numeric text (PostgreSQL
    prints ``-123.4500``, never an exponent): scale the most fraction digits, precision the most whole digits
    (a leading ``0.`` has none) plus that scale."""
    values = values.drop_null()
    length = pc.binary_length(values)
    dot = pc.find_substring(values, ".")
    has_dot = pc.greater_equal(dot, 0)
    scale = pc.max(pc.if_else(has_dot, pc.subtract(pc.subtract(length, dot), 1), 0)).as_py() or 0
    whole = pc.subtract(pc.if_else(has_dot, dot, length), pc.cast(pc.starts_with(values, "-"), pa.int32()))
    zero = pc.or_(pc.starts_with(values, "0."), pc.starts_with(values, "-0."))
    whole = pc.max(pc.subtract(whole, pc.cast(zero, pa.int32()))).as_py() or 0
    precision = max(whole + scale, 1)
    if precision > 76:
        raise pa.ArrowInvalid(f"a numeric value of {precision} digits does not fit Arrow's largest decimal (76)")
    return pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)


def _typed(table: pa.Table, cols: list[Column]) -> pa.Table:
    arrays = []
    for col, values in zip(cols, table.columns):
        values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        if col.kind == "numeric":
            if values.null_count == len(values):
                values = pa.nulls(len(values))
            else:
                values = pc.cast(values, numeric_type(values))
        elif col.kind == "timestamptz":
            values = pc.cast(values, pa.timestamp("us", tz=col.tz))  # UTC wall time -> the same instants
        arrays.append(values)
    return pa.table(arrays, names=[c.name for c in cols])


def _parse(data: bytes | bytearray, cols: list[Column]) -> pa.Table:
    table = pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(column_names=[c.name for c in cols]),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c.name: c.parse for c in cols},
            null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False,  # NULL is an empty field
            true_values=["t"], false_values=["f"],
        ),
    )
    return _typed(table, cols)


def copy_batches(conn: psycopg.Connection, table: str, where_order: str, params: dict,
                 batch_rows: int) -> Iterator[pa.Table] | None:
    """``SELECT * FROM table <where_order>`` (``:name`` bound from ``params``) in Arrow tables of ``batch_rows``
    rows, typed as the generic path types them; None when a column needs the generic path."""
    cols = columns(conn, table)
    if cols is None:
        return None
    return _stream(conn, table, where_order, params, batch_rows, cols)


def _stream(conn, table, where_order, params, batch_rows, cols) -> Iterator[pa.Table]:
    select = ", ".join(
        f"{sql.Identifier(c.name).as_string(conn)} AT TIME ZONE 'UTC'" if c.kind == "timestamptz"
        else sql.Identifier(c.name).as_string(conn) for c in cols
    )
    for name, value in params.items():  # typed as psycopg binds them for the generic path
        cast = "::float8" if isinstance(value, float) else ""
        where_order = where_order.replace(f":{name}", f"%({name})s{cast}")
    query = psycopg.ClientCursor(conn).mogrify(f"SELECT {select} FROM {table} {where_order}", params)
    conn.execute("SET DateStyle TO ISO")  # psycopg reads any DateStyle; Arrow reads ISO
    conn.execute("SET client_encoding TO 'UTF8'")
    with conn.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
        data, rows = bytearray(), 0
        for row in copy:  # one CopyData message is one row
            data += row
            rows += 1
            if rows == batch_rows:
                yield _parse(data, cols)
                data, rows = bytearray(), 0
        if rows:
            yield _parse(data, cols)
