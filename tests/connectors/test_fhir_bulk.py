"""fhir_bulk on the generated FHIR R4 Bulk Data export."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from connectors import FhirBulk, SourceError
from tests.connectors.conftest import NEXT, NIGHT, read_batches, read_table

TYPES = ("Patient", "Encounter", "Immunization", "Observation")


def bulk(departments, resource: str = "Patient", **extra) -> FhirBulk:
    path = str(departments / "health" / "bulk" / "{date:%Y-%m-%d}" / f"{resource}.ndjson")
    return FhirBulk(source_id=f"health_{resource.lower()}", options={"path": path, "resource_type": resource, **extra})


@pytest.fixture(scope="module")
def patients(demo):
    departments, truth = demo
    return read_table(bulk(departments)), truth["sources"]["health_patient"], departments


def test_patient_rows_match_truth_and_manifest(patients):
    table, truth, departments = patients
    manifest = json.loads((departments / "health" / "bulk" / "2026-06-01" / "manifest.json").read_text())
    count = {o["type"]: o["count"] for o in manifest["output"]}["Patient"]
    assert table.num_rows == truth["rows"] == count > 0
    assert table.column_names == ["resource", "_reject", "_source_row"]
    assert table.column("_reject").null_count == table.num_rows


def test_source_rows_are_line_numbers_from_1(patients):
    table, _, _ = patients
    assert table.column("_source_row").to_pylist() == [f"Patient.ndjson:{n}" for n in range(1, table.num_rows + 1)]


def test_resources_are_the_lines_as_received(patients):
    table, _, departments = patients
    lines = (departments / "health" / "bulk" / "2026-06-01" / "Patient.ndjson").read_text(encoding="utf-8").splitlines()
    assert table.column("resource").to_pylist() == lines
    parsed = [json.loads(r) for r in table.column("resource").to_pylist()]
    assert {p["resourceType"] for p in parsed} == {"Patient"}
    assert any(p["name"][0]["text"] and "\u4e00" <= p["name"][0]["text"][0] <= "\u9fff" for p in parsed)


def test_duplicate_rows_in_truth_repeat_an_earlier_line(patients):
    table, truth, _ = patients
    resources = table.column("resource").to_pylist()
    duplicates = truth["defects"]["duplicate-key"]
    assert duplicates
    for source_row in duplicates:
        line = int(source_row.rsplit(":", 1)[1])
        assert resources[line - 1] in resources[: line - 1], source_row


@pytest.mark.parametrize("resource", TYPES)
def test_every_resource_type_matches_truth(demo, resource):
    departments, truth = demo
    table = read_table(bulk(departments, resource))
    assert table.num_rows == truth["sources"][f"health_{resource.lower()}"]["rows"]
    assert json.loads(table.column("resource")[0].as_py())["resourceType"] == resource


def test_small_batches_concatenate_to_the_single_batch(demo, patients):
    departments, _ = demo
    whole, truth, _ = patients
    batches = read_batches(bulk(departments, batch_rows=7))
    assert len(batches) == math.ceil(truth["rows"] / 7) > 1
    assert all(b.num_rows == 7 for b in batches[:-1]) and 1 <= batches[-1].num_rows <= 7
    assert batches[1].column("_source_row")[0].as_py() == "Patient.ndjson:8"
    assert [r for b in batches for r in b.to_pylist()] == whole.to_pylist()


def test_batch_size_equal_to_the_file_gives_one_batch(demo, patients):
    departments, _ = demo
    _, truth, _ = patients
    assert [b.num_rows for b in read_batches(bulk(departments, batch_rows=truth["rows"]))] == [truth["rows"]]


def test_missing_night_names_source_and_file(demo):
    departments, _ = demo
    missing = departments / "health" / "bulk" / "2026-06-02" / "Patient.ndjson"
    with pytest.raises(SourceError) as err:
        read_batches(bulk(departments), NEXT, NEXT + dt.timedelta(days=1))
    assert "health_patient" in str(err.value) and str(missing) in str(err.value)


def test_interval_with_a_missing_night_fails_before_yielding(demo):
    departments, _ = demo
    with pytest.raises(SourceError, match="2026-06-02"):
        next(bulk(departments).read(NIGHT, NIGHT + dt.timedelta(days=2)))


def test_fixed_path_without_date(demo, tmp_path):
    departments, truth = demo
    fixed = departments / "health" / "bulk" / "2026-06-01" / "Encounter.ndjson"
    conn = FhirBulk(source_id="e", options={"path": str(fixed), "resource_type": "Encounter"})
    assert read_table(conn).num_rows == truth["sources"]["health_encounter"]["rows"]
    gone = FhirBulk(source_id="e", options={"path": str(tmp_path / "Encounter.ndjson")})
    with pytest.raises(SourceError, match="source e: .*Encounter.ndjson"):
        read_batches(gone)


def test_missing_path_option(demo):
    with pytest.raises(SourceError, match="'path'"):
        read_batches(FhirBulk(source_id="e", options={}))
