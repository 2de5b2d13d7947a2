"""A tiny smoke of the FHIR NDJSON benchmark (nothing is timed): it runs, its exports are right, its nights are."""

from __future__ import annotations

import json

import pytest

from bench.patient_export import export
from connectors.fhir_check import fhir_check
from standards.gb11643 import normalized_sql, valid_sql
from tests.bench.run_bench import run_bench


def test_export_is_deterministic_valid_fhir_with_unique_valid_ids(tmp_path):
    import duckdb
    import pyarrow as pa

    assert export(tmp_path / "a.ndjson", 400, seed=5) == 400
    export(tmp_path / "b.ndjson", 400, seed=5)
    text = (tmp_path / "a.ndjson").read_bytes()
    assert text == (tmp_path / "b.ndjson").read_bytes() and text.endswith(b"\n")
    lines = text.decode("utf-8").splitlines()
    assert fhir_check(pa.array(lines), "Patient").null_count == 400
    patients = [json.loads(line) for line in lines]
    ids = [p["identifier"][0]["value"] for p in patients]
    assert len(set(ids)) == 400 and len({p["id"] for p in patients}) == 400
    con = duckdb.connect()
    ok = con.execute(f"SELECT bool_and({valid_sql(normalized_sql('x'))}) FROM (SELECT unnest(?) AS x)", [ids])
    assert ok.fetchone()[0] is True
    for p in patients:  # the 17th digit is odd for men, the birth date is in the ID
        assert (int(p["identifier"][0]["value"][16]) % 2 == 1) == (p["gender"] == "male")
        assert p["identifier"][0]["value"][6:14] == p["birthDate"].replace("-", "")


def test_next_night_moves_about_one_percent_to_another_grid(tmp_path):
    export(tmp_path / "prev.ndjson", 2000)
    export(tmp_path / "full.ndjson", 2000, fraction=0.01)
    assert export(tmp_path / "incr.ndjson", 2000, fraction=0.01, only_changed=True) > 0
    prev = [json.loads(line) for line in (tmp_path / "prev.ndjson").read_text("utf-8").splitlines()]
    full = [json.loads(line) for line in (tmp_path / "full.ndjson").read_text("utf-8").splitlines()]
    incr = [json.loads(line) for line in (tmp_path / "incr.ndjson").read_text("utf-8").splitlines()]
    moved = [b for a, b in zip(prev, full) if a != b]
    assert 5 <= len(moved) <= 40 and moved == incr
    grid = lambda p: p["address"][0]["extension"][1]["valueCode"]  # noqa: E731
    by_id = {p["id"]: p for p in prev}
    assert all(grid(p) != grid(by_id[p["id"]]) for p in moved)
    assert all(p["meta"]["lastUpdated"].startswith("2026-06-02") for p in moved)


@pytest.mark.timeout(300)
def test_benchmark_smoke(tmp_path):
    lines = run_bench("fhir_ndjson.py", 300, tmp_path, ("(a) duckdb read_json", "(a2) duckdb ndjson_objects",
                                                         "(c) unsilo full night", "(d) unsilo incremental night"))
    run = lambda name: next(l for l in lines if name in l and "rep 1/1" in l).split()  # noqa: E731, E741
    assert run("(a) duckdb read_json")[-1] == "300"
    extracted, loaded, quarantined, unchanged = map(int, run("(c) unsilo full night")[-4:])
    assert extracted == 300 and quarantined == 0
    assert loaded + unchanged == 300 and 0 < loaded < 15  # about 1% of the patients moved since the last night
    assert list(map(int, run("(d) unsilo incremental night")[-4:])) == [loaded, loaded, 0, 0]
    assert any(line.startswith("records 300: full night") for line in lines)
