"""The community mart month by month: stocks as of each month's last night (from history), small cells suppressed."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from standards.ddl import all_ddl
from warehouse.marts import build_marts, marts
from warehouse.schema import META_DDL

LINEAGE = "'test', 'r', now(), 'h'"
A, B = "330106001001", "330106001002"


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute(all_ddl())
    c.execute(META_DDL)
    for code in (A, B):
        c.execute(f"INSERT INTO std.community VALUES ('{code}', 'c{code[-1]}', '330106001', 's', '330106', {LINEAGE})")
    for night in ("2026-05-10", "2026-05-20", "2026-06-03"):
        c.execute(f"INSERT INTO meta.ledger VALUES ('run{night}', 'health_patient', 'health', 'person', DATE '{night}', "
                  f"DATE '{night}' + 1, now(), now(), 1, 1, 0, 0, 'success', NULL)")
    # p1 moves from A to B on 2026-06-03; p2 is born in A; p3 arrives in B only after May
    for key, community, born, start, end in (
        ("p1", A, "1990-01-01", "2026-05-10", "2026-06-03"),
        ("p1", B, "1990-01-01", "2026-06-03", None),
        ("p2", A, "2022-05-01", "2026-05-10", None),
        ("p3", B, "1950-07-01", "2026-06-03", None),
    ):
        c.execute(f"INSERT INTO std.person_history VALUES ('{key}', '1', DATE '{born}', NULL, '{community}', NULL, "
                  f"{LINEAGE}, DATE '{start}', {f'DATE {end!r}' if end else 'NULL'}, {end is None})")
    c.execute(f"INSERT INTO std.employment_spell VALUES ('e1', 'p1', DATE '2020-01-01', DATE '2026-06-01', 'x', 'A', "
              f"'1', 'FT', '{A}', {LINEAGE})")
    c.execute(f"INSERT INTO std.immunization VALUES ('i1', 'p2', '0201', DATE '2026-05-15', {LINEAGE})")
    return c


def month(con, code: str, first: str) -> dict:
    cur = con.execute("SELECT * FROM marts.community_month WHERE community_code = ? AND month = ?", [code, first])
    return dict(zip([d[0] for d in cur.description], cur.fetchone()))


def test_each_month_is_as_of_its_last_night(con, monkeypatch):
    monkeypatch.setenv("UNSILO_MIN_CELL", "1")
    build_marts(con)
    may_a, june_a, june_b = month(con, A, "2026-05-01"), month(con, A, "2026-06-01"), month(con, B, "2026-06-01")
    assert may_a["as_of"] == dt.date(2026, 5, 20) and june_a["as_of"] == dt.date(2026, 6, 3)
    assert (may_a["residents"], may_a["employed_residents"], may_a["employment_rate"]) == (2, 1, 1.0)
    assert (may_a["children_under_7"], may_a["immunized_children"], may_a["immunization_coverage"]) == (1, 1, 1.0)
    assert june_a["residents"] == 1 and june_a["working_age_residents"] == 0
    assert (june_b["residents"], june_b["working_age_residents"], june_b["employed_residents"]) == (2, 1, 0)
    assert month(con, B, "2026-05-01")["residents"] == 0  # nobody there yet: a zero names nobody, it is shown


def test_cells_under_the_minimum_are_suppressed(con, monkeypatch):
    monkeypatch.setenv("UNSILO_MIN_CELL", "2")
    build_marts(con)
    assert month(con, A, "2026-05-01")["residents"] == 2
    june_a = month(con, A, "2026-06-01")
    assert june_a["residents"] is None and june_a["employment_rate"] is None and june_a["children_under_7"] is None


def test_every_mart_describes_itself_and_each_of_its_columns(con):
    build_marts(con)
    for m in marts():
        cols = [r[0] for r in con.execute(f"DESCRIBE {m.name}").fetchall()]
        assert m.description and list(m.columns) == cols, m.name


def test_a_warehouse_with_the_old_views_gets_tables_and_a_failed_build_changes_nothing(con, monkeypatch):
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE VIEW marts.community_overview AS SELECT 1 AS residents")
    build_marts(con)
    kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables "
                             "WHERE table_schema = 'marts'").fetchall())
    assert kinds == {"community_overview": "BASE TABLE", "community_month": "BASE TABLE"}
    before = con.execute("SELECT * FROM marts.community_month ORDER BY ALL").fetchall()
    import warehouse.marts as module

    def broken(*args, **kwargs):
        raise RuntimeError("protect failed")

    monkeypatch.setattr(module, "protect", broken)
    con.execute("DELETE FROM std.person_history WHERE person_key = 'p3'")
    with pytest.raises(RuntimeError, match="protect failed"):
        build_marts(con)
    assert con.execute("SELECT * FROM marts.community_month ORDER BY ALL").fetchall() == before
    raw = "SELECT residents FROM marts_raw.community_month WHERE community_code = ? AND month = DATE '2026-06-01'"
    assert con.execute(raw, [B]).fetchone() == (2,)  # the raw cells are rolled back with the rest


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    from tests.night_fixture import generated_night

    with pytest.MonkeyPatch.context() as mp:
        n = generated_night(tmp_path_factory, mp)
        n.run()
        yield n


def test_on_a_night_every_small_cell_is_null_and_the_attacker_recovers_nothing(night):
    from tests.warehouse.test_disclosure_control import attack
    from warehouse.disclosure_control import MARKER, audit
    from warehouse.marts import KEY, PLACES, PROTECTED, protected

    with night.connect() as con:
        tables, shared = protected(con)
        assert audit(con, tables, shared) == []
        structure, small, suppressed = {}, 0, 0
        for t in PROTECTED.values():
            key = ("month",) + KEY if "month" in t.key else KEY
            raw = {tuple(r[:len(key)]): r[len(key):] for r in con.execute(
                f"SELECT {', '.join(key + t.counts)}, {', '.join(m.contributors for m in t.magnitudes) or 'NULL'} "
                f"FROM {t.name}").fetchall()}
            cur = con.execute(f"SELECT * FROM {t.output}")
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r)) for r in cur.fetchall()]
            assert len(rows) == len(raw) and not set(t.hidden) & set(names)
            for r in rows:
                figures = raw[tuple(r[k] for k in key)]
                named = set((r[MARKER] or "").split(","))
                for column, value in zip(t.counts + tuple(m.column for m in t.magnitudes), figures):
                    if 0 < value < 5:  # a count, or the contributors of a magnitude, under the threshold
                        small += 1
                        assert r[column] is None and column in named, (t.output, column)
                for column in named - {""}:
                    suppressed += 1
                    assert r[column] is None, (t.output, column)
                assert r["level"] == "community" or r["community_code"] is None
            structure[t.output] = (rows, key, ("month",) if "month" in key else (), t.additive)
        assert small > 0 and suppressed > small  # the night has small cells, and secondary suppression hides more
        last = max(r["month"] for r in structure["marts.community_month"][0])
        same = [("marts.community_overview", "marts.community_month",
                 lambda lr, rr: rr["month"] == last and all(lr[k] == rr[k] for k in KEY), shared[0].measures)]
        assert attack(structure, same, PLACES) == {}
        # the risk is real: with primary suppression alone, the margins give small cells away
        naive = {}
        for name, (rows, key, by, measures) in structure.items():
            t = next(x for x in PROTECTED.values() if x.output == name)
            cur = con.execute(f"SELECT * FROM {t.name}")
            names = [d[0] for d in cur.description]
            raw = [dict(zip(names, r)) for r in cur.fetchall()]
            for r in raw:
                r[MARKER] = ",".join(m for m in t.counts if 0 < r[m] < 5) or None
            naive[name] = (raw, key, by, measures)
        equal = [same[0][:3] + (("residents", "households"),)]  # the same definition in both marts
        recovered = attack(naive, equal, PLACES)
        truth = {(n, tuple(r[k] for k in key), m): r[m] for n, (rows, key, _, ms) in naive.items() for r in rows
                 for m in ms}
        assert recovered and all(truth[cell] == value for cell, value in recovered.items())
        levels = con.execute("SELECT level, count(*) FROM marts.community_overview GROUP BY ALL").fetchall()
        assert dict(levels)["district"] == 1 and dict(levels)["street"] >= 2
        reasons = {r for (r,) in con.execute("SELECT DISTINCT reason FROM marts_raw.disclosure_report").fetchall()}
        assert {"primary", "secondary"} <= reasons
