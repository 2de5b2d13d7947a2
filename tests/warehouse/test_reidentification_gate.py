"""The re-identification gate: a snapshot below k is refused and the previous one stays; one that meets k is
published; the quasi-identifiers reachable by joining on person_key count."""

from __future__ import annotations

import hashlib
import re

import duckdb
import pytest

from tests.warehouse.deid_fixture import working_warehouse
from warehouse import publish_snapshot as publishing
from warehouse.deidentify import K_VARIABLE, analyst_tables
from warehouse.publish_snapshot import POINTER, publish_snapshot
from warehouse.reidentification_gate import ReidentificationRisk, findings, reidentification_gate

K = 5
CELL_VALUE = re.compile(r"\d{4}-\d{2}-\d{2}|[0-9a-f]{32}|\d{12}")  # a date, a person_key, a community code


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_raw(con, k=None, share=None):
    """What publishing did before the gate: every std table copied as it is in the working file."""
    for t in analyst_tables():
        con.execute(f"CREATE TABLE snapshot.{t.name} AS SELECT * FROM {t.name}")
    return {}


@pytest.fixture(scope="module")
def working(tmp_path_factory):
    home = tmp_path_factory.mktemp("gate")
    con = working_warehouse(home / "working.duckdb", people=2000, encounters=2500)
    yield home, con
    con.close()


def test_a_snapshot_that_meets_k_is_published_with_its_findings(working):
    home, con = working
    path = publish_snapshot(con, home / "snapshots", k=K)
    assert (home / "snapshots" / POINTER).resolve() == path.resolve()
    with duckdb.connect(str(path), read_only=True) as snap:
        rows = snap.execute("SELECT table_name, scope, k_achieved, records FROM meta.disclosure").fetchall()
    assert {(t, s) for t, s, _, _ in rows} >= {("std.person", "own"), ("std.health_encounter", "joined")}
    assert all(k >= K for _, _, k, n in rows if n)


def test_a_snapshot_that_breaks_k_is_not_published_and_the_previous_one_stays(working, monkeypatch):
    home, con = working
    directory = home / "snapshots"
    if not (directory / POINTER).exists():
        publish_snapshot(con, directory, k=K)
    before, before_digest = (directory / POINTER).resolve(), digest(directory / POINTER)
    files = sorted(directory.iterdir())
    monkeypatch.setattr(publishing, "deidentify", copy_raw)
    with pytest.raises(ReidentificationRisk) as err:
        publish_snapshot(con, directory, k=K)
    message = str(err.value)
    assert "the new snapshot was not published" in message
    versions = con.execute("SELECT count(*) FROM std.person_history").fetchone()[0]
    assert re.search(r"std\.person_history is 1-anonymous over \(sex_code, birth_date, marital_status_code, "
                     rf"community_code, grid_code, [^)]*valid_from, valid_to\): {versions} of {versions} records "
                     r"at risk", message), message
    assert "std.health_encounter is 1-anonymous over (started_at, ended_at, provider_name" in message
    assert "person.birth_date" in message  # the joined scope
    assert not CELL_VALUE.search(message), message
    assert (directory / POINTER).resolve() == before and digest(directory / POINTER) == before_digest
    assert sorted(directory.iterdir()) == files  # the refused snapshot (and its partial file) is gone
    assert con.execute("SELECT count(*) FROM std.person").fetchone()[0] == 2000  # the loads stay


def test_a_population_too_small_for_k_is_refused_without_any_help(tmp_path):
    con = working_warehouse(tmp_path / "working.duckdb", people=3, encounters=4)
    with pytest.raises(ReidentificationRisk,
                       match=r"std\.person_history is [1-4]-anonymous over \(birth_date\): 3 of 3 records at risk"):
        publish_snapshot(con, tmp_path / "snapshots", k=K)
    assert not (tmp_path / "snapshots" / POINTER).exists()
    assert list((tmp_path / "snapshots").iterdir()) == []


def test_the_night_fails_at_the_gate_after_its_marts_and_loads(tmp_path, monkeypatch):
    from unsilo.night import rebuild_marts
    from unsilo.settings import settings

    (tmp_path / "warehouse").mkdir()
    working_warehouse(tmp_path / "warehouse" / "unsilo.duckdb", people=3, encounters=4).close()
    monkeypatch.setenv("UNSILO_HOME", str(tmp_path))
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)
    monkeypatch.delenv(K_VARIABLE, raising=False)
    with pytest.raises(ReidentificationRisk, match="std.person_history is"):
        rebuild_marts(settings())  # what unsilo night, sync, demo and the build_marts DAG call
    with duckdb.connect(str(tmp_path / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.community_overview").fetchone()[0] >= 0
        assert con.execute("SELECT count(*) FROM std.person").fetchone()[0] == 3
    assert not (tmp_path / "warehouse" / "snapshots" / POINTER).exists()


def snapshot_with(tmp_path, immunized_in_small_class: int) -> duckdb.DuckDBPyConnection:
    """20 persons in two classes of 10 on (sex_code, birth_date, community_code); immunizations of all of class B
    and of ``immunized_in_small_class`` persons of class A, all on the same month."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{tmp_path / 'snap.duckdb'}' AS snap")
    con.execute("CREATE SCHEMA snap.std")
    con.execute("""CREATE TABLE snap.std.person AS SELECT 'p' || i AS person_key, '1' AS sex_code,
        CASE WHEN i < 10 THEN '1980-1984' ELSE '1990-1994' END AS birth_date, '330106001000' AS community_code,
        false AS _suppressed FROM range(20) t(i)""")
    con.execute(f"""CREATE TABLE snap.std.immunization AS SELECT 'p' || i AS person_key, 'MMR' AS vaccine_code,
        DATE '2026-01-01' AS occurred_on, false AS _suppressed FROM range(20) t(i)
        WHERE i >= 10 OR i < {immunized_in_small_class}""")
    return con


def test_the_quasi_identifiers_reachable_by_joining_on_person_key_count(tmp_path):
    con = snapshot_with(tmp_path, immunized_in_small_class=3)
    own = next(f for f in findings(con, "snap", K) if f.table == "std.immunization" and f.scope == "own")
    assert (own.k, own.records) == (13, 13)  # on its own quasi-identifier (the month) the table is fine
    with pytest.raises(ReidentificationRisk) as err:
        reidentification_gate(con, "snap", K)
    assert ("std.immunization is 3-anonymous over (occurred_on, person.sex_code, person.birth_date, "
            "person.community_code): 3 of 13 records at risk") in str(err.value)
    assert "std.person is" not in str(err.value)


def test_a_joined_class_of_k_persons_passes(tmp_path):
    con = snapshot_with(tmp_path, immunized_in_small_class=5)
    found = {(f.table, f.scope): f for f in reidentification_gate(con, "snap", K)}
    assert found[("std.immunization", "joined")].k == 5
    assert found[("std.person", "own")].k == 10
    assert found[("std.immunization", "joined")].unique_share == 0
