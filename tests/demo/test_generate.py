"""The synthetic department systems (``unsilo.demo``): determinism, the formats of docs/departments.md and a
truth that names exactly the rows that break the rules of docs/quality.md.

Each source is re-read here with an independent checker of the rules; the rows it flags must be exactly
the rows the truth lists, rule by rule (so clean rows never break a rule by accident, and every seeded
defect is where the truth says).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sqlite3
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from unsilo.demo import DEFAULT_PEOPLE, DEFAULT_SEED, NIGHT, generate
from unsilo.demo import housing
from unsilo.demo.resident_id import check_char, is_valid
from tests.services import SERVERS, server_database

PEOPLE = 200
CST = dt.timezone(dt.timedelta(hours=8))
NIGHT_START = dt.datetime(2026, 6, 1, 0, 0, tzinfo=CST)
NIGHT_END = dt.datetime(2026, 6, 2, 0, 0, tzinfo=CST)
YEAR_BEFORE = dt.datetime(2025, 6, 2, 0, 0, tzinfo=CST)
EARLIEST = dt.date(1900, 1, 1)
ID_SYSTEM = "http://unsilo.example/fhir/sid/cn-resident-id"
COMMUNITY_URL = "http://unsilo.example/fhir/StructureDefinition/community-code"
GRID_URL = "http://unsilo.example/fhir/StructureDefinition/grid-code"
VACCINES = {"0101", "0201", "0301", "0401", "1201", "1601", "1701", "1901"}
LOINC_UNITS = {"8480-6": "mm[Hg]", "8462-4": "mm[Hg]", "4548-4": "%", "2339-0": "mg/dL"}
ADDRESS = re.compile(r"^[\u4e00-\u9fff]+路\d+号\d+栋\d+单元\d+室$")
CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]{2,3}$")

SEEDED = {  # docs/quality.md, "Defects seeded by unsilo demo"
    "health_patient": {"id-check-digit", "required-missing", "impossible-date", "unknown-code", "duplicate-key"},
    "health_encounter": {"impossible-date", "unknown-code", "id-check-digit"},
    "health_immunization": {"unknown-code", "duplicate-key"},
    "health_observation": {"required-missing"},
    "employment_registration": {"id-check-digit", "impossible-date", "unknown-code", "required-missing",
                                "duplicate-key", "undecodable-bytes"},
    "employment_unemployment": {"id-check-digit", "unknown-code", "impossible-date", "duplicate-key"},
    "housing_units": {"unknown-code", "out-of-range", "required-missing"},
    "housing_addresses": {"required-missing"},
    "housing_households": {"id-check-digit", "out-of-range"},
    "housing_tenancies": {"impossible-date", "unknown-code"},
    "housing_subsidies": {"unknown-code", "out-of-range"},
    "housing_communities": set(),
    "transport_stops": {"out-of-range", "required-missing"},
    "transport_routes": {"unknown-code"},
    "transport_ridership": {"out-of-range", "duplicate-key"},
}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo")
    generate(path, people=PEOPLE)
    return path


@pytest.fixture(scope="module")
def truth(home) -> dict:
    return json.loads((home / "departments" / "truth.json").read_text(encoding="utf-8"))


def bulk(home: Path) -> Path:
    return home / "departments" / "health" / "bulk" / "2026-06-01"


def drop(home: Path) -> Path:
    return home / "departments" / "employment" / "drop"


def database(home: Path) -> Path:
    return home / "departments" / "housing" / "housing.db"


def all_files(home: Path) -> dict[str, bytes]:
    root = home / "departments"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- an independent checker of the rules


class Findings:
    """``rule -> [source_row]`` as found, with at most one rule per row."""

    def __init__(self) -> None:
        self.rows: dict[str, list[str]] = defaultdict(list)

    def add(self, row: str, rules: set[str]) -> None:
        assert len(rules) <= 1, f"{row} breaks more than one rule: {sorted(rules)}"
        for rule in rules:
            self.rows[rule].append(row)

    def as_truth(self) -> dict[str, list[str]]:
        return {rule: rows for rule, rows in self.rows.items() if rows}


def day_ok(value: dt.date | None) -> bool:
    return value is not None and EARLIEST <= value <= NIGHT


def parse_day(text: str | None) -> dt.date | None:
    if not text:
        return None
    for pattern in (r"(\d{4})年(\d{1,2})月(\d{1,2})日", r"(\d{4})/(\d{1,2})/(\d{1,2})", r"(\d{4})(\d{2})(\d{2})",
                    r"(\d{4})-(\d{2})-(\d{2})"):
        match = re.fullmatch(pattern, text)
        if match:
            try:
                return dt.date(*map(int, match.groups()))
            except ValueError:
                return None
    return None


def parse_moment(text: str | None) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else None


def stamped_in_night(text: str | None) -> bool:
    moment = parse_moment(text)
    return moment is not None and NIGHT_START <= moment < NIGHT_END and moment.utcoffset() == dt.timedelta(hours=8)


def event_ok(text: str | None) -> bool:
    moment = parse_moment(text)
    return moment is not None and YEAR_BEFORE <= moment < NIGHT_END


def ndjson(path: Path) -> list[tuple[int, str, dict]]:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    return [(n, line, json.loads(line)) for n, line in enumerate(lines[:-1], start=1)]


def check_duplicate(seen: dict, key, line, earlier_lines: dict) -> bool:
    """True when ``key`` was seen before; a duplicate must then repeat the earlier line verbatim."""
    if key in seen:
        assert line == earlier_lines[key], f"duplicate of {key} is not a verbatim copy"
        return True
    seen[key] = True
    earlier_lines[key] = line
    return False


def community_codes(home: Path) -> dict[str, tuple[str, ...]]:
    with sqlite3.connect(database(home)) as con:
        return {code: () for (code,) in con.execute("SELECT community_code FROM communities")}


def check_patients(home: Path) -> tuple[Findings, int, dict[str, str | None]]:
    """Also returns ``patient id -> resident ID`` (None where the Patient's own ID is defective)."""
    found, seen, first, ids = Findings(), {}, {}, {}
    communities = community_codes(home)
    rows = ndjson(bulk(home) / "Patient.ndjson")
    for n, line, r in rows:
        row = f"Patient.ndjson:{n}"
        if check_duplicate(seen, r.get("id"), line, first):
            found.add(row, {"duplicate-key"})
            continue
        broken = set()
        assert re.fullmatch(r"p-\d{6}", r["id"]) and r["resourceType"] == "Patient"
        assert stamped_in_night(r["meta"]["lastUpdated"])
        identifier = r["identifier"][0]
        assert identifier["system"] == ID_SYSTEM
        if not is_valid(identifier["value"]):
            broken.add("id-check-digit")
            ids[r["id"]] = None
        else:
            assert identifier["value"] not in ids.values(), "two patients share a resident ID"
            ids[r["id"]] = identifier["value"]
        name = r["name"][0]
        assert CHINESE_NAME.match(name["text"]) and name["text"] == name["family"] + "".join(name["given"])
        if r.get("gender") not in ("male", "female", "other", "unknown"):
            broken.add("unknown-code")
        if "birthDate" not in r:
            broken.add("required-missing")
        else:
            try:
                birth = dt.date.fromisoformat(r["birthDate"])
            except ValueError:
                birth = None
            if not day_ok(birth):
                broken.add("impossible-date")
            else:
                assert 1935 <= birth.year <= 2025
                assert identifier["value"][6:14] == birth.strftime("%Y%m%d") or "id-check-digit" in broken
                if is_valid(identifier["value"]):
                    assert int(identifier["value"][16]) % 2 == (1 if r["gender"] == "male" else 0) or broken
        assert r["maritalStatus"]["coding"][0]["code"] in ("S", "M", "W", "D", "UNK")
        address = r["address"][0]
        community, grid = address["extension"][0], address["extension"][1]
        assert community["url"] == COMMUNITY_URL and grid["url"] == GRID_URL
        assert community["valueCode"] in communities
        assert re.fullmatch(r"\d{14}", grid["valueCode"]) and grid["valueCode"].startswith(community["valueCode"])
        assert ADDRESS.match(address["text"]) and address["district"]
        found.add(row, broken)
    return found, len(rows), ids


def check_clinical(home: Path, resource_type: str, patients: dict[str, str | None]) -> tuple[Findings, int]:
    found, seen, first = Findings(), {}, {}
    rows = ndjson(bulk(home) / f"{resource_type}.ndjson")
    who_key = "patient" if resource_type == "Immunization" else "subject"
    for n, line, r in rows:
        row = f"{resource_type}.ndjson:{n}"
        if check_duplicate(seen, r.get("id"), line, first):
            found.add(row, {"duplicate-key"})
            continue
        broken = set()
        assert r["resourceType"] == resource_type
        assert stamped_in_night(r["meta"]["lastUpdated"])
        who = r[who_key]
        assert re.fullmatch(r"Patient/p-\d{6}", who["reference"]) and who["identifier"]["system"] == ID_SYSTEM
        patient = who["reference"].removeprefix("Patient/")
        assert patient in patients
        if not is_valid(who["identifier"]["value"]):
            broken.add("id-check-digit")
        else:
            assert patients[patient] in (None, who["identifier"]["value"])
        if resource_type == "Encounter":
            assert r["status"] == "finished" and r["serviceProvider"]["display"].endswith("社区卫生服务中心")
            if r["class"]["code"] not in ("AMB", "EMER", "IMP", "HH", "VR"):
                broken.add("unknown-code")
            start, end = r["period"]["start"], r["period"]["end"]
            if not (event_ok(start) and event_ok(end) and parse_moment(end) >= parse_moment(start)):
                broken.add("impossible-date")
        elif resource_type == "Immunization":
            assert r["status"] == "completed"
            if r["vaccineCode"]["coding"][0]["code"] not in VACCINES:
                broken.add("unknown-code")
            if not event_ok(r["occurrenceDateTime"]):
                broken.add("impossible-date")
        else:
            assert r["status"] == "final"
            code = r["code"]["coding"][0]["code"]
            if code not in LOINC_UNITS:
                broken.add("unknown-code")
            if not event_ok(r["effectiveDateTime"]):
                broken.add("impossible-date")
            quantity = r.get("valueQuantity")
            if not quantity or quantity.get("value") is None:
                broken.add("required-missing")
            else:
                assert quantity["value"] > 0 and quantity["unit"] == LOINC_UNITS[code]
        found.add(row, broken)
    return found, len(rows)


def csv_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    return data.split(b"\r\n")[:-1]


def check_employment(home: Path, name: str, header: list[str]) -> tuple[Findings, int, list[dict]]:
    found, seen, first = Findings(), {}, {}
    communities = community_codes(home)
    lines = csv_lines(drop(home) / name)
    assert next(csv.reader([lines[0].decode("gb18030")])) == header
    clean = []
    for n, raw in enumerate(lines[1:], start=2):
        row = f"{name}:{n}"
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            text = raw.decode("gb18030", errors="replace")
            values = dict(zip(header, next(csv.reader([text]))))
            assert b"\xff" in raw and "\ufffd" in values["姓名"]
            name_bytes = raw.split(b",")[2]
            assert name_bytes.count(b"\xff") == 1 and not name_bytes.startswith(b"\xff") and not name_bytes.endswith(b"\xff")
            found.add(row, {"undecodable-bytes"})
            continue
        assert text.encode("gb18030") == raw  # round trip
        values = dict(zip(header, next(csv.reader([text]))))
        assert len(values) == len(header)
        if check_duplicate(seen, values["登记编号"], raw, first):
            found.add(row, {"duplicate-key"})
            continue
        broken = set()
        if not is_valid(values["身份证号"]):
            broken.add("id-check-digit")
        assert CHINESE_NAME.match(values["姓名"]) and values["性别"] in ("男", "女")
        assert values["社区代码"] in communities
        if header[0] == "登记编号" and "登记日期" in values:
            assert re.fullmatch(r"JY2026\d{6}", values["登记编号"])
            start, end = parse_day(values["登记日期"]), parse_day(values["终止日期"])
            if not day_ok(start) or (values["终止日期"] and (not day_ok(end) or end < start)):
                broken.add("impossible-date")
            if values["行业代码"] not in "ABCDEFGHIJKLMNOPQRST" or len(values["行业代码"]) != 1:
                broken.add("unknown-code")
            if not values["单位名称"]:
                broken.add("required-missing")
            else:
                assert values["单位名称"].endswith("有限公司")
            assert values["职业代码"] in tuple("123456") and values["用工形式"] in ("全日制", "非全日制", "灵活就业")
        else:
            assert re.fullmatch(r"SY2026\d{6}", values["登记编号"])
            start, end = parse_day(values["失业登记日期"]), parse_day(values["注销日期"])
            if not day_ok(start) or (values["注销日期"] and (not day_ok(end) or end < start)):
                broken.add("impossible-date")
            if values["登记状态"] not in ("在册", "已注销"):
                broken.add("unknown-code")
            elif not broken:
                assert bool(values["注销日期"]) == (values["登记状态"] == "已注销")
            assert values["领取失业保险金"] in ("是", "否")
        found.add(row, broken)
        if not broken:
            clean.append(values)
    return found, len(lines) - 1, clean


def check_housing(home: Path) -> tuple[dict[str, Findings], dict[str, int], set[str]]:
    found = {source: Findings() for source in ("housing_communities", "housing_units", "housing_addresses",
                                               "housing_households", "housing_tenancies", "housing_subsidies")}
    con = sqlite3.connect(database(home))
    con.row_factory = sqlite3.Row
    communities = {r["community_code"] for r in con.execute("SELECT * FROM communities")}
    counts = {}

    def table(name):
        rows = con.execute(f"SELECT * FROM {name}").fetchall()
        counts[name] = len(rows)
        for r in rows:
            assert NIGHT_START.replace(tzinfo=None) <= dt.datetime.fromisoformat(r["updated_at"]) < NIGHT_END.replace(tzinfo=None)
        return rows

    for r in table("communities"):
        assert re.fullmatch(r"330106\d{6}", r["community_code"]) and r["community_code"].startswith(r["street_code"])
        assert r["district_code"] == "330106" and r["community_name"].endswith("社区") and r["street_name"].endswith("街道")
        found["housing_communities"].add(f"communities:{r['community_code']}", set())
    units = set()
    for r in table("housing_units"):
        row = f"housing_units:{r['unit_id']}"
        units.add(r["unit_id"])
        broken = set()
        assert ADDRESS.match(r["address"])
        if r["community_code"] is None:
            broken.add("required-missing")
        else:
            assert r["community_code"] in communities and r["grid_code"].startswith(r["community_code"])
        if r["tenure"] not in ("01", "02", "03", "04"):
            broken.add("unknown-code")
        if not 20 <= r["floor_area"] <= 150:
            broken.add("out-of-range")
        assert r["rooms"] in range(1, 6)
        found["housing_units"].add(row, broken)
        found["housing_addresses"].add(row, broken & {"required-missing"})
    households = {}
    for r in table("households"):
        row = f"households:{r['household_id']}"
        households[r["household_id"]] = r
        broken = set()
        if not is_valid(r["head_id_number"]):
            broken.add("id-check-digit")
        if not 1 <= r["members"] <= 5:
            broken.add("out-of-range")
        assert r["unit_id"] in units and r["community_code"] in communities
        assert day_ok(dt.date.fromisoformat(r["registered_on"]))
        found["housing_households"].add(row, broken)
    for r in table("tenancies"):
        row = f"tenancies:{r['tenancy_id']}"
        broken = set()
        start = dt.date.fromisoformat(r["start_date"])
        end = dt.date.fromisoformat(r["end_date"]) if r["end_date"] else None
        if not day_ok(start) or (end is not None and (not day_ok(end) or end < start)):
            broken.add("impossible-date")
        if r["status"] not in ("1", "2", "3"):
            broken.add("unknown-code")
        elif not broken:
            assert (end is not None) == (r["status"] == "2")
        assert r["monthly_rent"] > 0 and r["arrears_months"] >= 0
        assert r["household_id"] in households and r["unit_id"] == households[r["household_id"]]["unit_id"]
        found["housing_tenancies"].add(row, broken)
    subsidised = set()
    for r in table("subsidies"):
        row = f"subsidies:{r['subsidy_id']}"
        broken = set()
        if r["subsidy_type"] not in ("R1", "R2", "R3"):
            broken.add("unknown-code")
        if not r["amount"] > 0:
            broken.add("out-of-range")
        start = dt.date.fromisoformat(r["start_date"])
        end = dt.date.fromisoformat(r["end_date"]) if r["end_date"] else None
        assert day_ok(start) and (end is None or (day_ok(end) and end >= start))
        assert r["household_id"] in households
        found["housing_subsidies"].add(row, broken)
        if not broken:
            subsidised.add(r["household_id"])
    con.close()
    return found, counts, subsidised


def gtfs_table(home: Path, name: str) -> list[list[str]]:
    with zipfile.ZipFile(home / "departments" / "transport" / "gtfs.zip") as archive:
        text = archive.read(name).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


def check_transport(home: Path) -> tuple[dict[str, Findings], dict[str, int]]:
    found = {source: Findings() for source in ("transport_stops", "transport_routes", "transport_ridership")}
    counts = {}
    communities = community_codes(home)
    header, *stops = gtfs_table(home, "stops.txt")
    assert header == ["stop_id", "stop_name", "stop_lat", "stop_lon", "zone_id"]
    counts["transport_stops"] = len(stops)
    assert 30 <= len(stops) <= 60
    stop_ids = set()
    for n, (stop_id, name, lat, lon, zone) in enumerate(stops, start=2):
        assert re.fullmatch(r"S\d{4}", stop_id) and stop_id not in stop_ids and zone in communities
        stop_ids.add(stop_id)
        broken = set()
        if not name:
            broken.add("required-missing")
        if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):
            broken.add("out-of-range")
        else:
            assert 30.25 <= float(lat) <= 30.30 and 120.08 <= float(lon) <= 120.16
        found["transport_stops"].add(f"stops.txt:{n}", broken)
    header, *routes = gtfs_table(home, "routes.txt")
    counts["transport_routes"] = len(routes)
    assert 5 <= len(routes) <= 8
    route_ids = set()
    for n, row in enumerate(routes, start=2):
        record = dict(zip(header, row))
        assert re.fullmatch(r"R\d{2}", record["route_id"]) and record["route_id"] not in route_ids
        route_ids.add(record["route_id"])
        broken = set() if record["route_type"] in {"0", "1", "2", "3", "4", "5", "6", "7", "11", "12"} else {"unknown-code"}
        assert record["route_type"] in ("3", "99")
        found["transport_routes"].add(f"routes.txt:{n}", broken)
    header, *trips = gtfs_table(home, "trips.txt")
    services = {row[0] for row in gtfs_table(home, "calendar.txt")[1:]}
    trip_ids = {row[2] for row in trips}
    assert all(row[0] in route_ids and row[1] in services for row in trips)
    header, *stop_times = gtfs_table(home, "stop_times.txt")
    assert all(row[0] in trip_ids and row[3] in stop_ids for row in stop_times)
    assert {row[3] for row in stop_times} == stop_ids  # every stop is served
    path = home / "departments" / "transport" / "ridership" / "ridership_20260601.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "service_date,stop_id,boardings"
    counts["transport_ridership"] = len(lines) - 1
    seen, first = {}, {}
    for n, line in enumerate(lines[1:], start=2):
        service_date, stop_id, boardings = line.split(",")
        row = f"ridership_20260601.csv:{n}"
        if check_duplicate(seen, (service_date, stop_id), line, first):
            found["transport_ridership"].add(row, {"duplicate-key"})
            continue
        assert service_date == "2026-06-01" and stop_id in stop_ids
        found["transport_ridership"].add(row, set() if int(boardings) >= 0 else {"out-of-range"})
    return found, counts


def check_all(home: Path) -> tuple[dict[str, dict], dict[str, int], dict]:
    """Every source's findings and row counts, plus facts for the population truth."""
    findings, counts = {}, {}
    findings["health_patient"], counts["health_patient"], ids = check_patients(home)
    for resource_type, source in (("Encounter", "health_encounter"), ("Immunization", "health_immunization"),
                                  ("Observation", "health_observation")):
        findings[source], counts[source] = check_clinical(home, resource_type, ids)
    findings["employment_registration"], counts["employment_registration"], _ = check_employment(
        home, "就业登记_20260601.csv", ["登记编号", "身份证号", "姓名", "性别", "登记日期", "终止日期", "单位名称",
                                      "行业代码", "职业代码", "用工形式", "社区代码"])
    findings["employment_unemployment"], counts["employment_unemployment"], claims = check_employment(
        home, "失业登记_20260601.csv", ["登记编号", "身份证号", "姓名", "性别", "失业登记日期", "注销日期",
                                      "领取失业保险金", "登记状态", "社区代码"])
    housing_findings, table_counts, subsidised = check_housing(home)
    findings.update(housing_findings)
    counts.update({"housing_communities": table_counts["communities"], "housing_units": table_counts["housing_units"],
                   "housing_addresses": table_counts["housing_units"], "housing_households": table_counts["households"],
                   "housing_tenancies": table_counts["tenancies"], "housing_subsidies": table_counts["subsidies"]})
    transport_findings, transport_counts = check_transport(home)
    findings.update(transport_findings)
    counts.update(transport_counts)
    facts = {"open_claims": Counter(c["社区代码"] for c in claims if c["登记状态"] == "在册"), "subsidised": subsidised}
    return {source: f.as_truth() for source, f in findings.items()}, counts, facts


# ---------------------------------------------------------------- tests


def test_check_char_known_examples():
    assert check_char("11010519491231002") == "X"
    assert check_char("44052418800101001") == "4"
    assert is_valid("11010519491231002X") and is_valid("11010519491231002x")
    assert is_valid("440524188001010014")
    assert not is_valid("110105194912310021")  # wrong check character
    assert not is_valid("11010519491331002X")  # month 13
    assert not is_valid("11010519490230002X")  # 30 February (check char aside)
    assert not is_valid("1101051949123100")
    assert not is_valid("A1010519491231002X")
    assert not is_valid("11010519491231002X ")
    with pytest.raises(ValueError):
        check_char("1101051949123100")


def test_generation_is_deterministic(home, tmp_path):
    again = tmp_path / "again"
    generate(again, people=PEOPLE)
    first, second = all_files(home), all_files(again)
    assert sorted(first) == sorted(second)
    for name in first:
        assert first[name] == second[name], f"{name} differs between two generations"
    other = tmp_path / "other"
    generate(other, people=PEOPLE, seed=DEFAULT_SEED + 1)
    assert all_files(other)["health/bulk/2026-06-01/Patient.ndjson"] != first["health/bulk/2026-06-01/Patient.ndjson"]


def test_regenerating_replaces_the_previous_generation(tmp_path):
    generate(tmp_path, people=PEOPLE)
    stray = tmp_path / "departments" / "employment" / "drop" / "就业登记_20260531.csv"
    stray.write_bytes(b"old")
    truth = generate(tmp_path, people=PEOPLE, seed=7)
    assert not stray.exists()
    assert json.loads((tmp_path / "departments" / "truth.json").read_text(encoding="utf-8")) == truth
    assert truth["seed"] == 7 and truth["people"] == PEOPLE and truth["night"] == "2026-06-01"


def test_layout_of_the_department_systems(home):
    names = set(all_files(home))
    assert names == {
        "truth.json",
        "health/bulk/2026-06-01/Patient.ndjson", "health/bulk/2026-06-01/Encounter.ndjson",
        "health/bulk/2026-06-01/Immunization.ndjson", "health/bulk/2026-06-01/Observation.ndjson",
        "health/bulk/2026-06-01/manifest.json",
        "employment/drop/就业登记_20260601.csv", "employment/drop/失业登记_20260601.csv",
        "housing/housing.db",
        "transport/gtfs.zip", "transport/ridership/ridership_20260601.csv",
    }


def test_truth_names_exactly_the_rows_that_break_the_rules(home, truth):
    findings, counts, _ = check_all(home)
    assert set(truth["sources"]) == set(SEEDED)
    for source, expected_rules in SEEDED.items():
        entry = truth["sources"][source]
        assert entry["rows"] == counts[source], source
        assert set(entry["defects"]) == expected_rules, source
        assert entry["defects"] == findings[source], source
        for rule, rows in entry["defects"].items():
            assert rows and len(rows) <= max(2, 0.03 * entry["rows"]), (source, rule, len(rows))
            assert len(set(rows)) == len(rows)


def test_every_rule_is_seeded_at_the_default_size(tmp_path):
    started = time.monotonic()
    truth = generate(tmp_path, people=DEFAULT_PEOPLE, seed=DEFAULT_SEED)
    took = time.monotonic() - started
    assert took < 15, f"generating {DEFAULT_PEOPLE} people took {took:.1f} s"
    assert truth["people"] == DEFAULT_PEOPLE and truth["population"]["persons"] == DEFAULT_PEOPLE
    for source, expected_rules in SEEDED.items():
        entry = truth["sources"][source]
        assert set(entry["defects"]) == expected_rules, source
        for rule, rows in entry["defects"].items():
            assert len(rows) >= 1 and len(rows) <= max(2, 0.025 * entry["rows"]), (source, rule, len(rows), entry["rows"])
    findings, counts, _ = check_all(tmp_path)
    for source in SEEDED:
        assert truth["sources"][source]["defects"] == findings[source], source
        assert truth["sources"][source]["rows"] == counts[source], source


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_rule_is_seeded_even_for_a_small_district(tmp_path, seed):
    truth = generate(tmp_path, people=PEOPLE, seed=seed)
    for source, expected_rules in SEEDED.items():
        assert set(truth["sources"][source]["defects"]) == expected_rules, (seed, source)
    findings, _, _ = check_all(tmp_path)
    for source in SEEDED:
        assert truth["sources"][source]["defects"] == findings[source], (seed, source)


def test_resident_ids(home, truth):
    """Clean records carry valid, per-person unique IDs; every id-check-digit defect fails GB 11643."""
    bad = {row for source in truth["sources"].values() for row in source["defects"].get("id-check-digit", [])}
    patients = ndjson(bulk(home) / "Patient.ndjson")
    seen = {}
    for n, _, r in patients:
        number = r["identifier"][0]["value"]
        assert is_valid(number) == (f"Patient.ndjson:{n}" not in bad)
        if f"Patient.ndjson:{n}" not in bad:
            assert seen.setdefault(number, r["id"]) == r["id"], "one resident ID for two persons"
    for n, _, r in ndjson(bulk(home) / "Encounter.ndjson"):
        assert is_valid(r["subject"]["identifier"]["value"]) == (f"Encounter.ndjson:{n}" not in bad)
    with sqlite3.connect(database(home)) as con:
        for household_id, number in con.execute("SELECT household_id, head_id_number FROM households"):
            assert is_valid(number) == (f"households:{household_id}" not in bad)
            if is_valid(number):  # a resident's (whose Patient record may carry the defect)
                assert number[:17] in {r["identifier"][0]["value"][:17] for _, _, r in patients}
    for name in ("就业登记_20260601.csv", "失业登记_20260601.csv"):
        for n, raw in enumerate(csv_lines(drop(home) / name)[1:], start=2):
            number = raw.split(b",")[1].decode("ascii")
            assert is_valid(number) == (f"{name}:{n}" not in bad)


def test_duplicates_are_verbatim_copies_placed_later(home, truth):
    files = {
        "Patient.ndjson": bulk(home) / "Patient.ndjson",
        "Immunization.ndjson": bulk(home) / "Immunization.ndjson",
        "就业登记_20260601.csv": drop(home) / "就业登记_20260601.csv",
        "失业登记_20260601.csv": drop(home) / "失业登记_20260601.csv",
        "ridership_20260601.csv": home / "departments" / "transport" / "ridership" / "ridership_20260601.csv",
    }
    checked = 0
    for source in truth["sources"].values():
        for row in source["defects"].get("duplicate-key", []):
            name, number = row.rsplit(":", 1)
            lines = files[name].read_bytes().splitlines()
            copy = lines[int(number) - 1]
            assert copy in lines[: int(number) - 1], row
            checked += 1
    assert checked >= 5


def test_employment_files_are_gb18030_crlf(home, truth):
    for name in ("就业登记_20260601.csv", "失业登记_20260601.csv"):
        data = (drop(home) / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        text = data.decode("gb18030", errors="replace")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert all(len(row) == len(rows[0]) for row in rows)
        assert text.count("\r\n") == len(rows)
        undecodable = truth["sources"]["employment_registration"]["defects"].get("undecodable-bytes", [])
        if name.startswith("就业"):
            assert len(undecodable) >= 1
            for row in undecodable:
                number = int(row.rsplit(":", 1)[1])
                assert "\ufffd" in rows[number - 1][2]
        else:
            data.decode("gb18030")  # no undecodable bytes at all
        # every decodable line round-trips exactly
        for raw in data.split(b"\r\n")[:-1]:
            try:
                assert raw.decode("gb18030").encode("gb18030") == raw
            except UnicodeDecodeError:
                assert raw.count(b"\xff") == 1
    registrations = (drop(home) / "就业登记_20260601.csv").read_bytes().decode("gb18030", errors="replace")
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", registrations) and re.search(r",\d{4}/\d{1,2}/\d{1,2},", registrations)
    assert re.search(r",\d{8},", registrations) and re.search(r",\d{4}-\d{2}-\d{2},", registrations)


def test_manifest_and_population(home, truth):
    manifest = json.loads((bulk(home) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["requiresAccessToken"] is False and manifest["request"]
    assert stamped_in_night(manifest["transactionTime"])
    counts = {entry["type"]: entry["count"] for entry in manifest["output"]}
    assert counts == {
        "Patient": truth["sources"]["health_patient"]["rows"],
        "Encounter": truth["sources"]["health_encounter"]["rows"],
        "Immunization": truth["sources"]["health_immunization"]["rows"],
        "Observation": truth["sources"]["health_observation"]["rows"],
    }
    for entry in manifest["output"]:
        assert (bulk(home) / entry["url"]).is_file()
    assert PEOPLE * 0.4 <= counts["Encounter"] <= PEOPLE * 0.6
    _, _, facts = check_all(home)
    population = truth["population"]
    communities = population["communities"]
    assert population["persons"] == PEOPLE
    assert sum(c["residents"] for c in communities.values()) == PEOPLE
    assert sum(c["households"] for c in communities.values()) == population["households"]
    with sqlite3.connect(database(home)) as con:
        assert population["households"] == con.execute("SELECT COUNT(*) FROM households").fetchone()[0]
        assert sorted(communities) == [r[0] for r in con.execute("SELECT community_code FROM communities ORDER BY 1")]
        members = con.execute("SELECT SUM(members) FROM households WHERE members > 0").fetchone()[0]
        community_of = dict(con.execute("SELECT household_id, community_code FROM households"))
    assert members <= PEOPLE
    assert {code: c["open_unemployment_claims"] for code, c in communities.items() if c["open_unemployment_claims"]} == \
        dict(facts["open_claims"])
    assert {code: c["subsidised_households"] for code, c in communities.items() if c["subsidised_households"]} == \
        dict(Counter(community_of[h] for h in facts["subsidised"]))
    residents = Counter(r["address"][0]["extension"][0]["valueCode"] for _, _, r in ndjson(bulk(home) / "Patient.ndjson"))
    duplicates = truth["sources"]["health_patient"]["defects"]["duplicate-key"]
    assert sum(residents.values()) - len(duplicates) == PEOPLE


def test_sqlite_row_counts_match_truth(home, truth):
    with sqlite3.connect(database(home)) as con:
        counts = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in housing.TABLES}
    sources = truth["sources"]
    assert counts == {
        "communities": sources["housing_communities"]["rows"],
        "housing_units": sources["housing_units"]["rows"],
        "households": sources["housing_households"]["rows"],
        "tenancies": sources["housing_tenancies"]["rows"],
        "subsidies": sources["housing_subsidies"]["rows"],
    }
    assert sources["housing_addresses"]["rows"] == counts["housing_units"]
    public = sum(1 for _ in sqlite3.connect(database(home)).execute("SELECT 1 FROM housing_units WHERE tenure = '01'"))
    assert 0.08 * counts["housing_units"] <= public <= 0.25 * counts["housing_units"]


def test_gtfs_zip(home):
    with zipfile.ZipFile(home / "departments" / "transport" / "gtfs.zip") as archive:
        names = archive.namelist()
        assert sorted(names) == sorted(["agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt",
                                        "calendar.txt"])
        assert all(info.date_time == (2026, 6, 1, 8, 0, 0) for info in archive.infolist())
    header, *calendar = gtfs_table(home, "calendar.txt")
    assert header[0] == "service_id" and calendar
    assert len(gtfs_table(home, "stop_times.txt")) > 100


def expected_counts(truth: dict) -> dict[str, int]:
    sources = truth["sources"]
    return {"communities": sources["housing_communities"]["rows"], "housing_units": sources["housing_units"]["rows"],
            "households": sources["housing_households"]["rows"], "tenancies": sources["housing_tenancies"]["rows"],
            "subsidies": sources["housing_subsidies"]["rows"]}


def compare_tables(url: str, home: Path) -> None:
    """The copy holds the same rows as the SQLite database (compared as text, numbers as numbers)."""
    engine = sa.create_engine(url)
    try:
        source = sqlite3.connect(database(home))
        with engine.connect() as target:
            for table, columns in housing.columns().items():
                names = [name for name, _ in columns]
                select = f"SELECT {', '.join(names)} FROM {table} ORDER BY {names[0]}"
                theirs = target.execute(sa.text(select)).all()
                ours = source.execute(select).fetchall()
                assert len(theirs) == len(ours)
                for mine, copy in zip(ours, theirs):
                    for (name, declared), a, b in zip(columns, mine, copy):
                        if a is None or b is None:
                            assert a is b is None, (table, name)
                        elif declared in ("DECIMAL", "NUMERIC", "INTEGER"):
                            assert float(a) == pytest.approx(float(b)), (table, name)
                        elif declared == "TIMESTAMP":
                            assert str(b)[:19] == a, (table, name)
                        else:
                            assert str(b) == a, (table, name)
        source.close()
    finally:
        engine.dispose()


def test_load_into_sqlite(home, truth, tmp_path):
    target = tmp_path / "copy.db"
    url = f"sqlite:///{target}"
    assert housing.load_into(url, database(home)) == expected_counts(truth)
    assert housing.load_into(url, database(home)) == expected_counts(truth)  # drops and loads again
    compare_tables(url, home)


def test_schema_is_portable_sql():
    for statement in housing.statements():
        assert statement.startswith("CREATE TABLE")
        assert not re.search(r"\b(TEXT|REAL|AUTOINCREMENT|SERIAL|DATETIME|NVARCHAR)\b", statement)
    tables = housing.columns()
    assert tuple(tables) == housing.TABLES
    assert [n for n, _ in tables["housing_units"]] == ["unit_id", "address", "community_code", "grid_code",
                                                       "floor_area", "rooms", "tenure", "updated_at"]
    assert all(columns[-1] == ("updated_at", "TIMESTAMP") for columns in tables.values())


@pytest.mark.services
@pytest.mark.parametrize("kind", sorted(SERVERS))
def test_load_into_a_database_server(home, truth, kind):
    with server_database(kind, "unsilo_test_demo") as url:
        assert housing.load_into(url, database(home)) == expected_counts(truth)
        assert housing.load_into(url, database(home)) == expected_counts(truth)  # a second load replaces
        compare_tables(url, home)
