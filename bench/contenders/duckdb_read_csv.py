"""Contender (a): DuckDB loading the file itself, nothing else."""

import sys

import duckdb

csv_path, db_path = sys.argv[1], sys.argv[2]
con = duckdb.connect(db_path)
con.execute(f"CREATE TABLE employment AS SELECT * FROM read_csv('{csv_path}', all_varchar = true)")
print(con.execute("SELECT count(*) FROM employment").fetchone()[0])
