"""A tiny smoke of the benchmark (CI does not time anything): it runs, and the nights it measures are right."""

from __future__ import annotations


import pytest

from bench.employment_export import export
from standards.gb11643 import normalized_sql, valid_sql
from tests.bench.run_bench import run_bench


def test_generated_ids_are_valid():
    import duckdb

    ids = export(500, seed=3).column("id_number").to_pylist()
    con = duckdb.connect()
    ok = con.execute(f"SELECT bool_and({valid_sql(normalized_sql('x'))}) FROM (SELECT unnest(?) AS x)", [ids])
    assert ok.fetchone()[0] is True


@pytest.mark.timeout(300)
def test_benchmark_smoke(tmp_path):
    lines = run_bench("night_vs_peers.py", 600, tmp_path,
                      ("(a) duckdb read_csv", "(c) unsilo full night", "(d) unsilo incremental night"))
    full = next(line for line in lines if "(c) unsilo full night" in line and "rep 1/1" in line).split()
    extracted, loaded, quarantined, unchanged = map(int, full[-4:])
    assert extracted == 600 and quarantined == 0
    assert loaded + unchanged == 600 and 0 < loaded < 30  # about 1% of the rows changed since the last night
