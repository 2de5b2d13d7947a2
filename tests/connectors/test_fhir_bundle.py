"""fhir_bundle on the real FHIR R4 files in ../shared/data/real/health (see its PROVENANCE.md), and fhir_bulk's
rejects of lines that are not JSON or not FHIR."""

from __future__ import annotations

import json
from collections import Counter

from connectors import FhirBulk, FhirBundle
from tests.connectors.conftest import read_table


def bundles(path, **extra) -> FhirBundle:
    return FhirBundle(source_id="t", options={"path": str(path), **extra})


def test_every_health_file_is_read_or_rejected_with_its_reason(real):
    files = sorted((real / "health").rglob("*.json"))
    table = read_table(bundles(str(real / "health" / "*" / "*.json")))
    by_file = Counter(r.rsplit(":", 1)[0] for r in table.column("_source_row").to_pylist())
    assert set(by_file) == {f.name for f in files}, "every file gives rows"
    rejected = {(r["_source_row"], r["_reject"]) for r in table.to_pylist() if r["_reject"]}
    # list-bad-syntax.json misses a comma after "id" (line 6): the parser stops on line 7
    assert rejected == {("list-bad-syntax.json:7", "not-json")}
    ok = [r for r in table.to_pylist() if not r["_reject"]]
    for r in ok:
        assert json.loads(r["resource"])["resourceType"] == r["resource_type"]


def test_bundle_types_give_one_row_per_entry_resource(real):
    ex = real / "health" / "hl7-r4-examples"
    for name, bundle_type in (("bundle-example.json", "searchset"), ("patient-examples-general.json", "collection"),
                              ("bundle-transaction.json", "transaction")):
        doc = json.loads((ex / name).read_text(encoding="utf-8"))
        with_resource = [e for e in doc["entry"] if "resource" in e]
        table = read_table(bundles(ex / name))
        assert table.num_rows == len(with_resource) > 0, name
        assert set(table.column("bundle_type").to_pylist()) == {bundle_type}
        assert table.column("resource_id").to_pylist() == [e["resource"].get("id") for e in with_resource]


def test_transaction_urn_uuid_references_resolve_to_the_patient(real):
    path = next((real / "health" / "synthea-r4").glob("Clemente_*.json"))
    doc = json.loads(path.read_text(encoding="utf-8"))
    patient = next(e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == "Patient")
    table = read_table(bundles(path, resource_type="Encounter"))
    want = sum(e["resource"]["resourceType"] == "Encounter" for e in doc["entry"])
    assert table.num_rows == want > 0
    assert set(table.column("subject_id").to_pylist()) == {f"Patient/{patient['id']}"}
    for text in table.column("resource").to_pylist():
        assert json.loads(text)["subject"]["reference"] == f"Patient/{patient['id']}"
    assert "urn:uuid:" in path.read_text(encoding="utf-8")  # the file itself uses urn:uuid references


def test_primitive_extension_kept_and_harmless(real):
    table = read_table(bundles(real / "health" / "hl7-r4-examples" / "patient-example.json"))
    resource = json.loads(table.column("resource")[0].as_py())
    assert resource["birthDate"] == "1974-12-25"
    assert resource["_birthDate"]["extension"][0]["url"].endswith("patient-birthTime")


def test_contained_subject_resolves(tmp_path):
    doc = {"resourceType": "Observation", "id": "o1", "contained": [{"resourceType": "Patient", "id": "p"}],
           "subject": {"reference": "#p"}}
    (tmp_path / "o.json").write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / "list.json").write_text('{"not": "fhir"}', encoding="utf-8")
    table = read_table(bundles(tmp_path))
    assert table.to_pylist()[0]["_reject"] == "not-fhir"
    assert table.to_pylist()[1]["subject_id"] == "Patient/p"


def test_bulk_lines_not_json_or_not_fhir_are_rejected_with_line_numbers(tmp_path):
    lines = ['{"resourceType": "Patient", "id": "a"}', '{"resourceType": "Patient", "id": ', "",
             '{"id": "c"}', '{"resourceType": "Observation", "id": "d"}', '{"resourceType": "Patient", "id": "e"}']
    (tmp_path / "Patient.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_table(FhirBulk(source_id="t", options={"path": str(tmp_path / "Patient.ndjson"),
                                                        "resource_type": "Patient"}))
    assert table.column("_reject").to_pylist() == [None, "not-json", "not-json", "not-fhir", "not-fhir", None]
    assert table.column("_source_row").to_pylist() == [f"Patient.ndjson:{n}" for n in range(1, 7)]
