"""The re-identification gate: a snapshot whose person-level tables are not k-anonymous is not published.

Checked on the tables as they were written into the snapshot, independently of how ``warehouse/deidentify.py``
chose them. A person-level table is one with a ``person_key`` (or ``head_person_key``). Its equivalence classes
are the combinations of

- ``own``: its quasi-identifier columns (declared ``disclosure: quasi``) still in the snapshot, and
- ``joined``: those plus the person's quasi-identifiers, joined from ``std.person`` on the person key, as an
  analyst would join them;

and each class counts distinct persons (a person with ten encounters in a class is one person). Records that local
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
    scope: str  # own | joined
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
        out.append(measure(con, f"{database}.{t.name}", t.person_column, own, k, t.name, "own", flag))
        if t.is_person:
            continue
        joined = ", ".join(f"p.{q(c)} AS {q('person.' + c)}" for c in person_qis)
        relation = (f"(SELECT t.*{', ' + joined if joined else ''} FROM {database}.{t.name} t "
                    f"LEFT JOIN {database}.{person.name} p ON p.person_key = t.{q(t.person_column)})")
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
