"""Disclosure control: primary, dominance, derived and secondary suppression, and an attacker that must fail.

``attack`` is written here independently of ``warehouse.disclosure_control.audit``: from the published rows only
(keys, figures, the marker) it writes every margin as an equation (total minus its parts, per measure, per level and
month, and every figure two tables share), moves the published figures to the right-hand side and runs exact
Gauss-Jordan elimination over the suppressed cells, so any combination of margins across levels, months and tables
is tried; a row left with one unknown recovers it. It also pins the parts of a margin that can only be ones or zeros.
"""

from __future__ import annotations

from fractions import Fraction

import duckdb
import pytest

from warehouse.disclosure_control import (MARKER, Hierarchy, Magnitude, Ratio, Rule, Shared, Table, audit, min_cell,
                                          protect)

PLACES = (("community", "community"), ("street", "street"), ("district", "district"))
KEY = ("level", "district", "street", "community")


def load(con, name: str, columns: str, rows: list[tuple]) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
    con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(rows[0]))})", rows)


def published(con, table: str) -> list[dict]:
    cur = con.execute(f"SELECT * FROM {table}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def hierarchy_rows(tree: dict, by: dict | None = None) -> list[tuple]:
    """{district: {street: {community: value}}} -> (level, district, street, community, value) rows with totals."""
    rows = []
    for d, streets in tree.items():
        rows.append(("district", d, None, None, sum(sum(c.values()) for c in streets.values())))
        for s, communities in streets.items():
            rows.append(("street", d, s, None, sum(communities.values())))
            rows += [("community", d, s, c, v) for c, v in communities.items()]
    return [r + tuple((by or {}).values()) for r in rows]


def equations(tables: dict[str, tuple[list[dict], tuple[str, ...], tuple[str, ...], tuple[str, ...]]],
              shared: list[tuple], places=PLACES) -> list[tuple[dict, object]]:
    """Every margin as {cell: coefficient} = 0, a cell being (table, key values, measure); ``shared`` holds
    (left table, right table, same(left row, right row), measures): a figure published in both."""
    out = []
    for name, (rows, key, by, measures) in tables.items():
        cell = {tuple(r[k] for k in key): r for r in rows}
        for (child, _), (parent, code) in zip(places, places[1:]):
            for r in rows:
                if r["level"] != parent:
                    continue
                parts = [k for k, c in cell.items() if c["level"] == child and c[code] == r[code]
                         and all(c[b] == r[b] for b in by)]
                for m in measures:
                    eq = {(name, tuple(r[k] for k in key), m): -1}
                    eq.update({(name, p, m): 1 for p in parts})
                    out.append((eq, m))
    for left, right, same, measures in shared:
        lrows, lkey = tables[left][0], tables[left][1]
        rrows, rkey = tables[right][0], tables[right][1]
        for lr in lrows:
            for rr in rrows:
                if same(lr, rr):
                    for m in measures:
                        out.append(({(left, tuple(lr[k] for k in lkey), m): -1,
                                     (right, tuple(rr[k] for k in rkey), m): 1}, m))
    return out


def attack(tables, shared=(), places=PLACES) -> dict:
    """The suppressed cells the published figures give away, with the value recovered."""
    values = {}
    for name, (rows, key, _, measures) in tables.items():
        for r in rows:
            hidden = set((r[MARKER] or "").split(","))
            for m in measures:
                values[(name, tuple(r[k] for k in key), m)] = None if m in hidden else r[m]
    system, recovered = [], {}
    for eq, _ in equations(tables, list(shared), places):
        unknown = {c: Fraction(a) for c, a in eq.items() if values[c] is None}
        rhs = -sum(Fraction(a) * Fraction(values[c]) for c, a in eq.items() if values[c] is not None)
        if unknown:
            system.append((unknown, rhs))
        total = [c for c, a in eq.items() if a == -1]
        parts = [c for c in unknown if eq[c] == 1]
        if len(total) == 1 and values[total[0]] is not None and parts and len(unknown) == len(parts):
            if rhs == len(parts) or rhs == 0:  # suppressed parts are >= 1 unless zero: all ones, or all zeros
                recovered.update({c: rhs / len(parts) for c in parts})
    rows = [dict(u, **{"=": b}) for u, b in system]  # Gauss-Jordan over the rationals
    pivots = []
    cells = sorted({c for r in rows for c in r if c != "="})
    for c in cells:
        found = next((r for r in rows if r not in pivots and r.get(c, 0) != 0), None)
        if found is None:
            continue
        lead = found[c]
        for k in list(found):
            found[k] = found[k] / lead
        for r in rows:
            if r is not found and r.get(c, 0) != 0:
                f = r[c]
                for k, v in found.items():
                    r[k] = r.get(k, 0) - f * v
        pivots.append(found)
    for r in rows:
        live = [c for c, v in r.items() if c != "=" and v != 0]
        if len(live) == 1:
            recovered[live[0]] = r["="] / r[live[0]]
    return recovered


@pytest.fixture
def con():
    with duckdb.connect() as c:
        yield c


def test_primary_counts_under_the_threshold_are_null_and_named_zeros_are_shown(con):
    load(con, "raw", "id VARCHAR, a BIGINT, b BIGINT, public BIGINT",
         [("x", 0, 5, 1), ("y", 1, 12, 2), ("z", 4, 0, 3)])
    result = protect(con, [Table("raw", "pub", key=("id",), counts=("a", "b"), exempt=("public",))], Rule(threshold=5))
    rows = {r["id"]: r for r in published(con, "pub")}
    assert (rows["x"]["a"], rows["x"]["b"], rows["x"][MARKER]) == (0, 5, None)
    assert (rows["y"]["a"], rows["y"]["b"], rows["y"][MARKER]) == (None, 12, "a")
    assert (rows["z"]["a"], rows["z"]["b"], rows["z"][MARKER]) == (None, 0, "a")
    assert [r["public"] for r in rows.values()] == [1, 2, 3]  # exempt: shown as it is
    report = con.execute(f"SELECT * FROM {result.report} ORDER BY cell").fetchall()
    assert report == [("pub", "id=y", "a", "primary"), ("pub", "id=z", "a", "primary")]
    assert result.counts == {("pub", "a", "primary"): 2} and result.rounds == 0


def test_the_threshold_defaults_to_unsilo_min_cell(monkeypatch):
    monkeypatch.delenv("UNSILO_MIN_CELL", raising=False)
    assert Rule().threshold == min_cell() == 5
    monkeypatch.setenv("UNSILO_MIN_CELL", "10")
    assert Rule().threshold == 10


def test_dominance_and_contributors_suppress_magnitudes(con):
    load(con, "raw", "id VARCHAR, amount DOUBLE, n BIGINT, top DOUBLE",
         [("few", 100.0, 3, 40.0), ("dominated", 100.0, 20, 90.0), ("fine", 100.0, 20, 30.0), ("none", 0.0, 0, None)])
    t = Table("raw", "pub", key=("id",), magnitudes=(Magnitude("amount", "n", top="top", additive=False),),
              hidden=("n", "top"))
    result = protect(con, [t], Rule(threshold=5, dominance=0.85))
    rows = {r["id"]: r for r in published(con, "pub")}
    assert set(rows["fine"]) == {"id", "amount", MARKER}  # contributor counts and top contributions stay hidden
    assert [rows[k]["amount"] for k in ("few", "dominated", "fine", "none")] == [None, None, 100.0, 0.0]
    reasons = dict(con.execute(f"SELECT cell, reason FROM {result.report}").fetchall())
    assert reasons == {"id=few": "primary", "id=dominated": "dominance"}


def test_a_ratio_is_suppressed_when_either_part_is(con):
    load(con, "raw", "id VARCHAR, a BIGINT, b BIGINT, rate DOUBLE",
         [("num", 2, 10, 0.2), ("den", 0, 3, 0.0), ("both", 8, 10, 0.8)])
    result = protect(con, [Table("raw", "pub", key=("id",), counts=("a", "b"), ratios=(Ratio("rate", "a", "b"),))],
                     Rule(threshold=5))
    rows = {r["id"]: r for r in published(con, "pub")}
    assert (rows["num"]["rate"], rows["num"][MARKER]) == (None, "a,rate")
    assert (rows["den"]["rate"], rows["den"]["a"], rows["den"][MARKER]) == (None, 0, "b,rate")
    assert rows["both"]["rate"] == 0.8 and rows["both"][MARKER] is None
    assert result.counts[("pub", "rate", "derived")] == 2


def community_table(name="raw", output="pub", by=(), measures=("n",)) -> Table:
    return Table(name, output, key=by + KEY, counts=measures, hierarchies=(Hierarchy("level", PLACES, by=by),))


def structure(con, t: Table, by=(), measures=("n",)):
    return {t.output: (published(con, t.output), by + KEY, by, measures)}


def test_secondary_in_one_level_hides_the_next_smallest_part(con):
    load(con, "raw", "level VARCHAR, district VARCHAR, street VARCHAR, community VARCHAR, n BIGINT",
         hierarchy_rows({"D": {"S": {"c1": 3, "c2": 10, "c3": 20}}}))
    t = community_table()
    result = protect(con, [t], Rule(threshold=5))
    rows = {r["community"] or r["level"]: r["n"] for r in published(con, "pub")}
    assert rows == {"district": 33, "street": 33, "c1": None, "c2": None, "c3": 20}
    assert result.counts == {("pub", "n", "primary"): 1, ("pub", "n", "secondary"): 1}
    assert attack(structure(con, t)) == {} and audit(con, [t]) == []


def test_the_attacker_recovers_what_primary_suppression_alone_leaves(con):
    load(con, "raw", "level VARCHAR, district VARCHAR, street VARCHAR, community VARCHAR, n BIGINT",
         hierarchy_rows({"D": {"S": {"c1": 3, "c2": 10, "c3": 20}, "T": {"c4": 1, "c5": 1, "c6": 9}}}))
    t = community_table()
    protect(con, [t], Rule(threshold=5))
    # the same cells with secondary suppression undone: only the primary cells are withheld
    con.execute("""CREATE OR REPLACE TABLE naive AS SELECT r.*, CASE WHEN r.n > 0 AND r.n < 5 THEN 'n' END AS suppressed
                   FROM raw r""")
    con.execute("UPDATE naive SET n = NULL WHERE suppressed IS NOT NULL")
    naive = Table("raw", "naive", key=KEY, counts=("n",), hierarchies=(Hierarchy("level", PLACES),))
    got = attack(structure(con, naive))
    assert got == {("naive", ("community", "D", "S", "c1"), "n"): 3, ("naive", ("community", "D", "T", "c4"), "n"): 1,
                   ("naive", ("community", "D", "T", "c5"), "n"): 1}
    assert {(r.cell, r.how) for r in audit(con, [naive])} == {
        ("level=community, district=D, street=S, community=c1", "linear"),
        ("level=community, district=D, street=T, community=c4", "bounds"),
        ("level=community, district=D, street=T, community=c5", "bounds")}
    assert attack(structure(con, t)) == {} and audit(con, [t]) == []  # protected: nothing recovered
    rows = {r["community"]: r["n"] for r in published(con, "pub") if r["community"]}
    assert rows["c6"] is None  # 1 + 1 would pin the two ones: the 9 goes too


def test_secondary_across_a_three_level_hierarchy_and_months(con):
    months = {"2026-05-01": {"D": {"S": {"a": 30, "b": 31}, "T": {"c": 40, "d": 50}, "U": {"e": 3}}},
              "2026-06-01": {"D": {"S": {"a": 7, "b": 30}, "T": {"c": 40, "d": 3}, "U": {"e": 0}}}}
    rows = [r for m, tree in months.items() for r in hierarchy_rows(tree, {"month": m})]
    load(con, "raw", "level VARCHAR, district VARCHAR, street VARCHAR, community VARCHAR, n BIGINT, month VARCHAR",
         rows)
    t = community_table(by=("month",))
    result = protect(con, [t], Rule(threshold=5))
    pub = published(con, "pub")
    may = {r["community"] or r["street"] or r["level"]: r["n"] for r in pub if r["month"] == "2026-05-01"}
    # e (3) is primary and alone in street U, whose total is e (primary too); U is the district's lone hidden street,
    # so the smaller other street S goes, and then one of S's communities: two rounds, up and down the levels
    assert [may[k] for k in ("e", "U", "S", "a")] == [None] * 4
    assert (may["district"], may["T"], may["b"], may["c"]) == (154, 90, 31, 40)
    assert result.rounds == 2
    assert result.counts == {("pub", "n", "primary"): 3, ("pub", "n", "secondary"): 3}
    june = {r["community"] or r["street"] or r["level"]: r["n"] for r in pub if r["month"] == "2026-06-01"}
    assert june["a"] == 7 and june["e"] == 0 and june["d"] is None and june["c"] is None and june["T"] == 43
    assert attack(structure(con, t, by=("month",))) == {} and audit(con, [t]) == []


def test_two_tables_sharing_a_figure_suppress_it_in_both(con):
    cols = "level VARCHAR, district VARCHAR, street VARCHAR, community VARCHAR, n BIGINT"
    load(con, "by_street", cols, hierarchy_rows({"D": {"S": {"c1": 3, "c2": 17, "c3": 20}}}))
    load(con, "by_zone", cols, hierarchy_rows({"E": {"Z": {"c2": 17, "c4": 30}}}))
    a, b = community_table("by_street", "pub_a"), community_table("by_zone", "pub_b")
    link = Shared("pub_a", "pub_b", "l.level = 'community' AND r.level = 'community' AND l.community = r.community",
                  ("n",))
    links = [("pub_a", "pub_b", lambda lr, rr: lr["level"] == rr["level"] == "community"
              and lr["community"] == rr["community"], ("n",))]
    protect(con, [a, b], Rule(threshold=5))  # each table on its own: c2 hidden in one, shown in the other
    got = attack({**structure(con, a), **structure(con, b)}, links)
    assert got[("pub_a", ("community", "D", "S", "c1"), "n")] == 3
    assert "level=community, district=D, street=S, community=c1" in {r.cell for r in audit(con, [a, b], [link])}
    protect(con, [a, b], Rule(threshold=5), [link])
    assert attack({**structure(con, a), **structure(con, b)}, links) == {} and audit(con, [a, b], [link]) == []
    zone = {r["community"] or r["level"]: r["n"] for r in published(con, "pub_b")}
    assert zone["c2"] is None and zone["c4"] is None and zone["street"] == 47


def test_nothing_changes_when_nothing_is_small(con):
    rows = hierarchy_rows({"D": {"S": {"c1": 0, "c2": 10, "c3": 20}, "T": {"c4": 5, "c5": 0}}})
    load(con, "raw", "level VARCHAR, district VARCHAR, street VARCHAR, community VARCHAR, n BIGINT", rows)
    result = protect(con, [community_table()], Rule(threshold=5))
    got = con.execute("SELECT level, district, street, community, n, suppressed FROM pub ORDER BY ALL").fetchall()
    assert got == sorted(r + (None,) for r in rows)
    assert result.counts == {} and result.rounds == 0
    assert con.execute(f"SELECT count(*) FROM {result.report}").fetchone() == (0,)


def test_a_zero_is_not_taken_as_a_complement_while_a_non_zero_cell_is_left(con):
    load(con, "raw", "level VARCHAR, district VARCHAR, street VARCHAR, community VARCHAR, n BIGINT",
         hierarchy_rows({"D": {"S": {"c1": 3, "c2": 0, "c3": 20}, "T": {"c4": 8, "c5": 9}}}))
    t = community_table()
    protect(con, [t], Rule(threshold=5))
    rows = {r["community"] or r["street"] or r["level"]: r for r in published(con, "pub")}
    assert rows["c2"]["n"] == 0 and rows["c2"][MARKER] is None
    assert rows["c3"]["n"] is None and rows["c3"][MARKER] == "n"  # NULL and named, never 0
    assert attack(structure(con, t)) == {} and audit(con, [t]) == []


def test_an_undeclared_number_is_refused_rather_than_published_unprotected(con):
    load(con, "raw", "id VARCHAR, a BIGINT, forgotten BIGINT", [("x", 7, 1)])
    with pytest.raises(ValueError, match="forgotten"):
        protect(con, [Table("raw", "pub", key=("id",), counts=("a",))], Rule(threshold=5))
    with pytest.raises(ValueError, match="typo"):
        protect(con, [Table("raw", "pub", key=("id",), counts=("a", "typo"), exempt=("forgotten",))], Rule(threshold=5))
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'pub'").fetchone() == (0,)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_tables_of_small_counts_give_nothing_away(con, seed):
    import random

    rnd = random.Random(seed)
    merged = []
    for month in ("2026-04-01", "2026-05-01", "2026-06-01"):
        tree = {f"D{d}": {f"S{d}{s}": [f"c{d}{s}{c}" for c in range(rnd.randint(1, 5))]
                          for s in range(rnd.randint(1, 4))} for d in range(2)}
        a, b = ({d: {s: {c: rnd.choice([0, 1, 2, 3, 4, 6, 9, 15, 40]) for c in cs} for s, cs in ss.items()}
                 for d, ss in tree.items()} for _ in range(2))
        merged += [ra[:4] + (ra[4], rb[4], month) for ra, rb in zip(hierarchy_rows(a), hierarchy_rows(b))]
    load(con, "raw", "level VARCHAR, district VARCHAR, street VARCHAR, community VARCHAR, a BIGINT, b BIGINT, "
         "month VARCHAR", merged)
    t = community_table(by=("month",), measures=("a", "b"))
    result = protect(con, [t], Rule(threshold=5))
    assert result.rounds <= 3 * len(PLACES) and {r for _, _, r in result.counts} == {"primary", "secondary"}
    raw = {(r[6], r[0], r[1], r[2], r[3]): r[4:6] for r in merged}
    for r in published(con, "pub"):
        for m, value in zip(("a", "b"), raw[(r["month"], r["level"], r["district"], r["street"], r["community"])]):
            if 0 < value < 5:
                assert r[m] is None and m in r[MARKER].split(",")
            assert r[m] in (value, None)
    assert attack(structure(con, t, by=("month",), measures=("a", "b"))) == {}
    assert audit(con, [t]) == []
