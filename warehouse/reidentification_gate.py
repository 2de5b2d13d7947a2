"""The re-identification gate: a snapshot whose person-level tables are not k-anonymous is not published.

Checked on the tables as they were written into the snapshot, independently of how ``warehouse/deidentify.py``
chose them. A person-level table is one with a ``person_key`` (or ``head_person_key``). Its equivalence classes
are the combinations of

- ``own``: its quasi-identifier columns (declared ``disclosure: quasi``) still in the snapshot, and
- ``joined``: those plus the person's quasi-identifiers, joined from ``std.person`` on the person key, as an
  analyst would join them;

and each class counts distinct persons (a person with ten encounters in a class is one person); in a table whose
person link the de-identification blanked (``own (unlinked)``) each record counts as a person. Records that local
suppression blanked (``_suppressed``) and records without a person are in no class. The table's k is its smallest
class; the records at risk are those in classes of fewer than k persons; the unique share is the share of records
whose class holds one person. Every figure is one DuckDB query per table and scope.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from standards.transform import quote_ident as q
from warehouse.deidentify import SUPPRESSED, AnalystTable, analyst_tables, k_threshold


class ReidentificationRisk(RuntimeError):
    """A table of the new snapshot is below k: the snapshot is not published."""


@dataclass(frozen=True)
class Finding:
    table: str
    scope: str  # own | joined | own (unlinked): each record counted as a person
    quasi_identifiers: tuple[str, ...]
    k: int  # achieved: the smallest class (distinct persons); 0 when no record is linked to a person
    records: int  # records linked to a person
    unique: int  # records whose class holds one person
    at_risk: int  # records in classes of fewer than the threshold
    suppressed: int  # records blanked by local suppression

    @property
    def unique_share(self) -> float:
        return self.unique / self.records if self.records else 0.0


def _columns(con: duckdb.DuckDBPyConnection, database: str, table: str) -> list[str]:
    schema, name = table.split(".")
    return [c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? AND table_name = ? "
        "ORDER BY column_index", [database, schema, name]).fetchall()]


def measure(con: duckdb.DuckDBPyConnection, relation: str, person: str, qis: list[str], k: int,
            table: str, scope: str, suppressed: str = "false") -> Finding:
    """k, records, unique and at-risk records of ``relation`` (a table or a parenthesized SELECT) over the
    columns ``qis``; ``person`` is the person column, ``suppressed`` an SQL flag of records in no class."""
    group = f"GROUP BY {', '.join(map(q, qis))}" if qis else ""
    row = con.execute(
        f"""WITH r AS (SELECT *, {suppressed} AS _blanked FROM {relation}),
        c AS (SELECT count(*) AS n, count(DISTINCT {q(person)}) AS persons FROM r
              WHERE {q(person)} IS NOT NULL AND NOT _blanked {group})
        SELECT coalesce(min(persons), 0), coalesce(sum(n), 0), coalesce(sum(n) FILTER (WHERE persons = 1), 0),
               coalesce(sum(n) FILTER (WHERE persons < {k}), 0),
               (SELECT count(*) FROM r WHERE _blanked) FROM c"""
    ).fetchone()
    return Finding(table, scope, tuple(qis), *map(int, row))


def findings(con: duckdb.DuckDBPyConnection, database: str = "snapshot", k: int | None = None) -> list[Finding]:
    """k-anonymity of every person-level table of ``database`` (an attached snapshot), own and joined scopes."""
    k = k_threshold(k)
    tables = [t for t in analyst_tables() if t.person_column]
    person = next(t for t in tables if t.is_person and not t.history)
    person_qis = _qi_columns(person, _columns(con, database, person.name))
    out = []
    for t in tables:
        cols = _columns(con, database, t.name)
        if not cols:
            continue
        own = _qi_columns(t, cols)
        flag = q(SUPPRESSED) if SUPPRESSED in cols else "false"
        found = measure(con, f"{q(database)}.{t.name}", t.person_column, own, k, t.name, "own", flag)
        if not found.records:  # unlinked (or empty): each record counts as a person of its own
            found = measure(con, f"(SELECT *, row_number() OVER () AS _record FROM {q(database)}.{t.name})",
                            "_record", own, k, t.name, "own (unlinked)", flag)
        out.append(found)
        if t.is_person or found.scope != "own":
            continue
        joined = ", ".join(f"p.{q(c)} AS {q('person.' + c)}" for c in person_qis)
        relation = (f"(SELECT t.*{', ' + joined if joined else ''} FROM {q(database)}.{t.name} t "
                    f"LEFT JOIN {q(database)}.{person.name} p ON p.person_key = t.{q(t.person_column)})")
        out.append(measure(con, relation, t.person_column, own + [f"person.{c}" for c in person_qis], k, t.name,
                           "joined", flag))
    return out


def _qi_columns(table: AnalystTable, present: list[str]) -> list[str]:
    return [f.name for f in table.quasi if f.name in present]


def reidentification_gate(con: duckdb.DuckDBPyConnection, database: str = "snapshot",
                          k: int | None = None) -> list[Finding]:
    """Every finding, or :class:`ReidentificationRisk` naming each table, class columns, k and records at risk."""
    k = k_threshold(k)
    found = findings(con, database, k)
    below = [f for f in found if f.records and f.k < k]
    if below:
        what = "; ".join(f"{f.table} is {f.k}-anonymous over ({', '.join(f.quasi_identifiers) or 'no columns'}): "
                         f"{f.at_risk} of {f.records} records at risk" for f in below)
        raise ReidentificationRisk(
            f"re-identification gate (k = {k}): the new snapshot was not published, the previous one stays. {what}. "
            "Coarsen the generalizations in standards/entities/*.yaml or allow more local suppression "
            "(UNSILO_MAX_SUPPRESSION)."
        )
    return found


def disclosure_table(con: duckdb.DuckDBPyConnection, found: list[Finding], k: int, plans: dict,
                     database: str = "snapshot") -> None:
    """Write ``meta.disclosure`` into the snapshot: each person-level table's achieved k and unique share."""
    rows = [(f.table, f.scope, ", ".join(f.quasi_identifiers),
             k, f.k, f.records, round(f.unique_share, 6), f.at_risk, f.suppressed,
             plans[f.table].summary() if f.table in plans else "") for f in found]
    con.execute(f"""CREATE TABLE {database}.meta.disclosure (table_name VARCHAR, scope VARCHAR,
        quasi_identifiers VARCHAR, k_required INTEGER, k_achieved INTEGER, records BIGINT, unique_share DOUBLE,
        records_at_risk BIGINT, records_suppressed BIGINT, generalization VARCHAR)""")
    if rows:
        con.executemany(f"INSERT INTO {database}.meta.disclosure VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def raw_findings(con: duckdb.DuckDBPyConnection, k: int | None = None) -> list[Finding]:
    """The same figures on the working file (``con``) as it is, before de-identification: every declared
    quasi-identifier at its recorded value (lineage columns left aside). For docs/privacy-deidentification.md."""
    k = k_threshold(k)
    database = con.execute("SELECT current_database()").fetchone()[0]
    tables = [t for t in analyst_tables() if t.person_column]
    person = next(t for t in tables if t.is_person and not t.history)
    raw = [f.name for f in person.quasi if not f.name.startswith("_")]
    out = []
    for t in tables:
        own = [f.name for f in t.quasi if not f.name.startswith("_")]
        out.append(measure(con, f"{q(database)}.{t.name}", t.person_column, own, k, t.name, "own"))
        if not t.is_person:
            joined = ", ".join(f"p.{q(c)} AS {q('person.' + c)}" for c in raw)
            relation = (f"(SELECT t.*, {joined} FROM {q(database)}.{t.name} t LEFT JOIN {q(database)}.{person.name} p "
                        f"ON p.person_key = t.{q(t.person_column)})")
            out.append(measure(con, relation, t.person_column, own + [f"person.{c}" for c in raw], k, t.name,
                               "joined"))
    return out


def report(working: str, snapshot: str, k: int | None = None) -> str:
    """A Markdown table of k and the unique share per person-level table, raw (working) and published (snapshot)."""
    with duckdb.connect(working, read_only=True) as con:
        before = {(f.table, f.scope): f for f in raw_findings(con, k)}
    with duckdb.connect(snapshot, read_only=True) as con:
        name = con.execute("SELECT current_database()").fetchone()[0]
        after = {(f.table, f.scope.split(" ")[0]): f for f in findings(con, name, k)}
    lines = ["| table | scope | records | k raw | unique raw | k published | unique published | suppressed |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for key, b in before.items():
        a = after.get(key)
        unlinked = " (unlinked)" if a and a.scope.endswith("(unlinked)") else ""
        published = (f"{a.k}{unlinked} | {a.unique_share:.1%} | {a.suppressed}" if a and a.records
                     else "unlinked | – | –")
        lines.append(f"| `{key[0]}` | {key[1]} | {b.records} | {b.k} | {b.unique_share:.1%} | {published} |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m warehouse.reidentification_gate WORKING.duckdb SNAPSHOT.duckdb
    import sys

    print(report(sys.argv[1], sys.argv[2]))
