"""The compiled normalizing SELECT, run by DuckDB on small hand-made landing tables."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest

from standards.entity import entity
from standards.pseudonym import pseudonym
from standards.transform import MappingError, compile_transform

KEY = b"k"
END = dt.date(2026, 6, 2)


def run(source: dict, entity_name: str, raw: dict[str, list]) -> list[dict]:
    n = len(next(iter(raw.values())))
    landing = pa.table({
        **{k: pa.array(v, pa.string()) for k, v in raw.items()},
        "_source": ["s"] * n, "_source_row": [f"f:{i + 2}" for i in range(n)],
        "_extracted_at": pa.array([dt.datetime(2026, 6, 2, tzinfo=dt.timezone.utc)] * n),
        "_ordinal": pa.array(range(n), pa.int64()),
    })
    sql = compile_transform(source, entity(entity_name), landing.column_names, KEY, END)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    con.register("landing", landing)
    cur = con.execute(f"SELECT * FROM ({sql}) ORDER BY _ordinal")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


EMPLOYMENT = {
    "id": "employment_registration",
    "codelist_system": "employment",
    "fields": {
        "registration_id": "编号",
        "person_key": {"from": "身份证号", "pseudonymize": "person"},
        "started_on": {"from": "日期", "formats": ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d"]},
        "employer_name": "单位",
        "industry_code": "行业",
        "employment_form_code": "形式",
    },
}


def test_dates_codes_keys_and_checks():
    rows = run(EMPLOYMENT, "employment_spell", {
        "编号": ["A", "B", "C", "A"],
        "身份证号": ["11010519491231002x", "110105194912310021", "440524188001010014", " 11010519491231002X "],
        "日期": ["2024年3月5日", "2024年2月30日", "20240305", "2026/6/2"],
        "单位": ["某某有限公司", "  ", "x", "y"],
        "行业": ["C", "Z", "C", "C"],
        "形式": ["全日制", "灵活就业", "兼职", "非全日制"],
    })
    a, b, c, a2 = rows
    assert a["started_on"] == dt.date(2024, 3, 5) and c["started_on"] == dt.date(2024, 3, 5)
    assert b["started_on"] is None and b["_ok_date__started_on"] is False  # 30 February
    assert b["_ok_present__started_on"] is True  # present, so not "required-missing"
    assert a2["_ok_date__started_on"] is False  # after the interval: in the future
    assert a["person_key"] == pseudonym(KEY, "person", "11010519491231002X")  # lower-case x normalized
    assert a2["person_key"] == a["person_key"]  # surrounding blanks trimmed
    assert [r["_ok_id__person_key"] for r in rows] == [True, False, True, True]
    assert b["employer_name"] is None  # blank -> NULL
    assert [r["employment_form_code"] for r in rows] == ["FT", "FX", "兼职", "PT"]  # unmapped passes through
    assert [r["_dup_rank"] for r in rows] == [1, 1, 1, 2]  # second "A" is the duplicate
    assert len({r["_row_hash"] for r in rows}) == 4


def test_json_paths_tolerate_lines_that_are_not_json():
    src = {"id": "health_patient", "codelist_system": "fhir", "fields": {
        "person_key": {"json": "$.identifier[0].value", "pseudonymize": "person"},
        "sex_code": {"json": "$.gender"}, "birth_date": {"json": "$.birthDate"}}}
    rows = run(src, "person", {"resource": [
        '{"identifier": [{"value": "11010519491231002X"}], "gender": "female", "birthDate": "1949-12-31"}',
        '{"identifier": [{"value": ',
    ]})
    assert rows[0]["sex_code"] == "2" and rows[0]["birth_date"] == dt.date(1949, 12, 31)
    assert rows[1]["person_key"] is None and rows[1]["_ok_present__birth_date"] is False


PATIENT = {"id": "health_patient", "codelist_system": "fhir", "fields": {
    "person_key": {"json": "$.identifier[0].value", "pseudonymize": "person"},
    "sex_code": {"json": "$.gender"}, "birth_date": {"json": "$.birthDate"},
    "marital_status_code": {"json": "$.maritalStatus.coding[0].code"},
    "community_code": {"json": "$.address[0].extension[0].valueCode"},
    "grid_code": {"json": "$.address[0].extension[1].valueCode"}}}


def test_json_is_parsed_once_per_read_of_the_landing():
    sql = compile_transform(PATIENT, entity("person"), ["resource", "_source", "_source_row", "_extracted_at",
                                                        "_ordinal"], KEY, END)
    assert sql.count("json_extract_string") == 2  # the mapping, and the duplicate-key window
    assert "json_valid" not in sql


def test_json_values_equal_one_extraction_per_path_on_awkward_texts():
    texts = [
        '{"identifier": [{"value": "11010519491231002X"}], "gender": "female", "birthDate": "1949-12-31", '
        '"maritalStatus": {"coding": [{"code": "M"}]}, "address": [{"extension": [{"valueCode": "330106001001"}, '
        '{"valueCode": 33010600100101}]}]}',
        '{"gender": ["male"], "birthDate": null, "address": []}', '{"gender": " male "}', "[]", '"text"', "null",
        '{"gender": "male"', "", '{"gender": "female"} trailing', '{"gender":"\\u0066emale"}', None,
    ]
    rows = run(PATIENT, "person", {"resource": texts})
    con = duckdb.connect()
    for name in ("sex_code", "marital_status_code", "community_code", "grid_code"):
        path = PATIENT["fields"][name]["json"]
        expected = con.execute(
            "SELECT CASE WHEN json_valid(t) THEN NULLIF(trim(json_extract_string(t, ?)), '') END "
            "FROM unnest(?) WITH ORDINALITY AS u(t, i) ORDER BY i", [path, texts]).fetchall()
        crosswalk = {"female": "2", "male": "1", "M": "20"}
        assert [r[name] for r in rows] == [crosswalk.get(e[0], e[0]) for e in expected], name
    assert rows[0]["grid_code"] == "33010600100101" and rows[2]["sex_code"] == "1"
    assert [r["person_key"] is None for r in rows] == [False] + [True] * (len(texts) - 1)


def test_undecodable_bytes_are_flagged_per_row():
    src = {"id": "transport_routes", "fields": {"route_id": "id", "route_type_code": "t"}}
    rows = run(src, "transit_route", {"id": ["1", "2"], "t": ["3", "3\ufffd"]})
    assert [r["_ok_encoding"] for r in rows] == [True, False]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"route_id": "nope", "route_type_code": "t"}, "raw column 'nope'"),
        ({"route_id": "id", "route_type_code": "t", "colour": "c"}, "does not have: colour"),
        ({"route_id": "id"}, "required field 'route_type_code'"),
    ],
)
def test_mapping_errors_name_the_source_and_the_field(fields, message):
    with pytest.raises(MappingError, match=message) as info:
        run({"id": "transport_routes", "fields": fields}, "transit_route", {"id": ["1"], "t": ["3"]})
    assert "transport_routes" in str(info.value)
