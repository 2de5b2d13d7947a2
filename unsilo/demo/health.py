"""Health: the FHIR R4 Bulk Data export ``health/bulk/2026-06-01/``.

``Patient.ndjson``, ``Encounter.ndjson``, ``Immunization.ndjson``, ``Observation.ndjson`` (one resource
per line, UTF-8) and ``manifest.json``. Clinical events happen within the year before the night.
"""

from __future__ import annotations

import datetime
import json
import pathlib
import random
from typing import Any

from unsilo.demo import clock, places, resident_id
from unsilo.demo.defects import Seeding
from unsilo.demo.population import Person, Population

RESIDENT_ID_SYSTEM = "http://unsilo.example/fhir/sid/cn-resident-id"
COMMUNITY_EXTENSION = "http://unsilo.example/fhir/StructureDefinition/community-code"
GRID_EXTENSION = "http://unsilo.example/fhir/StructureDefinition/grid-code"
VACCINE_SYSTEM = "http://unsilo.example/fhir/CodeSystem/vaccine"
MARITAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
BASE_URL = "http://unsilo.example/fhir"

MARITAL_DISPLAY = {"S": "Never Married", "M": "Married", "W": "Widowed", "D": "Divorced", "UNK": "unknown"}

# class code -> (display, weight, shortest and longest stay in minutes, first and last hour of arrival)
ENCOUNTER_CLASSES = {
    "AMB": ("ambulatory", 70, 10, 60, 8, 16),
    "EMER": ("emergency", 8, 60, 360, 0, 22),
    "IMP": ("inpatient encounter", 5, 2 * 1440, 10 * 1440, 8, 18),
    "HH": ("home health", 7, 30, 90, 9, 16),
    "VR": ("virtual", 10, 10, 30, 8, 20),
}

# code -> (abbreviation, name, ages in months when the doses are due)
VACCINES = {
    "0101": ("BCG", "卡介苗", (0,)),
    "0201": ("HepB", "乙肝疫苗", (0, 1, 6)),
    "0301": ("Polio", "脊灰疫苗", (2, 3, 4, 48)),
    "0401": ("DTaP", "百白破疫苗", (3, 4, 5, 18)),
    "1201": ("MMR", "麻腮风疫苗", (8, 18)),
    "1601": ("JE", "乙脑疫苗", (8, 24)),
    "1701": ("MenA", "流脑疫苗", (6, 9)),
    "1901": ("HepA", "甲肝疫苗", (18,)),
}

# LOINC code -> (display, unit, low, high, decimals)
OBSERVATIONS = {
    "8480-6": ("Systolic blood pressure", "mm[Hg]", 98, 172, 0),
    "8462-4": ("Diastolic blood pressure", "mm[Hg]", 58, 104, 0),
    "4548-4": ("Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4.6, 9.8, 1),
    "2339-0": ("Glucose [Mass/volume] in Blood", "mg/dL", 72, 230, 0),
}

YEAR_START = datetime.datetime(2025, 6, 2, 0, 0, 0, tzinfo=clock.CST)
LAST_EVENT = datetime.datetime(2026, 6, 1, 22, 0, 0, tzinfo=clock.CST)


def _line(resource: dict[str, Any]) -> str:
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n"


def _who(person: Person) -> dict[str, Any]:
    return {"reference": f"Patient/{person.patient_id}",
            "identifier": {"system": RESIDENT_ID_SYSTEM, "value": person.id_number}}


def _born(person: Person) -> datetime.datetime:
    return datetime.datetime.combine(person.birth, datetime.time(0, 0), tzinfo=clock.CST)


def _at(rng: random.Random, day: datetime.date, first_hour: int, last_hour: int) -> datetime.datetime:
    moment = datetime.time(rng.randint(first_hour, last_hour), rng.randrange(0, 60), rng.randrange(0, 60))
    return datetime.datetime.combine(day, moment, tzinfo=clock.CST)


def _clamp(moment: datetime.datetime, first: datetime.datetime, last: datetime.datetime) -> datetime.datetime:
    return max(first, min(moment, last))


def patients(rng: random.Random, population: Population) -> list[dict[str, Any]]:
    resources = []
    for person in population.persons:
        resources.append({
            "resourceType": "Patient",
            "id": person.patient_id,
            "meta": {"lastUpdated": clock.iso(clock.stamp(rng))},
            "identifier": [{"system": RESIDENT_ID_SYSTEM, "value": person.id_number}],
            "name": [{"use": "official", "text": person.name, "family": person.family, "given": [person.given]}],
            "gender": person.sex,
            "birthDate": person.birth.isoformat(),
            "maritalStatus": {"coding": [{"system": MARITAL_SYSTEM, "code": person.marital,
                                          "display": MARITAL_DISPLAY[person.marital]}]},
            "address": [{
                "extension": [{"url": COMMUNITY_EXTENSION, "valueCode": person.community.code},
                              {"url": GRID_EXTENSION, "valueCode": person.grid}],
                "use": "home",
                "text": person.address,
                "city": places.CITY_NAME,
                "district": places.DISTRICT_NAME,
                "state": places.PROVINCE_NAME,
                "country": "CN",
            }],
        })
    return resources


def encounters(rng: random.Random, population: Population) -> list[dict[str, Any]]:
    """About one encounter per two residents in the year before the night, older people more often."""
    persons = population.persons
    weights = [1 + person.age / 25 for person in persons]
    codes = list(ENCOUNTER_CLASSES)
    visits = []
    for _ in range(max(1, round(len(persons) / 2))):
        person = rng.choices(persons, weights=weights)[0]
        code = rng.choices(codes, weights=[ENCOUNTER_CLASSES[c][1] for c in codes])[0]
        _, _, shortest, longest, first_hour, last_hour = ENCOUNTER_CLASSES[code]
        stay = datetime.timedelta(minutes=rng.randint(shortest, longest))
        earliest = max(YEAR_START, _born(person))
        latest = LAST_EVENT - stay
        if latest < earliest:  # a newborn cannot have had a long stay yet
            code, stay, latest = "AMB", datetime.timedelta(minutes=20), LAST_EVENT - datetime.timedelta(minutes=20)
        day = clock.day_between(rng, earliest.date(), latest.date())
        start = _clamp(_at(rng, day, first_hour, last_hour), earliest, latest)
        street = person.community.street
        if rng.random() < 0.15:
            street = rng.choice(places.STREETS)
        visits.append((start, person.index, code, start + stay, street.clinic, person))
    visits.sort(key=lambda visit: visit[:2])
    resources = []
    for number, (start, _, code, end, clinic, person) in enumerate(visits, start=1):
        resources.append({
            "resourceType": "Encounter",
            "id": f"e-{number:06d}",
            "meta": {"lastUpdated": clock.iso(clock.stamp(rng))},
            "status": "finished",
            "class": {"system": ACT_CODE_SYSTEM, "code": code, "display": ENCOUNTER_CLASSES[code][0]},
            "subject": _who(person),
            "period": {"start": clock.iso(start), "end": clock.iso(end)},
            "serviceProvider": {"display": clinic},
        })
    return resources


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def immunizations(rng: random.Random, population: Population) -> list[dict[str, Any]]:
    """The national schedule doses of the children under 7 that fell in the year before the night."""
    doses = []
    for person in population.persons:
        if person.age >= 7:
            continue
        for code, (_, _, months) in VACCINES.items():
            for month in months:
                due = _add_months(person.birth, month) + datetime.timedelta(days=rng.randint(0, 20))
                moment = _at(rng, due, 8, 16)
                if rng.random() < 0.06 or not YEAR_START <= moment <= LAST_EVENT or moment < _born(person):
                    continue
                doses.append((moment, person.index, code, person))
    doses.sort(key=lambda dose: dose[:3])
    resources = []
    for number, (moment, _, code, person) in enumerate(doses, start=1):
        abbreviation, name, _ = VACCINES[code]
        resources.append({
            "resourceType": "Immunization",
            "id": f"i-{number:06d}",
            "meta": {"lastUpdated": clock.iso(clock.stamp(rng))},
            "status": "completed",
            "vaccineCode": {"coding": [{"system": VACCINE_SYSTEM, "code": code, "display": name}],
                            "text": abbreviation},
            "patient": _who(person),
            "occurrenceDateTime": clock.iso(moment),
        })
    return resources


def _value(rng: random.Random, code: str) -> float | int:
    _, _, low, high, decimals = OBSERVATIONS[code]
    if decimals:
        return round(rng.uniform(low, high), decimals)
    return rng.randint(int(low), int(high))


def observations(rng: random.Random, population: Population) -> list[dict[str, Any]]:
    """Blood pressure, HbA1c and glucose of residents over 40, measured within the year."""
    measured = []
    for person in population.persons:
        if person.age <= 40:
            continue
        if rng.random() < 0.6:
            for _ in range(rng.randint(1, 3)):
                moment = _at(rng, clock.day_between(rng, YEAR_START.date(), LAST_EVENT.date() - datetime.timedelta(days=1)), 8, 16)
                systolic = _value(rng, "8480-6")
                diastolic = min(_value(rng, "8462-4"), systolic - 25)
                measured.append((moment, person.index, "8480-6", systolic, person))
                measured.append((moment, person.index, "8462-4", diastolic, person))
        if rng.random() < 0.3:
            moment = _at(rng, clock.day_between(rng, YEAR_START.date(), LAST_EVENT.date() - datetime.timedelta(days=1)), 7, 10)
            for code in ("4548-4", "2339-0"):
                if rng.random() < 0.75:
                    measured.append((moment, person.index, code, _value(rng, code), person))
    measured.sort(key=lambda item: item[:3])
    resources = []
    for number, (moment, _, code, value, person) in enumerate(measured, start=1):
        display, unit, *_ = OBSERVATIONS[code]
        category = "vital-signs" if code in ("8480-6", "8462-4") else "laboratory"
        resources.append({
            "resourceType": "Observation",
            "id": f"o-{number:06d}",
            "meta": {"lastUpdated": clock.iso(clock.stamp(rng))},
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": category}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "subject": _who(person),
            "effectiveDateTime": clock.iso(moment),
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
        })
    return resources


def _seed_patients(rng: random.Random, resources: list[dict[str, Any]]) -> Seeding:
    seeding = Seeding(rng, len(resources))
    for index in seeding.choose("id-check-digit"):
        identifier = resources[index]["identifier"][0]
        identifier["value"] = resident_id.corrupt(identifier["value"], rng.randrange(10))
    for index in seeding.choose("required-missing"):
        del resources[index]["birthDate"]
    for index in seeding.choose("impossible-date"):
        resources[index]["birthDate"] = (clock.NIGHT + datetime.timedelta(days=rng.randint(1, 1500))).isoformat()
    for index in seeding.choose("unknown-code"):
        resources[index]["gender"] = "M"
    seeding.duplicate()
    return seeding


def _seed_encounters(rng: random.Random, resources: list[dict[str, Any]]) -> Seeding:
    seeding = Seeding(rng, len(resources))
    for index in seeding.choose("impossible-date"):
        period = resources[index]["period"]
        start = datetime.datetime.fromisoformat(period["start"])
        period["end"] = clock.iso(start - datetime.timedelta(minutes=rng.randint(5, 600)))
    for index in seeding.choose("unknown-code"):
        resources[index]["class"] = {"system": ACT_CODE_SYSTEM, "code": "XYZ"}
    for index in seeding.choose("id-check-digit"):
        identifier = resources[index]["subject"]["identifier"]
        identifier["value"] = resident_id.corrupt(identifier["value"], rng.randrange(10))
    return seeding


def _seed_immunizations(rng: random.Random, resources: list[dict[str, Any]]) -> Seeding:
    seeding = Seeding(rng, len(resources))
    for index in seeding.choose("unknown-code"):
        resources[index]["vaccineCode"] = {"coding": [{"system": VACCINE_SYSTEM, "code": "9999"}]}
    seeding.duplicate()
    return seeding


def _seed_observations(rng: random.Random, resources: list[dict[str, Any]]) -> Seeding:
    seeding = Seeding(rng, len(resources))
    for index in seeding.choose("required-missing"):
        del resources[index]["valueQuantity"]
    return seeding


RESOURCES = (
    ("Patient", "health_patient", patients, _seed_patients),
    ("Encounter", "health_encounter", encounters, _seed_encounters),
    ("Immunization", "health_immunization", immunizations, _seed_immunizations),
    ("Observation", "health_observation", observations, _seed_observations),
)


def health(rng: random.Random, population: Population, departments: pathlib.Path) -> dict[str, dict[str, Any]]:
    """Write the bulk export under ``departments/health/bulk/2026-06-01/``; return the sources' truth."""
    folder = departments / "health" / "bulk" / clock.NIGHT.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    truth: dict[str, dict[str, Any]] = {}
    output = []
    for resource_type, source, make, seed in RESOURCES:
        resources = make(rng, population)
        seeding = seed(rng, resources)
        name = f"{resource_type}.ndjson"
        lines, truth[source] = seeding.emit([_line(resource) for resource in resources], name, first_line=1)
        (folder / name).write_bytes("".join(lines).encode("utf-8"))
        output.append({"type": resource_type, "url": name, "count": len(lines)})
    manifest = {
        "transactionTime": clock.iso(clock.TRANSACTION_TIME),
        "request": f"{BASE_URL}/$export?_type=" + ",".join(r[0] for r in RESOURCES),
        "requiresAccessToken": False,
        "output": output,
        "error": [],
    }
    (folder / "manifest.json").write_bytes(
        (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return truth
