"""Contender (b): dlt loading the same file into DuckDB with merge on the primary key (no mapping, no validation).

Runs in its own venv (bench/.venv-dlt): dlt is not a dependency of unsilo.
"""

import sys

import dlt
import pyarrow.csv as pacsv

csv_path, db_path, pipelines_dir = sys.argv[1], sys.argv[2], sys.argv[3]
table = pacsv.read_csv(csv_path)
pipeline = dlt.pipeline(pipeline_name="bench", destination=dlt.destinations.duckdb(db_path),
                        dataset_name="bench", pipelines_dir=pipelines_dir)
info = pipeline.run(table, table_name="employment", write_disposition="merge", primary_key="registration_no")
print(table.num_rows)
