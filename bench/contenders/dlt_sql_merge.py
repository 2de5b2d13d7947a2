"""Contender (b) of bench/sql_source.py: dlt's sql_database source (pyarrow backend) reading the PostgreSQL table and
merging it into DuckDB on the primary key (no mapping, no validation).

Runs in its own venv (bench/.venv-dlt): dlt is not a dependency of unsilo.
    python bench/contenders/dlt_sql_merge.py SQLALCHEMY_URL TABLE KEY DB_PATH PIPELINES_DIR
"""

import sys

import dlt
from dlt.sources.sql_database import sql_table

url, table, key, db_path, pipelines_dir = sys.argv[1:6]
source = sql_table(credentials=url, table=table, backend="pyarrow", chunk_size=100_000)
pipeline = dlt.pipeline(pipeline_name="bench_sql", destination=dlt.destinations.duckdb(db_path),
                        dataset_name="bench", pipelines_dir=pipelines_dir)
pipeline.run(source, write_disposition="merge", primary_key=key)
with pipeline.sql_client() as client:
    print(client.execute_sql(f"SELECT count(*) FROM {table}")[0][0])
