"""Build the analysts' ``std`` tables of a snapshot from the standard's disclosure classes, one SQL SELECT each.

Every column of a stored table declares a class (``standards/entities/*.yaml``, lineage and version columns in
``standards/entity.py``): ``direct`` columns are left out, ``quasi`` columns are generalized, ``pseudonym``,
``sensitive`` and ``public`` columns are kept. A quasi-identifier declares a hierarchy of generalizations, finest
first (``[month, quarter, year, drop]``); the snapshot uses the finest level that makes the table k-anonymous:

1. The person table (``std.person_history``; ``std.person`` is its current versions) is searched first, greedily:
   while more than ``UNSILO_MAX_SUPPRESSION`` (default 5 %) of its records sit in equivalence classes of fewer
   than k persons, one quasi-identifier is coarsened one level: a step that keeps the field (5- to 10-year band,
   community to street, month to quarter) before one that drops a field, as long as it helps; among those the one
   that leaves the fewest records at risk.
2. Every other person-level table (one with a ``person_key`` or ``head_person_key``) is searched the same way
   over its own quasi-identifiers, with the person's published quasi-identifiers joined on (what an analyst gets
   by joining on ``person_key``). When even its coarsest levels leave too many records at risk, the person
   table is coarsened one more step and the search runs again.
3. Local suppression (as sdcMicro and ARX do): the records still in classes smaller than k, at most the declared
   share, get their quasi-identifiers set to NULL and ``_suppressed`` true; in a table other than the person
   table the person link (``person_key``) is blanked too, so the person's quasi-identifiers cannot be joined back.
4. A table that cannot reach k against the person table even with the person table as coarse as it may go (a
   few dozen unemployment claims in a small district) is unlinked: its person link is blanked in every record,
   and its own quasi-identifiers must still reach k (its records still describe persons).

The search and the tables are DuckDB SQL over the whole table (GROUP BY / window counts), never a Python loop
over rows. ``warehouse/reidentification_gate.py`` then checks the result independently before it is published.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

import duckdb

from standards.entity import Entity, Field, entities
from standards.transform import quote_ident as q

K_VARIABLE = "UNSILO_K_ANONYMITY"
SUPPRESSION_VARIABLE = "UNSILO_MAX_SUPPRESSION"
#: Columns that link a table's records to a person (their values are person_keys).
PERSON_COLUMNS = ("person_key", "head_person_key")
#: Birth dates of persons this old or older are top-coded into one band.
TOP_CODE_AGE = 90
#: The flag column of a person-level table: true where local suppression blanked the record's quasi-identifiers.
SUPPRESSED = "_suppressed"


def k_threshold(value: int | None = None) -> int:
    """The smallest equivalence class (distinct persons) a snapshot may contain: ``UNSILO_K_ANONYMITY``, default 5."""
    k = value if value is not None else int(os.environ.get(K_VARIABLE, "5"))
    if k < 1:
        raise ValueError(f"{K_VARIABLE} must be 1 or more")
    return k


def max_suppression(value: float | None = None) -> float:
    """The largest share of a table's records local suppression may blank: ``UNSILO_MAX_SUPPRESSION``, default 0.05."""
    share = value if value is not None else float(os.environ.get(SUPPRESSION_VARIABLE, "0.05"))
    if not 0 <= share <= 1:
        raise ValueError(f"{SUPPRESSION_VARIABLE} must be a share between 0 and 1")
    return share


@dataclass(frozen=True)
class AnalystTable:
    """One ``std`` table of the snapshot, built from an entity's stored table."""

    entity: Entity
    name: str  # std.<table> in the snapshot (and in the working file, where it is the source)
    history: bool  # the scd2 history table (valid_from, valid_to, is_current)
    current_of: str | None = None  # an scd2 entity's current versions: built from its de-identified history

    @property
    def fields(self) -> tuple[Field, ...]:
        if self.current_of:
            return self.entity.stored_fields(False) + tuple(f for f in self.entity.stored_fields(True)
                                                           if f.name == "valid_from")
        return self.entity.stored_fields(self.history)

    @property
    def quasi(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.disclosure == "quasi")

    @property
    def person_column(self) -> str | None:
        return next((f.name for f in self.entity.fields if f.name in PERSON_COLUMNS and f.disclosure == "pseudonym"),
                    None)

    @property
    def is_person(self) -> bool:
        return self.entity.name == "person"


def analyst_tables() -> list[AnalystTable]:
    """The std tables of the snapshot in build order: the person table first, each history before its current view."""
    out = []
    for e in sorted(entities().values(), key=lambda e: e.name != "person"):
        if e.history == "scd2":
            out.append(AnalystTable(e, e.history_table, history=True))
            out.append(AnalystTable(e, e.table, history=False, current_of=e.history_table))
        else:
            out.append(AnalystTable(e, e.table, history=False))
    return out


def generalized(f: Field, level: str, reference_year: int) -> str | None:
    """The SQL expression of ``f`` at generalization ``level`` (None: dropped)."""
    col = q(f.name)
    if level == "keep":
        return col
    if level == "drop":
        return None
    if level in ("month", "quarter", "year"):
        return f"CAST(date_trunc('{level}', {col}) AS DATE)"
    if level.endswith("-year-band"):
        width = int(level.split("-")[0])
        top = (reference_year - TOP_CODE_AGE + 1) // width * width - 1  # end of the last band wholly 90 and over
        start = f"(year({col}) // {width} * {width})"
        return (f"CASE WHEN year({col}) <= {top} THEN '{top} or earlier' ELSE "
                f"CAST({start} AS VARCHAR) || '-' || CAST({start} + {width - 1} AS VARCHAR) END")
    if level == "street":
        return f"left({col}, 9) || '000'"
    raise ValueError(f"field {f.name!r}: unknown generalization {level!r}")


def describe_level(f: Field, level: str) -> str:
    """How the snapshot shows a quasi-identifier, in words (column comments, meta.disclosure)."""
    return {
        "keep": "as recorded", "month": "first day of its month", "quarter": "first day of its quarter",
        "year": "first day of its year", "street": "code of its street (first 9 digits, then 000)", "drop": "left out",
    }.get(level) or (f"{level.split('-')[0]}-year band of birth years ('1985-1989'), "
                     f"{TOP_CODE_AGE} and older top-coded ('1934 or earlier')")


@dataclass
class Plan:
    """The levels chosen for one table and what local suppression did."""

    table: AnalystTable
    levels: dict[str, int] = field(default_factory=dict)  # quasi field -> index into its hierarchy
    suppress: bool = False  # the records at risk were within the budget and are suppressed
    unlink: bool = False  # no level reaches k: the person link is blanked in every record (no longer person-level)
    at_risk: int = 0  # records in classes smaller than k at these levels, before suppression
    records: int = 0

    def level(self, f: Field) -> str:
        return f.generalize[self.levels.get(f.name, 0)]

    def key(self) -> tuple:
        return tuple(sorted(self.levels.items())), self.suppress

    def summary(self) -> str:
        out = [f"{f.name}: {self.level(f)}" for f in self.table.quasi]
        if self.unlink:
            out.append(f"{self.table.person_column}: unlinked (blanked in every record)")
        return "; ".join(out) or "no quasi-identifiers"


class Builder:
    """Chooses the levels of every table (the search above) and writes the tables into the snapshot."""

    def __init__(self, con: duckdb.DuckDBPyConnection, k: int, share: float, reference_year: int | None = None):
        self.con, self.k, self.share = con, k, share
        self.year = reference_year or dt.date.today().year
        self.tables = analyst_tables()
        self.person = next(t for t in self.tables if t.is_person and t.history)
        self._person_cache: dict[tuple, str] = {}
        self._prepared_cache: dict[tuple, tuple[str, list[str]]] = {}
        self._risk_cache: dict[tuple, tuple[int, int]] = {}

    # -- SQL ------------------------------------------------------------------------------------------------------
    def _columns(self, plan: Plan) -> list[tuple[Field, str]]:
        """(field, expression) of every column the snapshot keeps, generalized."""
        out = []
        for f in plan.table.fields:
            if f.disclosure == "direct":
                continue
            expr = generalized(f, plan.level(f), self.year) if f.disclosure == "quasi" else q(f.name)
            if expr is not None:
                out.append((f, expr))
        return out

    def _person_qis(self, person: Plan) -> tuple[str, list[str]]:
        """A temporary table of (person_key, the person's published quasi-identifiers as ``person.<field>``),
        built once per person plan."""
        cols = [f for f, _ in self._columns(person) if f.disclosure == "quasi" and f.name not in ("valid_from",
                                                                                                   "valid_to")]
        names = [q(f"person.{f.name}") for f in cols]
        if person.key() not in self._person_cache:
            name = f"_deid_person_{len(self._person_cache)}"
            select = ", ".join(f"{q(f.name)} AS {n}" for f, n in zip(cols, names))
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT person_key, {select or 'NULL AS _none'} "
                             f"FROM ({self.select(person)}) WHERE is_current")
            self._person_cache[person.key()] = name
        return self._person_cache[person.key()], names

    def _classed(self, plan: Plan, person: Plan | None) -> tuple[str, list[str], list[str]]:
        """A relation of the table's generalized columns, ``_pk`` (the person) and its equivalence-class columns."""
        t = plan.table
        cols = self._columns(plan)
        own_qis = [q(f.name) for f, _ in cols if f.disclosure == "quasi"]
        body = ", ".join(f"{expr} AS {q(f.name)}" for f, expr in cols)
        pk = f"t.{q(t.person_column)}" if t.person_column else "NULL"
        if person is None:
            return f"SELECT {body}, {pk} AS _pk FROM {t.name} t", own_qis, []
        qis_sql, person_qis = self._person_qis(person)
        joined = ", ".join(f"p.{n}" for n in person_qis)
        sql = (f"SELECT {', '.join(f't.{q(f.name)}' for f, _ in cols)}, t._pk, {joined} FROM "
               f"(SELECT {body}, {pk} AS _pk FROM {t.name} t) t LEFT JOIN {qis_sql} p ON p.person_key = t._pk")
        return sql, own_qis, person_qis

    def _prepared(self, table: AnalystTable, person: Plan | None) -> tuple[str, list[str]]:
        """A temporary table of ``table``'s records linked to a person: ``_pk``, every quasi-identifier at every
        level but ``drop`` (``field|level``) and the person's quasi-identifiers; built once per person plan."""
        key = (table.name, person.key() if person else None)
        if key not in self._prepared_cache:
            name = f"_deid_prepared_{len(self._prepared_cache)}"
            cols = [f"{generalized(f, level, self.year)} AS {q(f.name + '|' + level)}"
                    for f in table.quasi for level in f.generalize if level != "drop"]
            pk = f"t.{q(table.person_column)}"
            joined, person_qis = "", []
            if person is not None:
                relation, person_qis = self._person_qis(person)
                joined = f" LEFT JOIN {relation} p ON p.person_key = {pk}"
                cols += [f"p.{c}" for c in person_qis]
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {pk} AS _pk"
                             f"{''.join(', ' + c for c in cols)} FROM {table.name} t{joined} WHERE {pk} IS NOT NULL")
            self._prepared_cache[key] = (name, person_qis)
        return self._prepared_cache[key]

    def risks(self, plans: list[Plan], person: Plan | None) -> list[tuple[int, int]]:
        """(records in classes of fewer than k distinct persons, records linked to a person) of each plan (all of
        one table), in one query: one grouping set per plan; each plan measured once per person plan."""
        def key(p: Plan) -> tuple:
            return p.table.name, tuple(p.level(f) for f in p.table.quasi), person.key() if person else None
        todo = list({key(p): p for p in plans if key(p) not in self._risk_cache}.values())
        if todo:
            self._risk_cache.update(zip(map(key, todo), self._measure(todo, person)))
        return [self._risk_cache[key(p)] for p in plans]

    def _measure(self, plans: list[Plan], person: Plan | None) -> list[tuple[int, int]]:
        name, person_qis = self._prepared(plans[0].table, person)
        sets = [[q(f"{f.name}|{p.level(f)}") for f in p.table.quasi if p.level(f) != "drop"] + person_qis
                for p in plans]
        columns = list(dict.fromkeys(c for cols in sets for c in cols))
        masks = [sum(1 << (len(columns) - 1 - i) for i, c in enumerate(columns) if c not in cols) for cols in sets]
        grouping = f"GROUPING({', '.join(columns)})" if columns else "0"
        unique_sets = ", ".join(f"({', '.join(cols)})" for cols in {tuple(c): c for c in sets}.values())
        found = dict(self.con.execute(
            f"SELECT g, [coalesce(sum(n) FILTER (WHERE persons < {self.k}), 0), sum(n)] FROM "
            f"(SELECT {grouping} AS g, count(*) AS n, count(DISTINCT _pk) AS persons FROM {name} "
            f"GROUP BY GROUPING SETS ({unique_sets})) GROUP BY g"
        ).fetchall())
        return [tuple(int(v) for v in found.get(m, (0, 0))) for m in masks]

    def risk(self, plan: Plan, person: Plan | None) -> tuple[int, int]:
        return self.risks([plan], person)[0]

    def select(self, plan: Plan) -> str:
        """The one SELECT that builds the table in the snapshot: generalized, with local suppression if planned."""
        t = plan.table
        if t.current_of:
            keep = ", ".join(q(f.name) for f, _ in self._columns(plan))
            flag = f", {SUPPRESSED}" if t.person_column else ""
            return f"SELECT {keep}{flag} FROM snapshot.{t.current_of} WHERE is_current"
        person = None if (t.is_person or not t.person_column or plan.unlink) else self.plans[self.person.name]
        sql, own, joined = self._classed(plan, person)
        if not t.person_column:
            return sql.replace(", NULL AS _pk", "")
        blank = {f.name for f, _ in self._columns(plan) if f.disclosure == "quasi"}
        if not t.is_person:
            blank.add(t.person_column)  # suppressed: the person's quasi-identifiers cannot be joined back
        partition = f"PARTITION BY {', '.join(own + joined)}" if own + joined else ""
        suppress = (f"(_pk IS NOT NULL AND count(DISTINCT _pk) OVER ({partition}) < {self.k})" if plan.suppress
                    else "false")
        cols = ", ".join(f"NULL AS {q(f.name)}" if plan.unlink and f.name == t.person_column else
                         f"CASE WHEN {SUPPRESSED} THEN NULL ELSE {q(f.name)} END AS {q(f.name)}" if f.name in blank
                         else q(f.name) for f, _ in self._columns(plan))
        return f"SELECT {cols}, {SUPPRESSED} FROM (SELECT *, {suppress} AS {SUPPRESSED} FROM ({sql}))"

    # -- search ---------------------------------------------------------------------------------------------------
    def _search(self, plan: Plan, person: Plan | None) -> bool:
        """Coarsen ``plan`` greedily until its records at risk fit the suppression budget; False if they never do.
        Each round measures the plan and every one-step-coarser plan in one query; the coarsest plan is measured
        first, so a table that cannot reach k costs one query."""
        coarsest = self._coarsest(plan.table)
        at_risk, records = self.risk(coarsest, person)
        if at_risk > self.share * records:
            plan.levels, plan.at_risk, plan.records = coarsest.levels, at_risk, records
            return False
        while True:
            trials = []
            for f in plan.table.quasi:
                if plan.levels.get(f.name, 0) < len(f.generalize) - 1:
                    trials.append((f, Plan(plan.table, {**plan.levels, f.name: plan.levels.get(f.name, 0) + 1})))
            measured = self.risks([plan] + [t for _, t in trials], person)
            plan.at_risk, plan.records = measured[0]
            if plan.at_risk <= self.share * plan.records:
                plan.suppress = plan.at_risk > 0
                return True
            if not trials:
                return False
            # a step that keeps every field (month -> quarter, community -> street) before one that drops a field,
            # as long as it leaves fewer records at risk; among those, the one that leaves the fewest
            ranked = [(trial.level(f) == "drop", risk[0], i) for i, ((f, trial), risk)
                      in enumerate(zip(trials, measured[1:]))]
            keeping = [r for r in ranked if not r[0] and r[1] < plan.at_risk]
            plan.levels = trials[min(keeping or ranked, key=lambda r: r[1:])[2]][1].levels

    def _coarser(self, plan: Plan) -> Plan:
        """``plan`` with every quasi-identifier as coarse as it gets while it still says something: ``drop`` only
        for a field with no coarser level than ``keep`` (sex, marital status); never finer than now."""
        def top(f: Field) -> int:
            last = len(f.generalize) - 1
            return last - 1 if f.generalize[last] == "drop" and last > 1 else last
        out = Plan(plan.table, {f.name: max(plan.levels.get(f.name, 0), top(f)) for f in plan.table.quasi})
        out.at_risk, out.records = self.risk(out, None)
        out.suppress = 0 < out.at_risk <= self.share * out.records
        return out

    @staticmethod
    def _coarsest(table: AnalystTable) -> Plan:
        return Plan(table, {f.name: len(f.generalize) - 1 for f in table.quasi})

    def _passes(self, table: AnalystTable, person: Plan) -> bool:
        """Whether ``table`` at its coarsest levels fits the suppression budget against ``person``."""
        at_risk, records = self.risk(self._coarsest(table), person)
        return at_risk <= self.share * records

    def _linked(self, person: Plan, unlinked: set[str], only: set[str] | None = None
                ) -> tuple[dict[str, Plan], list[Plan]]:
        """Search every other person-level table (or those in ``only``, keeping the others' plans: a coarser
        person table only merges classes) against ``person``; the plans and those that do not reach k."""
        kept = {n: p for n, p in getattr(self, "plans", {}).items() if only is not None and n not in only}
        self.plans = {self.person.name: person}
        failing = []
        for t in self.tables:
            if t.current_of or t is self.person:
                continue
            if t.name in kept:
                self.plans[t.name] = kept[t.name]
                continue
            plan = Plan(t, unlink=t.name in unlinked)
            self.plans[t.name] = plan
            if not t.person_column or t.is_person:
                continue
            if plan.unlink:  # its records still describe persons: k over its own quasi-identifiers
                self._search(plan, None)
            elif not self._search(plan, person):
                failing.append(plan)
        return self.plans, failing

    def plan(self) -> dict[str, Plan]:
        """Choose the levels of every table. The person table is searched on its own. A table that then does not
        reach k coarsens the person table further if that can make it reach k; one that does not reach k even with
        the person table as coarse as it may go (``_coarser``) is unlinked instead, so the few records of a small
        table never coarsen the whole city's person table."""
        person = Plan(self.person)
        self._search(person, None)
        plans, failing = self._linked(person, set())
        if not failing:
            return plans
        coarsest = self._coarser(person)
        unlinked = {p.table.name for p in failing if not self._passes(p.table, coarsest)}
        plans, failing = self._linked(person, unlinked)
        top = coarsest.levels
        while failing:
            steps = []
            for i, f in enumerate(self.person.quasi):
                level = person.levels.get(f.name, 0)
                if level < len(f.generalize) - 1 and level + 1 <= top[f.name]:
                    trial = Plan(self.person, {**person.levels, f.name: level + 1})
                    trial.at_risk, trial.records = self.risk(trial, None)
                    trial.suppress = 0 < trial.at_risk <= self.share * trial.records
                    left = sum(self.risk(self._coarsest(p.table), trial)[0] for p in failing)
                    steps.append((left, i, trial))
            if not steps:
                break  # nothing coarser to try: the gate refuses the snapshot and says where
            person = min(steps, key=lambda s: s[:2])[2]
            plans, failing = self._linked(person, unlinked, only={p.table.name for p in failing})
        return self._linked(person, unlinked)[0]  # the final person table may let the others be finer

    def build(self) -> dict[str, Plan]:
        """Create every std table in the attached ``snapshot`` database from the plan."""
        plans = self.plan()
        for t in self.tables:
            plan = plans.get(t.name) or Plan(t, dict(plans[t.current_of].levels))
            if t.current_of:
                plans[t.name] = plan
            self.con.execute(f"CREATE TABLE snapshot.{t.name} AS {self.select(plan)}")
        return plans


def deidentify(con: duckdb.DuckDBPyConnection, k: int | None = None, share: float | None = None,
               reference_year: int | None = None) -> dict[str, Plan]:
    """Write the de-identified std tables of the working file (``con``) into the attached ``snapshot``."""
    builder = Builder(con, k_threshold(k), max_suppression(share), reference_year)
    try:
        return builder.build()
    finally:  # the search's temporary tables
        for name in [*builder._person_cache.values(), *(n for n, _ in builder._prepared_cache.values())]:
            con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
