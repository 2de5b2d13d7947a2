"""End to end, in-process: one night of all four departments on generated data, checked against the truth."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from standards.entity import entities
from tests.night_fixture import generated_night
from unsilo.catalog import source
from unsilo.night import run_source
from unsilo.settings import settings

ANALYST_SCHEMAS = ("std", "marts")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        n = generated_night(tmp_path_factory, mp)
        n.entries = n.run()
        yield n


def snapshot(con, schemas=("std", "marts", "meta")) -> dict[str, list]:
    out = {}
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN "
        f"({', '.join(repr(s) for s in schemas)}) ORDER BY 1, 2"
    ).fetchall()
    for schema, name in tables:
        if (schema, name) in (("meta", "ledger"), ("meta", "validation_result")):
            continue  # one row per run by design
        out[f"{schema}.{name}"] = sorted(map(repr, con.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall()))
    return out


def test_every_source_succeeds_and_every_entity_has_rows(night):
    assert [e.source for e in night.entries if e.status != "success"] == []
    with night.connect() as con:
        for name in entities():
            assert con.execute(f"SELECT count(*) FROM std.{name}").fetchone()[0] > 0, name


def test_ledger_reconciles_for_every_source(night):
    with night.connect() as con:
        rows = con.execute("SELECT source, extracted, loaded, quarantined, unchanged FROM meta.ledger").fetchall()
    assert {r[0] for r in rows} == set(night.truth["sources"])
    for src, extracted, loaded, quarantined, unchanged in rows:
        assert extracted == loaded + quarantined + unchanged, src
        assert extracted == night.truth["sources"][src]["rows"], src


def test_quarantine_holds_exactly_the_seeded_defects(night):
    with night.connect() as con:
        rows = con.execute("SELECT source, source_row, rules FROM meta.quarantine").fetchall()
    got: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for src, row, rules in rows:
        for rule in rules:
            got[src][rule].add(row)
    for src, t in night.truth["sources"].items():
        expected = {rule: set(rows) for rule, rows in t["defects"].items() if rows}
        assert {r: s for r, s in got[src].items()} == expected, src


def test_quarantine_keeps_the_source_record_as_received(night):
    with night.connect() as con:
        record, = con.execute(
            "SELECT record FROM meta.quarantine WHERE source = 'employment_registration' "
            "AND list_contains(rules, 'undecodable-bytes') LIMIT 1"
        ).fetchone()
    assert "身份证号" in record and "\ufffd" in record


def _raw_identities(night) -> set[str]:
    """Every resident ID number and name the departments exported."""
    import json as _json

    ids, names = set(), set()
    bulk = night.home / "departments" / "health" / "bulk" / "2026-06-01" / "Patient.ndjson"
    for line in bulk.read_text(encoding="utf-8").splitlines():
        p = _json.loads(line)
        ids.update(i["value"] for i in p.get("identifier", []))
        names.update(n["text"] for n in p.get("name", []) if n.get("text"))
    return ids | names


def test_no_analyst_facing_column_holds_a_raw_id_number_or_name(night):
    raw = _raw_identities(night)
    assert len(raw) > 2 * 300 * 0.9
    leaks = []
    with night.connect() as con:
        cols = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            f"WHERE table_schema IN {ANALYST_SCHEMAS} AND data_type = 'VARCHAR'"
        ).fetchall()
        for schema, table, column in cols:
            values = {v for (v,) in con.execute(f'SELECT DISTINCT "{column}" FROM {schema}.{table}').fetchall() if v}
            hit = values & raw
            hit |= {v for v in values if ID_NUMBER.search(v)}
            if hit:
                leaks.append(f"{schema}.{table}.{column}: {sorted(hit)[:3]}")
    assert leaks == []


def test_cross_department_mart_matches_the_truth_for_clean_records(night):
    with night.connect() as con:
        rows = con.execute(
            "SELECT community_code, households, open_unemployment_claims, subsidised_households "
            "FROM marts.community_overview WHERE level = 'community'"
        ).fetchall()
    pop = night.truth["population"]["communities"]
    assert {r[0] for r in rows} == set(pop)
    shown = [r for r in rows if r[1] is not None]  # small cells and their complements are suppressed (NULL)
    assert len(shown) >= len(rows) - 4
    claims = [r for r in rows if r[2] is not None]
    assert sum(r[2] for r in claims) == sum(pop[r[0]]["open_unemployment_claims"] for r in claims)
    subsidised = [r for r in rows if r[3] is not None]
    assert sum(r[3] for r in subsidised) == sum(pop[r[0]]["subsidised_households"] for r in subsidised)


def test_rerunning_the_same_night_changes_nothing(night):
    with night.connect() as con:
        before = snapshot(con)
    again = night.run()
    with night.connect() as con:
        after = snapshot(con)
    assert before == after
    for e in again:
        assert e.loaded == 0, e.source
        assert e.extracted == e.quarantined + e.unchanged


def test_a_crash_inside_the_load_leaves_the_warehouse_as_it_was(night, monkeypatch):
    import warehouse.load as load_module

    with night.connect() as con:
        before = snapshot(con)
    # the department changed a record; the load of that change then dies before it commits
    import sqlite3

    db = night.home / "departments" / "housing" / "housing.db"
    with sqlite3.connect(db) as s:
        s.execute("UPDATE tenancies SET arrears_months = arrears_months + 7 WHERE tenancy_id = "
                  "(SELECT min(tenancy_id) FROM tenancies)")

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash before commit")

    monkeypatch.setattr(load_module, "write_ledger", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_source(source("housing_tenancies", settings()), night.interval, settings())
    with night.connect() as con:
        assert snapshot(con) == before
    monkeypatch.undo()
    entry = run_source(source("housing_tenancies", settings()), night.interval, settings())
    assert entry.loaded == 1 and entry.reconciles()
