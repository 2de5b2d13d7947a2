"""Housing: the department's relational database ``housing/housing.db`` (SQLite).

The schema is ``housing_schema.sql`` (portable SQL); :func:`load_into` puts the same tables and rows
into any SQLAlchemy URL (PostgreSQL, MariaDB, SQLite...), as the department's production database.
"""

from __future__ import annotations

import datetime
import decimal
import os
import pathlib
import random
import re
import sqlite3
from collections import Counter
from typing import Any

import sqlalchemy as sa

from unsilo.demo import clock, places, resident_id
from unsilo.demo.defects import Seeding
from unsilo.demo.population import Population

SCHEMA = pathlib.Path(__file__).with_name("housing_schema.sql")
TABLES = ("communities", "housing_units", "households", "tenancies", "subsidies")
BATCH = 500

TENURES = {"01": 15, "02": 58, "03": 22, "04": 5}  # 公租房, 自有, 私人租赁, 其他
SUBSIDY_AMOUNTS = {"R1": (60, 180), "R2": (10, 80), "R3": (20, 100)}  # in tens of yuan a month


def statements(sql: str | None = None) -> list[str]:
    """The schema's statements, comments stripped."""
    text = SCHEMA.read_text(encoding="utf-8") if sql is None else sql
    text = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def columns() -> dict[str, list[tuple[str, str]]]:
    """``table -> [(column, declared type), ...]`` in schema order."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for statement in statements():
        match = re.match(r"CREATE\s+TABLE\s+(\w+)\s*\((.*)\)\s*$", statement, re.S | re.I)
        if not match:
            continue
        found = []
        for line in match.group(2).split("\n"):
            part = re.match(r"\s*(\w+)\s+([A-Za-z]+(?:\s+PRECISION)?)", line)
            if part and part.group(1).upper() not in ("PRIMARY", "UNIQUE", "CONSTRAINT", "FOREIGN"):
                found.append((part.group(1), part.group(2).upper()))
        tables[match.group(1)] = found
    return tables


def _stamp(rng: random.Random) -> str:
    return clock.sql_timestamp(clock.stamp(rng))


def _units(rng: random.Random, population: Population) -> list[dict[str, Any]]:
    rows = []
    for unit in population.units:
        size = len(unit.household.members) if unit.household else rng.randint(1, 3)
        tenure = rng.choices(list(TENURES), weights=list(TENURES.values()))[0]
        if tenure == "01":
            area = rng.uniform(30, 45) + 8 * size
        else:
            area = rng.uniform(35, 70) + 14 * size
        rooms = max(1, min(5, round(area / 28) + rng.choice((-1, 0, 0, 1))))
        rows.append({
            "unit_id": unit.unit_id,
            "address": unit.address,
            "community_code": unit.community.code,
            "grid_code": unit.grid,
            "floor_area": round(min(150.0, max(20.0, area)), 2),
            "rooms": rooms,
            "tenure": tenure,
            "updated_at": _stamp(rng),
        })
    return rows


def _households(rng: random.Random, population: Population) -> list[dict[str, Any]]:
    return [{
        "household_id": household.household_id,
        "head_id_number": household.head.id_number,
        "unit_id": household.unit.unit_id,
        "community_code": household.unit.community.code,
        "members": len(household.members),
        "registered_on": household.registered_on.isoformat(),
        "updated_at": _stamp(rng),
    } for household in population.households]


def _tenancies(rng: random.Random, population: Population, tenure: dict[str, str], area: dict[str, float]) -> list[dict[str, Any]]:
    """Every household in a public-rental unit has a current tenancy; some an earlier, ended one."""
    leases = []
    for household in population.households:
        unit_id = household.unit.unit_id
        if tenure[unit_id] != "01":
            continue
        start = clock.day_between(rng, max(household.registered_on, datetime.date(2012, 1, 1)),
                                  clock.NIGHT - datetime.timedelta(days=30))
        if start > clock.NIGHT:
            start = clock.NIGHT
        rent = round(area[unit_id] * rng.uniform(9, 16), 2)
        arrears = rng.choices((0, 1, 2, 3, 4, 6), weights=(80, 8, 5, 3, 2, 2))[0]
        status = "3" if arrears >= 3 and rng.random() < 0.5 else "1"
        leases.append((start, household, unit_id, None, rent, arrears, status))
        first = max(household.registered_on, datetime.date(2008, 1, 1))
        if rng.random() < 0.25 and start - datetime.timedelta(days=400) >= first:
            begun = clock.day_between(rng, first, start - datetime.timedelta(days=400))
            old_rent = round(rent * rng.uniform(0.8, 0.95), 2)
            leases.append((begun, household, unit_id, start - datetime.timedelta(days=1), old_rent, 0, "2"))
    leases.sort(key=lambda lease: (lease[0], lease[1].index))
    return [{
        "tenancy_id": f"T{number:06d}",
        "household_id": household.household_id,
        "unit_id": unit_id,
        "start_date": start.isoformat(),
        "end_date": end.isoformat() if end else None,
        "monthly_rent": rent,
        "arrears_months": arrears,
        "status": status,
        "updated_at": _stamp(rng),
    } for number, (start, household, unit_id, end, rent, arrears, status) in enumerate(leases, start=1)]


def _subsidies(rng: random.Random, population: Population, tenure: dict[str, str]) -> list[dict[str, Any]]:
    """About 8 % of the households receive a housing subsidy (a few have an earlier, ended one too)."""
    households = population.households
    chosen = rng.sample(households, min(len(households), max(6, round(len(households) * 0.08))))
    grants = []
    for household in sorted(chosen, key=lambda h: h.index):
        kind = {"01": ("R2", "R2", "R1"), "03": ("R1", "R1", "R1", "R3")}.get(tenure[household.unit.unit_id], ("R1", "R3"))
        for earlier in (False, True):
            if earlier and rng.random() >= 0.15:
                break
            subsidy_type = rng.choice(kind)
            low, high = SUBSIDY_AMOUNTS[subsidy_type]
            if earlier:
                if household.registered_on > datetime.date(2019, 6, 30):
                    break
                start = clock.day_between(rng, max(household.registered_on, datetime.date(2015, 1, 1)),
                                          datetime.date(2019, 12, 31))
                end = clock.day_between(rng, start + datetime.timedelta(days=180), datetime.date(2020, 12, 31))
            else:
                first = min(max(household.registered_on, datetime.date(2021, 1, 1)), clock.NIGHT - datetime.timedelta(days=30))
                start = clock.day_between(rng, first, clock.NIGHT - datetime.timedelta(days=30))
                end = None
                if rng.random() < 0.3:
                    end = clock.day_between(rng, start + datetime.timedelta(days=90), clock.NIGHT)
                    end = min(end, clock.NIGHT)
            grants.append((start, household, subsidy_type, float(rng.randint(low, high) * 10), end))
    grants.sort(key=lambda grant: (grant[0], grant[1].index))
    return [{
        "subsidy_id": f"S{number:06d}",
        "household_id": household.household_id,
        "subsidy_type": subsidy_type,
        "amount": amount,
        "start_date": start.isoformat(),
        "end_date": end.isoformat() if end else None,
        "updated_at": _stamp(rng),
    } for number, (start, household, subsidy_type, amount, end) in enumerate(grants, start=1)]


def _seed(rng: random.Random, tables: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    truth: dict[str, dict[str, Any]] = {"housing_communities": {"rows": len(tables["communities"]), "defects": {}}}

    units = tables["housing_units"]
    seeding = Seeding(rng, len(units))
    for index in seeding.choose("unknown-code", lambda i: units[i]["tenure"] != "01"):
        units[index]["tenure"] = "09"
    for index in seeding.choose("out-of-range"):
        units[index]["floor_area"] = -units[index]["floor_area"]
    for index in seeding.choose("required-missing"):
        units[index]["community_code"] = None
    defects = seeding.keys(lambda i: f"housing_units:{units[i]['unit_id']}")
    truth["housing_units"] = {"rows": len(units), "defects": defects}
    missing = list(defects.get("required-missing", []))
    truth["housing_addresses"] = {"rows": len(units), "defects": {"required-missing": missing} if missing else {}}

    households = tables["households"]
    seeding = Seeding(rng, len(households))
    for index in seeding.choose("id-check-digit"):
        households[index]["head_id_number"] = resident_id.corrupt(households[index]["head_id_number"], rng.randrange(10))
    for index in seeding.choose("out-of-range"):
        households[index]["members"] = 0
    truth["housing_households"] = {"rows": len(households),
                                   "defects": seeding.keys(lambda i: f"households:{households[i]['household_id']}")}

    tenancies = tables["tenancies"]
    seeding = Seeding(rng, len(tenancies))
    ended = sum(1 for row in tenancies if row["status"] == "2")
    for index in seeding.choose("impossible-date", (lambda i: tenancies[i]["status"] == "2") if ended >= 3 else None):
        start = datetime.date.fromisoformat(tenancies[index]["start_date"])
        tenancies[index]["end_date"] = (start - datetime.timedelta(days=rng.randint(1, 365))).isoformat()
    for index in seeding.choose("unknown-code"):
        tenancies[index]["status"] = "9"
    truth["housing_tenancies"] = {"rows": len(tenancies),
                                  "defects": seeding.keys(lambda i: f"tenancies:{tenancies[i]['tenancy_id']}")}

    subsidies = tables["subsidies"]
    seeding = Seeding(rng, len(subsidies))
    for index in seeding.choose("unknown-code"):
        subsidies[index]["subsidy_type"] = "X9"
    for index in seeding.choose("out-of-range"):
        subsidies[index]["amount"] = -subsidies[index]["amount"]
    truth["housing_subsidies"] = {"rows": len(subsidies),
                                  "defects": seeding.keys(lambda i: f"subsidies:{subsidies[i]['subsidy_id']}")}
    return truth


def _write_sqlite(path: pathlib.Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    if path.exists():
        path.unlink()
    layout = columns()
    connection = sqlite3.connect(path)
    try:
        for statement in statements():
            connection.execute(statement)
        for table in TABLES:
            names = [name for name, _ in layout[table]]
            sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
            connection.executemany(sql, tables[table])
        connection.commit()
    finally:
        connection.close()


def housing(rng: random.Random, population: Population, departments: pathlib.Path) -> tuple[dict[str, dict[str, Any]], Counter[str]]:
    """Write ``departments/housing/housing.db``; return the sources' truth and the households with at
    least one clean subsidy per community."""
    folder = departments / "housing"
    folder.mkdir(parents=True, exist_ok=True)
    units = _units(rng, population)
    tenure = {row["unit_id"]: row["tenure"] for row in units}
    area = {row["unit_id"]: row["floor_area"] for row in units}
    tables = {
        "communities": [{
            "community_code": community.code,
            "community_name": community.name,
            "street_code": community.street.code,
            "street_name": community.street.name,
            "district_code": places.DISTRICT_CODE,
            "updated_at": _stamp(rng),
        } for community in places.COMMUNITIES],
        "housing_units": units,
        "households": _households(rng, population),
        "tenancies": _tenancies(rng, population, tenure, area),
        "subsidies": _subsidies(rng, population, tenure),
    }
    truth = _seed(rng, tables)
    bad = set(truth["housing_subsidies"]["defects"].get("unknown-code", []))
    bad |= set(truth["housing_subsidies"]["defects"].get("out-of-range", []))
    community_of = {household.household_id: household.unit.community.code for household in population.households}
    subsidised = {row["household_id"] for row in tables["subsidies"] if f"subsidies:{row['subsidy_id']}" not in bad}
    _write_sqlite(folder / "housing.db", tables)
    return truth, Counter(community_of[household_id] for household_id in subsidised)


def _convert(value: Any, declared: str) -> Any:
    if value is None:
        return None
    if declared == "DATE":
        return datetime.date.fromisoformat(value) if isinstance(value, str) else value
    if declared == "TIMESTAMP":
        return datetime.datetime.fromisoformat(value) if isinstance(value, str) else value
    if declared in ("DECIMAL", "NUMERIC"):
        return decimal.Decimal(str(value))
    if declared == "INTEGER":
        return int(value)
    return value


def _default_sqlite() -> pathlib.Path:
    return pathlib.Path(os.environ.get("UNSILO_HOME", "./data")) / "departments" / "housing" / "housing.db"


def load_into(url: str, sqlite_path: pathlib.Path | None = None) -> dict[str, int]:
    """Create the housing schema at ``url`` (dropping the tables first if they exist) and copy every
    row of the SQLite database into it in batches. Returns the row count per table.

    ``sqlite_path`` defaults to ``$UNSILO_HOME/departments/housing/housing.db``.
    """
    source_path = pathlib.Path(sqlite_path) if sqlite_path is not None else _default_sqlite()
    if not source_path.is_file():
        raise FileNotFoundError(f"no housing database at {source_path}: run `unsilo demo` first")
    layout = columns()
    engine = sa.create_engine(url)
    source = sqlite3.connect(f"file:{source_path.resolve()}?mode=ro", uri=True)
    try:
        dialect = engine.dialect.name
        with engine.begin() as target:
            for table in reversed(TABLES):
                target.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
            for statement in statements():
                if dialect in ("mysql", "mariadb") and statement.upper().startswith("CREATE TABLE"):
                    statement += " DEFAULT CHARSET=utf8mb4"
                target.execute(sa.text(statement))
            for table in TABLES:
                names = [name for name, _ in layout[table]]
                insert = sa.text(f"INSERT INTO {table} ({', '.join(names)}) "
                                 f"VALUES ({', '.join(':' + name for name in names)})")
                cursor = source.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY {names[0]}")
                while batch := cursor.fetchmany(BATCH):
                    if dialect == "sqlite":
                        rows = [dict(zip(names, row)) for row in batch]
                    else:
                        rows = [{name: _convert(value, declared) for (name, declared), value in zip(layout[table], row)}
                                for row in batch]
                    target.execute(insert, rows)
        with engine.connect() as target:
            return {table: int(target.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
                    for table in TABLES}
    finally:
        source.close()
        engine.dispose()
