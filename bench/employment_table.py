"""A deterministic employment-register table in PostgreSQL (the SQL benchmark's source), generated with numpy.

The bench employment export's 15 columns (bench/employment_export.py) with the types a department's database
gives them: dates as DATE (``ended_on`` NULL while the registration is open), the wage as DECIMAL(12,2) and a
TIMESTAMP cursor ``updated_at`` spread from the registration day to the evening before the first benchmark night.
``change`` is the next day's work in the department: a fraction of registrations ended, their cursor moved.

    python bench/employment_table.py load CONNINFO --rows 1000000 [--seed 1]
    python bench/employment_table.py change CONNINFO --rows 1000000 [--changed 0.01 --seed 1]
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.employment_export import HEADER, export  # noqa: E402

TABLE = "employment_register"
KEY = "registration_no"
LAST_WRITE = np.datetime64("2026-06-01T20:00:00")  # every row was written before the previous night's run
CHANGED_FROM = np.datetime64("2026-06-02T01:00:00")  # the changed rows are written the next night
CHANGED_ON = "2026-06-02"
DDL = f"""CREATE TABLE {TABLE} (
    registration_no VARCHAR(12) NOT NULL PRIMARY KEY,
    id_number VARCHAR(18) NOT NULL,
    name VARCHAR(50),
    sex VARCHAR(2),
    registered_on DATE NOT NULL,
    ended_on DATE,
    employer VARCHAR(100),
    industry VARCHAR(2),
    occupation VARCHAR(2),
    employment_form VARCHAR(10),
    community_code VARCHAR(12),
    monthly_wage DECIMAL(12,2),
    contract_type VARCHAR(10),
    phone VARCHAR(11),
    updated_at TIMESTAMP NOT NULL
)"""
CHUNK_ROWS = 100_000


def register(rows: int, seed: int) -> pa.Table:
    """The table's rows as Arrow: the export's strings, typed; ``updated_at`` after ``registered_on``."""
    table = export(rows, seed)
    rng = np.random.default_rng(seed + 7)
    registered = table.column("registered_on").to_numpy().astype("datetime64[s]")
    span = (LAST_WRITE - registered).astype(np.int64)
    updated = registered + (rng.random(rows) * span).astype("timedelta64[s]")
    cents = rng.integers(0, 100, rows)
    wage = pc.cast(pc.binary_join_element_wise(table.column("monthly_wage"),
                                               pa.array(np.char.zfill(cents.astype(str), 2)), "."),
                   pa.decimal128(12, 2))
    columns = {
        "registered_on": pc.cast(table.column("registered_on"), pa.date32()),
        "ended_on": pa.nulls(rows, pa.date32()),
        "monthly_wage": wage,
        "updated_at": pa.array(updated.astype("datetime64[us]")),
    }
    return pa.table({name: columns.get(name, table.column(name)) for name in HEADER})


def changed_mask(rows: int, fraction: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed + 1).random(rows) < fraction


def load(conninfo: str, rows: int, seed: int = 1) -> None:
    """(Re)create the table and COPY the generated rows in, in chunks; then ANALYZE."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(DDL)
        table = register(rows, seed)
        with conn.cursor() as cur, cur.copy(f"COPY {TABLE} FROM STDIN (FORMAT csv)") as copy:
            for offset in range(0, rows, CHUNK_ROWS):
                buf = io.BytesIO()
                pacsv.write_csv(table.slice(offset, CHUNK_ROWS), buf, pacsv.WriteOptions(include_header=False))
                copy.write(buf.getvalue())
        conn.execute(f"ANALYZE {TABLE}")


def change(conninfo: str, rows: int, fraction: float = 0.01, seed: int = 1) -> int:
    """End a fraction of the registrations and move their cursor into the next night; returns how many."""
    picked = np.flatnonzero(changed_mask(rows, fraction, seed))
    keys = [f"JY{i:010d}" for i in picked]
    stamps = [(CHANGED_FROM + np.timedelta64(int(i % 3600), "s")).astype(object) for i in picked]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            f"UPDATE {TABLE} AS t SET ended_on = %s, updated_at = c.at FROM unnest(%s::text[], %s::timestamp[]) "
            f"AS c(key, at) WHERE t.{KEY} = c.key",
            [CHANGED_ON, keys, stamps],
        )
        conn.execute(f"VACUUM ANALYZE {TABLE}")
    return len(keys)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["load", "change"])
    p.add_argument("conninfo", help="libpq conninfo or postgresql:// URL of the database")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--changed", type=float, default=0.01, help="change: this fraction of the rows")
    args = p.parse_args()
    if args.action == "load":
        load(args.conninfo, args.rows, args.seed)
        print(args.rows)
    else:
        print(change(args.conninfo, args.rows, args.changed, args.seed))


if __name__ == "__main__":
    main()
