"""fhir_check (one JSON parse per text) gives the reasons the earlier three-parse check gave, on awkward texts."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from connectors.fhir_check import fhir_check
from standards.rejects import NOT_FHIR, NOT_JSON

AWKWARD = [
    '{"resourceType":"Patient","id":"p"}', '  {"resourceType" : "Patient" }  ', '\t{"resourceType":"Patient"}\t',
    '{"resourceType":"Patient"} trailing', '{"resourceType":"Patient"}{"a":1}', '{"resourceType":"Patient"}}',
    '{"resourceType":"Patient",}', '{"resourceType":"Patient", /*c*/ "a":1}', '{"resourceType":"Patient"} // c',
    '{"resourceType":"Patient","a":NaN}', '{"resourceType":"Patient","a":Infinity}', "{'resourceType':'Patient'}",
    '{"resourceType":"Patient","resourceType":"Encounter"}', '{"resourceType":"Patient","resourceType":null}',
    '{"resourceType":null,"resourceType":"Patient"}', '\ufeff{"resourceType":"Patient"}',
    '{"resourceType":"Patient","x":"\x01"}', '{"resourceType":"Patient","x":"\\ud800"}',
    '{"resourceType":"Patient","x":1e400}', '{"resourceType":"Pat\\u0069ent"}', '{"resourceType":["Patient"]}',
    '{"resourceType":{"a":1}}', '{"resourceType":""}', '{"resourceType":true}', '{"resourceType":1.50}',
    '{"resourceType":null}', '{}', '{"a":{"resourceType":"Patient"}}', '[{"resourceType":"Patient"}]',
    '{"resourceType":"Patient"', '{"resourceType":"Patient"}\x00', '{"resourceType":"Patient","x":"\ufffd"}',
    '{"resourceType":"Patient","x":[1,2,]}', '{"resourceType":"Patient","x":01}', '{"resourceType":"Patient","x":.5}',
    '{"resourceType":"Patient","x":tru}', '{"resourceType":"Patient","x":"a\tb"}', '{"resourceType":"Encounter"}',
    "", "   ", "null", "true", "123", '"text"', "[]", "not json", None,
]


def three_parse_check(resources: pa.Array, resource_type: str | None) -> list:
    """The check as it was: json_valid, then json_type, then json_extract_string."""
    texts = pa.table({"r": resources})  # noqa: F841 - read by DuckDB
    wanted = "true" if not resource_type else "json_extract_string(r, '$.resourceType') = $type"
    sql = f"""SELECT CASE
        WHEN NOT coalesce(json_valid(r), false) THEN '{NOT_JSON}'
        WHEN json_type(r) <> 'OBJECT' OR json_extract_string(r, '$.resourceType') IS NULL THEN '{NOT_FHIR}'
        WHEN NOT ({wanted}) THEN '{NOT_FHIR}'
        END AS reject FROM texts"""
    params = {"type": resource_type} if resource_type else {}
    return duckdb.connect().sql(sql, params=params).fetchnumpy()["reject"].tolist()


@pytest.mark.parametrize("resource_type", ["Patient", "Encounter", None])
def test_reasons_equal_the_three_parse_check(resource_type):
    texts = pa.array(AWKWARD, pa.string())
    new = fhir_check(texts, resource_type).to_pylist()
    old = [None if r is None or r != r else r for r in three_parse_check(texts, resource_type)]
    assert new == old
    assert {NOT_JSON, NOT_FHIR} <= set(new)


def test_reasons_of_plain_cases():
    texts = pa.array(['{"resourceType":"Patient"}', '{"resourceType":"Encounter"}', "[]", "{", None], pa.string())
    assert fhir_check(texts, "Patient").to_pylist() == [None, NOT_FHIR, NOT_FHIR, NOT_JSON, NOT_JSON]
    assert fhir_check(texts, None).to_pylist() == [None, None, NOT_FHIR, NOT_JSON, NOT_JSON]


def test_a_batch_with_many_bad_texts_keeps_its_order():
    good, bad = '{"resourceType":"Patient","i":%d}', '{"resourceType":"Patient","i":%d'
    texts = [(bad if i % 7 == 0 else good) % i for i in range(5000)]
    reasons = fhir_check(pa.array(texts, pa.string()), "Patient").to_pylist()
    assert reasons == [NOT_JSON if i % 7 == 0 else None for i in range(5000)]
