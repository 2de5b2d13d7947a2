"""sql_table's PostgreSQL fast path (COPY parsed by Arrow, connectors/postgres_copy.py) gives the same text, NULLs,
batches and cursor state as the generic path (a server-side cursor and ``pa.array`` per column), on a table of
awkward values, under a non-UTC session time zone and a non-ISO DateStyle too."""

from __future__ import annotations

import datetime as dt
import decimal
import random
from urllib.parse import quote

import pyarrow as pa
import pytest
import sqlalchemy as sa

from tests.connectors.conftest import read_batches, read_table
from tests.services import server_database

from connectors import SourceError, SqlTable, postgres_copy

DAY, NEXT_DAY = dt.date(2026, 6, 1), dt.date(2026, 6, 2)

AWKWARD = """
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TABLE awkward (
    id integer PRIMARY KEY, i2 smallint, i8 bigint, pos positive, r real, d double precision,
    money2 numeric(12,2), free numeric, tiny numeric(20,10), hundreds numeric(5,-2), whole numeric(5,0),
    b boolean, day date, at timestamp, at3 timestamp(3), zoned timestamptz, clock time,
    tx text, vc varchar(8), ch char(4), m mood, nm name,
    updated_at timestamp NOT NULL
);
INSERT INTO awkward VALUES
 (1, -32768, 9223372036854775807, 1, 0.1, 0.1, -0.05, 1.5, 0.0000000001, 12300, 12345, true, '2026-06-01',
  '2026-06-01 00:00:00.123456', '2026-06-01 10:00:00.5', '2026-06-01 20:00:00+08', '10:00:00',
  'a"b,c', '', 'ab', 'ok', 'n', '2026-06-01 00:00:00'),
 (2, NULL, NULL, NULL, 'NaN', 'Infinity', 0, 2.25, 0, NULL, NULL, false, '0001-01-01', '1970-01-01', NULL,
  '2026-06-01 20:00:00.5+00', '23:59:59.999999', E'line1\\nline2\\r\\n"q"\\t;', NULL, NULL, 'sad', NULL,
  '2026-06-01 01:00:00'),
 (3, 0, -1, 7, '-Infinity', 1e300, 9999999999.99, -0.000001, -1.5, -100, 0, NULL, NULL, NULL, NULL,
  '1900-01-01 00:00:00+00:19:32', NULL, '社区 ü 😀 €', 'NULL', E'\\\\N', NULL, '', '2026-06-01 02:00:00'),
 (4, 1, 1, 2, 3.4e38, 5e-324, 1.1, 123456789012345678901234567890, 1234567890.0123456789, 0, 1, true,
  '9999-12-31', '9999-12-31 23:59:59.999999', '2000-02-29 23:59:59.999', '1850-06-01 12:00:00+05:30',
  '00:00', ' ', ' a ', 'x', 'ok', 'x', '2026-06-01 03:00:00'),
 (5, 2, 2, 3, -0.0, -0.0, -0.01, 0.000, NULL, 100, -99999, false, '2024-02-29', '2026-06-01 23:59:59', NULL,
  NULL, '12:34:56.000001', ',', '"', '""', NULL, NULL, '2026-06-01 23:59:59')
"""


def url_with(url: str, **settings: str) -> str:
    """The URL with session settings (``options=-c TimeZone=...``) for psycopg."""
    options = " ".join(f"-c {k}={v}" for k, v in settings.items())
    return f"{url}?options={quote(options)}"


@pytest.fixture(scope="module")
def pg_url():
    with server_database("postgresql", "unsilo_test_copy") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(AWKWARD)
        engine.dispose()
        yield url


@pytest.fixture
def fast_reads(monkeypatch) -> list:
    """Counts the reads that took the COPY path."""
    calls = []
    stream = postgres_copy._stream

    def counted(*args, **kwargs):
        calls.append(args[1])
        return stream(*args, **kwargs)

    monkeypatch.setattr(postgres_copy, "_stream", counted)
    return calls


def awkward(url: str, **extra) -> SqlTable:
    return SqlTable(source_id="awkward", options={"url": url, "table": "awkward", "key": "id",
                                                  "cursor": "updated_at", **extra})


def both(url: str, **extra) -> tuple[list[pa.Table], list[pa.Table]]:
    return read_batches(awkward(url, **extra), DAY, NEXT_DAY), read_batches(awkward(url, copy=False, **extra), DAY, NEXT_DAY)


# psycopg parses timestamptz only in the ISO DateStyle; the fast path sets ISO for its session (test below)
SESSIONS = {"default": {}, "shanghai": {"TimeZone": "Asia/Shanghai", "DateStyle": "ISO,DMY"},
            "amsterdam": {"TimeZone": "Europe/Amsterdam", "DateStyle": "ISO,MDY"}}


@pytest.mark.services
@pytest.mark.parametrize("session", sorted(SESSIONS))
@pytest.mark.parametrize("batch_rows", [2, 1000])
def test_copy_equals_generic_path(pg_url, fast_reads, session, batch_rows):
    url = url_with(pg_url, **SESSIONS[session]) if SESSIONS[session] else pg_url
    fast, generic = both(url, batch_rows=batch_rows)
    assert fast_reads == ["awkward"]
    assert [b.num_rows for b in fast] == [b.num_rows for b in generic] == ([2, 2, 1] if batch_rows == 2 else [5])
    for f, g in zip(fast, generic):
        assert f.schema == g.schema and all(t == pa.string() for t in f.schema.types)
        assert f.to_pylist() == g.to_pylist()
    rows = {r["id"]: r for b in fast for r in b.to_pylist()}
    assert rows["2"]["tx"] == 'line1\nline2\r\n"q"\t;' and rows["2"]["vc"] is None and rows["1"]["vc"] == ""
    assert rows["3"]["vc"] == "NULL" and rows["3"]["tx"] == "社区 ü 😀 €" and rows["3"]["nm"] == ""
    assert rows["5"]["ch"] == '""  ' and rows["5"]["vc"] == '"'


@pytest.mark.services
@pytest.mark.parametrize("datestyle", ["SQL,DMY", "German", "Postgres,MDY"])
def test_copy_reads_any_datestyle(pg_url, fast_reads, datestyle):
    fast = read_table(awkward(url_with(pg_url, TimeZone="Asia/Shanghai", DateStyle=datestyle)), DAY, NEXT_DAY)
    generic = read_table(awkward(url_with(pg_url, TimeZone="Asia/Shanghai"), copy=False), DAY, NEXT_DAY)
    assert fast.to_pylist() == generic.to_pylist() and len(fast_reads) == 1


@pytest.mark.services
def test_copy_values_are_the_generic_text(pg_url):
    # spelled out, so a change to both paths at once shows too
    table = read_table(awkward(pg_url, batch_rows=1000), DAY, NEXT_DAY)
    first = table.to_pylist()[0]
    assert first["money2"] == "-0.05" and first["free"] == "1.500000"
    assert first["at"] == "2026-06-01 00:00:00.123456" and first["day"] == "2026-06-01" and first["b"] == "true"
    assert first["r"] == "0.1" and first["clock"] == "10:00:00.000000" and first["hundreds"] == "12300"
    zoned = table.column("zoned").to_pylist()
    assert zoned[0] == "2026-06-01 12:00:00.000000+0000" and zoned[4] is None


@pytest.mark.services
def test_types_without_a_fast_conversion_read_the_generic_way(pg_url, fast_reads):
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE other (id integer PRIMARY KEY, tag uuid, span interval, "
                             "updated_at timestamp NOT NULL)")
        conn.exec_driver_sql("INSERT INTO other VALUES (1, NULL, NULL, '2026-06-01 10:00'), "
                             "(2, NULL, NULL, '2026-06-01 11:00')")
    engine.dispose()
    conn = SqlTable(source_id="o", options={"url": pg_url, "table": "other", "key": "id", "cursor": "updated_at"})
    assert read_table(conn, DAY, NEXT_DAY).column("id").to_pylist() == ["1", "2"]
    assert fast_reads == []


@pytest.mark.services
@pytest.mark.parametrize("cursor", ["updated_at", "zoned", "money2", "i8", "day"])
def test_incremental_state_is_the_same(pg_url, fast_reads, cursor):
    states = []
    for copy in (True, False):
        conn = awkward(pg_url, cursor=cursor, incremental=True, copy=copy, batch_rows=2)
        rows = read_table(conn, DAY, NEXT_DAY).num_rows
        states.append((rows, conn.state))
        conn = awkward(pg_url, cursor=cursor, incremental=True, copy=copy, _state=conn.state, lookback=1)
        states.append((read_table(conn, DAY, NEXT_DAY).num_rows, conn.state))
    assert states[:2] == states[2:]
    assert states[0][0] == 5 and states[0][1]["column"] == cursor
    assert len(fast_reads) == 2


@pytest.mark.services
def test_a_value_arrow_cannot_read_is_a_source_error(pg_url):
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE odd (id integer PRIMARY KEY, amount numeric, updated_at timestamp)")
        conn.exec_driver_sql("INSERT INTO odd VALUES (1, 'NaN', '2026-06-01 10:00')")
    engine.dispose()
    for copy in (True, False):
        conn = SqlTable(source_id="o", options={"url": pg_url, "table": "odd", "key": "id", "cursor": "updated_at",
                                                "copy": copy})
        with pytest.raises(SourceError, match="source o: .*'odd'"):
            read_table(conn, DAY, NEXT_DAY)


def test_numeric_type_is_what_pa_array_infers():
    rng = random.Random(5)

    def number() -> str:
        whole = rng.choice(["0", str(rng.randint(1, 10 ** rng.randint(1, 45)))])
        fraction = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 14)))
        return rng.choice(["", "-"]) + whole + ("." + fraction if fraction else "")

    for _ in range(2000):
        values = [number() for _ in range(rng.randint(1, 5))] + [None]
        if rng.random() < 0.2:
            values = [rng.choice(["0", "0.00", "-0.5", "0.0000001", "10", "-10.10"]) for _ in range(2)]
        expected = pa.array([decimal.Decimal(v) if v else None for v in values]).type
        assert postgres_copy.numeric_type(pa.array(values)) == expected, values
