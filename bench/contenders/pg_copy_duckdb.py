"""Contender (a) of bench/sql_source.py, the floor: the PostgreSQL table moved into DuckDB as directly as this
machine allows without a DuckDB extension fetched at run time (DuckDB's postgres extension would be one).

PostgreSQL writes the table as CSV (``COPY ... TO STDOUT``, psycopg) and DuckDB reads it with its own CSV reader
(column types detected), both at once: psycopg feeds a named pipe in a thread while ``read_csv`` reads it.
``--via file`` lands the whole CSV on disk first; ``--via arrow`` parses the stream with Arrow's CSV reader and
hands DuckDB the Arrow batches (all columns as text).

    python bench/contenders/pg_copy_duckdb.py CONNINFO TABLE DB_PATH [--via fifo|file|arrow]
"""

import os
import sys
import tempfile
import threading
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

conninfo, table, db_path = sys.argv[1:4]
via = sys.argv[sys.argv.index("--via") + 1] if "--via" in sys.argv else "fifo"
COPY = f"COPY {table} TO STDOUT (FORMAT csv)"


def copy_into(out) -> None:
    with psycopg.connect(conninfo) as pg, pg.cursor() as cur, cur.copy(COPY) as copy, out:
        for data in copy:
            out.write(data)


con = duckdb.connect(db_path)
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / f"{table}.csv"
    if via == "file":
        copy_into(path.open("wb"))
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', header = false)")
    elif via == "fifo":
        os.mkfifo(path)
        # open the writing end inside the thread: opening a FIFO blocks until the reader opens it
        feeder = threading.Thread(target=lambda: copy_into(path.open("wb", buffering=1 << 20)))
        feeder.start()
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', header = false)")
        feeder.join()
    elif via == "arrow":
        read_fd, write_fd = os.pipe()
        feeder = threading.Thread(target=copy_into, args=(os.fdopen(write_fd, "wb", buffering=1 << 20),))
        feeder.start()
        reader = pacsv.open_csv(pa.PythonFile(os.fdopen(read_fd, "rb", buffering=1 << 20), mode="r"),
                                pacsv.ReadOptions(autogenerate_column_names=True, block_size=8 << 20),
                                pacsv.ParseOptions(newlines_in_values=True),
                                pacsv.ConvertOptions(strings_can_be_null=True, quoted_strings_can_be_null=False))
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM reader")
        feeder.join()
    else:
        raise SystemExit(f"--via {via}: use fifo, file or arrow")
print(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
