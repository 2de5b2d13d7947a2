"""``unsilo key rotate``: every pseudonymous key re-derived in one transaction, history included; all or nothing."""

from __future__ import annotations

import os
import signal
import subprocess

import duckdb
import pytest

from standards import gb11643
from standards.pseudonym import hmac_sql, pseudonym
from tests.night_fixture import generated_night
from tests.pause_before_commit import kill_at_commit
from tests.unsilo.test_cli import UNSILO
from unsilo.key_rotation import KeyRotationError, check, key_domains, rotate
from unsilo.settings import KEY_ENV, KEY_FILE_ENV, SettingsError, read_chain, settings
from warehouse.rekey import RekeyError, plan


K1 = b"first-key-of-the-chain"
K2 = b"second-key-of-the-chain"
KEY_TABLES = ("std.address_history", "std.employment_spell", "std.health_encounter", "std.health_observation",
              "std.household_history", "std.housing_subsidy", "std.housing_unit", "std.immunization",
              "std.person_history", "std.tenancy_history", "std.unemployment_claim")


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """A night built with a key file the deployment provides (outside the data root), which rotation rewrites."""
    with pytest.MonkeyPatch.context() as mp:
        n = generated_night(tmp_path_factory, mp, people=120)
        n.key_file = tmp_path_factory.mktemp("deploy") / "pseudonym.key"
        n.key_file.write_text(K1.decode() + "\n", encoding="utf-8")
        mp.delenv(KEY_ENV)
        mp.setenv(KEY_FILE_ENV, str(n.key_file))
        mp.setenv("UNSILO_ROLE", "steward")
        n.entries = n.run()
        yield n


def tables(night) -> dict[str, list]:
    """Every row of every table with keys (keys, business columns, lineage), sorted: the state to compare."""
    with night.connect() as con:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in KEY_TABLES}


def rekeyed(night, before: dict[str, list], key: bytes) -> dict[str, list]:
    """``before`` with every key column mapped the way a rotation must map it: T(key, domain, old key)."""
    domains = key_domains(settings())
    with night.connect() as con:
        out = {}
        for kt in plan(con, domains):
            cols = [r[0] for r in con.execute(f"DESCRIBE {kt.table}").fetchall()]
            at = {c: (cols.index(c), d) for c, d in kt.domains.items()}
            hash_at = cols.index("_row_hash")
            rows = []
            for row in before[kt.table]:
                row = list(row)
                for i, d in at.values():
                    row[i] = None if row[i] is None else pseudonym(key, d, row[i])
                row[hash_at] = None  # recomputed by the rotation; compared by the next night below
                rows.append(row)
            out[kt.table] = sorted(rows, key=repr)
    return out


def without_hash(night, state: dict[str, list]) -> dict[str, list]:
    with night.connect() as con:
        out = {}
        for t, rows in state.items():
            i = [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()].index("_row_hash")
            out[t] = sorted(([*r[:i], None, *r[i + 1:]] for r in rows), key=repr)
    return out


def joins(night) -> tuple:
    with night.connect() as con:
        return con.execute(
            """SELECT (SELECT count(*) FROM std.employment_spell e JOIN std.person p USING (person_key)),
                      (SELECT count(*) FROM std.household h JOIN std.person p ON p.person_key = h.head_person_key),
                      (SELECT count(*) FROM std.tenancy t JOIN std.household h USING (household_key)),
                      (SELECT count(*) FROM std.tenancy t JOIN std.address a USING (address_key))""").fetchone()


def raw_id_matches(night, chain) -> int:
    """Employment rows whose person_key a holder of ``chain`` recomputes from the raw ID numbers it knows."""
    landing = night.home / "landing" / "employment_registration"
    with night.connect() as con:
        key = hmac_sql(chain, "person", gb11643.normalized_sql("NULLIF(trim(身份证号), '')"))
        return con.execute(f"""SELECT count(*) FROM std.employment_spell
            WHERE person_key IN (SELECT {key} FROM read_parquet('{landing}/*.parquet'))""").fetchone()[0]


def test_a_rotation_killed_inside_its_transaction_leaves_the_old_keys_and_key_file(night):
    before, key_text = tables(night), night.key_file.read_bytes()
    # the pause is injected from outside (tests/pause_before_commit.py): the rotation waits before its COMMIT
    code = kill_at_commit("unsilo.key_rotation", ["key", "rotate"], dict(os.environ, UNSILO_ROLE="steward"))
    assert code == -signal.SIGKILL
    assert tables(night) == before and night.key_file.read_bytes() == key_text
    with pytest.raises(SettingsError, match="unsilo key check"):  # the new chain was pending: no night may run
        settings().pseudonym_key()
    said = check(settings())
    assert "undid the interrupted rotation" in said and "a chain of 1" in said
    assert settings().pseudonym_key() == (K1,) and tables(night) == before


def test_a_failure_at_the_last_statement_rolls_back_every_table(night):
    before, key_text = tables(night), night.key_file.read_bytes()
    with duckdb.connect(str(night.warehouse)) as con:  # a key_chain table the rotation's record cannot go into
        con.execute("CREATE OR REPLACE TABLE restricted.key_chain (x INTEGER NOT NULL, "
                    "y INTEGER NOT NULL, z INTEGER NOT NULL, w INTEGER NOT NULL, v INTEGER NOT NULL, u INTEGER NOT NULL)")
    try:
        with pytest.raises(duckdb.Error):
            rotate(settings(), new_key=K2)
        assert tables(night) == before and night.key_file.read_bytes() == key_text
        assert not night.key_file.with_name("pseudonym.key.next").exists()
    finally:
        with duckdb.connect(str(night.warehouse)) as con:
            con.execute("DROP TABLE restricted.key_chain")


def test_an_undeclared_key_column_stops_the_rotation_before_it_writes(night):
    before = tables(night)
    with duckdb.connect(str(night.warehouse)) as con:
        con.execute("CREATE TABLE std.side_list AS SELECT person_key FROM std.person LIMIT 3")
    try:
        with pytest.raises(RekeyError, match="std.side_list.person_key"):
            rotate(settings(), new_key=K2)
        assert tables(night) == before and settings().pseudonym_key() == (K1,)
    finally:
        with duckdb.connect(str(night.warehouse)) as con:
            con.execute("DROP TABLE std.side_list")


def test_rotation_maps_every_key_one_to_one_across_tables_and_republishes(night):
    before, joined, known = tables(night), joins(night), raw_id_matches(night, [K1])
    assert known > 0 and all(joined)
    done = rotate(settings(), new_key=K2)
    assert done.chain_length == 2 and set(done.rows) == set(KEY_TABLES)
    assert sum(done.rows.values()) == sum(len(r) for r in before.values())
    assert read_chain(night.key_file) == (K1, K2)
    assert without_hash(night, tables(night)) == rekeyed(night, before, K2)  # T(K2, domain, old), same everywhere
    assert joins(night) == joined
    assert raw_id_matches(night, [K1]) == 0  # the old key alone recomputes nothing any more
    assert raw_id_matches(night, [K1, K2]) == known
    with night.connect() as con:
        persons = sorted(con.execute("SELECT person_key FROM std.person").fetchall())
    with duckdb.connect(str(night.home / "warehouse" / "snapshots" / "current.duckdb"), read_only=True) as snap:
        assert sorted(snap.execute("SELECT person_key FROM std.person").fetchall()) == persons
    assert "derived with this key" in check(settings())


def test_the_next_night_finds_the_rotated_rows_unchanged(night):
    before = tables(night)
    entries = night.run()  # the same night again: each record's key is computed afresh under the chain
    assert all(e.status == "success" for e in entries)
    assert all(e.loaded == 0 and e.unchanged == e.extracted - e.quarantined for e in entries), \
        [(e.source, e.loaded) for e in entries if e.loaded]
    after = tables(night)
    assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}
    assert without_hash(night, after) == without_hash(night, before)


def test_check_finishes_a_rotation_that_committed_before_its_key_file_was_renamed(night):
    chain_text = night.key_file.read_text(encoding="utf-8")
    nxt = night.key_file.with_name("pseudonym.key.next")
    nxt.write_text(chain_text, encoding="utf-8")  # as if killed between COMMIT and the rename
    night.key_file.write_text(K1.decode() + "\n", encoding="utf-8")
    said = check(settings())
    assert "finished the interrupted rotation" in said and not nxt.exists()
    assert read_chain(night.key_file) == (K1, K2)


def test_a_key_from_the_environment_needs_a_file_for_the_new_chain(night, monkeypatch, tmp_path):
    monkeypatch.setenv(KEY_ENV, "\n".join([K1.decode(), K2.decode()]))
    with pytest.raises(KeyRotationError, match="--write-to"):
        rotate(settings())
    with pytest.raises(SettingsError, match="inside the data root"):
        rotate(settings(), write_to=night.home / "new.key")
    out = subprocess.run([str(UNSILO), "key", "rotate"], env=dict(os.environ, UNSILO_ROLE="analyst"),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "steward role" in out.stderr
