"""Contender (a): DuckDB loading the NDJSON file itself, nothing else.

    duckdb_read_ndjson.py FILE DB [read_json|read_ndjson_objects]

``read_json`` (the floor) parses every resource into typed, nested columns (schema auto-detected);
``read_ndjson_objects`` keeps each line's JSON text as one value, as unsilo's landing does.
"""

import sys

import duckdb

path, db_path = sys.argv[1], sys.argv[2]
reader = sys.argv[3] if len(sys.argv) > 3 else "read_json"
source = {"read_json": f"read_json('{path}', format = 'newline_delimited')",
          "read_ndjson_objects": f"read_ndjson_objects('{path}')"}[reader]
con = duckdb.connect(db_path)
con.execute(f"CREATE TABLE patient AS SELECT * FROM {source}")
print(con.execute("SELECT count(*) FROM patient").fetchone()[0])
