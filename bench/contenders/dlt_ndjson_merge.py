"""Contender (b): dlt loading the NDJSON file into DuckDB with merge on the resource id (no mapping, no validation).

    dlt_ndjson_merge.py FILE DB PIPELINES_DIR [arrow|dicts]

``arrow`` (dlt's fastest path, the one the benchmark times): pyarrow's NDJSON reader makes one Arrow table with
nested struct/list columns, dlt writes it as Parquet and merges it (nested values land as JSON columns).
``dicts``: each line parsed to a dict (orjson, as dlt does), dlt normalizes nested lists into child tables.
Runs in its own venv (bench/.venv-dlt): dlt is not a dependency of unsilo.
"""

import sys

import dlt

path, db_path, pipelines_dir = sys.argv[1], sys.argv[2], sys.argv[3]
mode = sys.argv[4] if len(sys.argv) > 4 else "arrow"
pipeline = dlt.pipeline(pipeline_name="bench_fhir", destination=dlt.destinations.duckdb(db_path),
                        dataset_name="bench", pipelines_dir=pipelines_dir)
if mode == "arrow":
    import pyarrow.json as pajson

    data = pajson.read_json(path)
else:
    import orjson

    def resources():
        with open(path, "rb") as f:
            for line in f:
                if line.strip():
                    yield orjson.loads(line)

    data = resources()
pipeline.run(data, table_name="patient", write_disposition="merge", primary_key="id")
with pipeline.sql_client() as client:
    print(client.execute_sql("SELECT count(*) FROM patient")[0][0])
