"""Disclosure control for published tables of aggregates: small-cell, dominance and secondary suppression.

Used by the marts (``warehouse/marts.py``) and meant for any publication of aggregates (the open-data release).
The caller describes its tables of cells (:class:`Table`): key columns, count columns, magnitude columns with the
count of their contributors, derived ratios, and the margins the table publishes (:class:`Hierarchy`: rows of a
``level`` column whose figures are the sums of the rows one level down, e.g. community -> street -> district, per
month). Figures published in two tables are declared with :class:`Shared`. :func:`protect` then applies, set-wise in
DuckDB SQL:

1. **primary**: a count ``0 < value < threshold`` is suppressed; a zero is published (a zero says nobody, which names
   nobody; suppressing zeros would also make every empty community look sensitive). A magnitude is suppressed when
   its contributor count is ``0 < n < threshold``.
2. **dominance**: a magnitude is suppressed when its largest contribution(s) exceed ``dominance`` (default 0.85) of
   the cell's total: the caller gives, per cell, the sum of its ``n`` largest contributions (the (n, k) rule with
   the ``n`` the caller chose and ``k = dominance``).
3. **secondary**: in every group of cells that adds up to a published margin (a total and its parts, per measure)
   and between the two copies of a shared figure, a lone suppressed cell could be recovered by subtraction: the
   smallest non-zero published part (then a zero part, then the total) is suppressed too. A group whose suppressed
   parts sum to their number (all ones, since zeros are published) is treated the same way. Repeated until no group
   changes; each round handles every group at once.
4. **derived**: a ratio is suppressed when its numerator or its denominator is.

Suppressed figures are NULL in the output, never 0, and the companion column ``suppressed`` (:data:`MARKER`) names
the suppressed columns of the row, comma-separated (NULL when none): a NULL figure not named there is missing or
undefined (a rate with a zero denominator), not withheld. The report (one row per suppressed cell: table, cell,
measure, reason) never holds a value; it is for stewards, since ``primary`` tells that a cell is small.

:func:`audit` is the attacker: from the published tables only, it finds every suppressed cell that linear
combinations of the published margins and cells determine (across levels, rows and tables), and every cell pinned
by a margin whose suppressed parts can only be ones. A release is safe when it returns nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np

#: The companion column that names the suppressed columns of each row.
MARKER = "suppressed"
REASONS = ("primary", "dominance", "secondary", "derived")


def min_cell() -> int:
    """The smallest count a published cell may show: ``UNSILO_MIN_CELL``, default 5."""
    return int(os.environ.get("UNSILO_MIN_CELL", "5"))


@dataclass(frozen=True)
class Rule:
    threshold: int = field(default_factory=min_cell)
    #: (n, k) dominance: a magnitude is suppressed when its n largest contributions exceed this share of its total.
    dominance: float = 0.85
    #: Rounds of secondary suppression before giving up (each round treats every group at once).
    max_rounds: int = 50


@dataclass(frozen=True)
class Magnitude:
    """A magnitude (an amount, an area) and the count of units contributing to it.

    ``top`` names a column with the sum of the n largest contributions of the cell (dominance rule, skipped when
    None); ``total`` the column the share is taken of (default: ``column``; give it when ``column`` is a mean).
    A mean is not additive (``additive=False``): it takes no part in the margins' secondary suppression.
    """

    column: str
    contributors: str
    top: str | None = None
    total: str | None = None
    additive: bool = True


@dataclass(frozen=True)
class Ratio:
    column: str
    numerator: str
    denominator: str


@dataclass(frozen=True)
class Hierarchy:
    """Margins: a row whose ``level`` is ``levels[i + 1][0]`` is the total of the rows at ``levels[i][0]`` that share
    its code column ``levels[i + 1][1]`` and the ``by`` columns (e.g. the month)."""

    level: str
    levels: tuple[tuple[str, str], ...]
    by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """A relation of cells: ``name`` (raw), written suppressed to ``output``; ``hidden`` columns (contributor counts,
    dominance inputs) are not written; ``exempt`` columns are published as they are (say why in the caller)."""

    name: str
    output: str
    key: tuple[str, ...]
    counts: tuple[str, ...] = ()
    magnitudes: tuple[Magnitude, ...] = ()
    ratios: tuple[Ratio, ...] = ()
    hierarchies: tuple[Hierarchy, ...] = ()
    hidden: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()

    @property
    def additive(self) -> tuple[str, ...]:
        return self.counts + tuple(m.column for m in self.magnitudes if m.additive)

    @property
    def measures(self) -> tuple[str, ...]:
        return self.counts + tuple(m.column for m in self.magnitudes) + tuple(r.column for r in self.ratios)


@dataclass(frozen=True)
class Shared:
    """The same figures published in two tables: the ``measures`` of the ``left`` row and the ``right`` row for which
    ``on`` (SQL over aliases ``l`` and ``r``, published columns only) holds are one figure."""

    left: str
    right: str
    on: str
    measures: tuple[str, ...]


@dataclass(frozen=True)
class Protection:
    report: str  # the table holding the report: table, cell, measure, reason
    rounds: int  # rounds of secondary suppression until stable
    counts: dict[tuple[str, str, str], int]  # (table, measure, reason) -> cells


@dataclass(frozen=True)
class Recovery:
    table: str
    cell: str
    measure: str
    how: str  # "linear" (a combination of published figures) or "bounds" (parts that can only be ones or zeros)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cell_text(t: Table, alias: str) -> str:
    """A readable cell name from the key columns (never a figure): 'level=street, street_code=330106001'."""
    return "concat_ws(', ', " + ", ".join(f"'{k}=' || {alias}.{_ident(k)}" for k in t.key) + ")"


def _rows(con: duckdb.DuckDBPyConnection, tables: Sequence[Table], source: str) -> None:
    """``_dc_t<i>``: each table's rows (``source`` is ``name`` or ``output``) numbered by key."""
    for i, t in enumerate(tables):
        order = ", ".join(_ident(k) for k in t.key)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _dc_t{i} AS SELECT row_number() OVER (ORDER BY {order}) AS _dc_row, "
                    f"* FROM {getattr(t, source)}")


def _groups(con: duckdb.DuckDBPyConnection, tables: Sequence[Table], shared: Sequence[Shared]) -> None:
    """``_dc_members(g, tbl, row, is_total, measure)``: the groups of rows adding up to a margin (measure NULL: every
    additive measure of the table), and the pairs of rows of shared figures."""
    index = {t.name: i for i, t in enumerate(tables)} | {t.output: i for i, t in enumerate(tables)}
    parts = ["SELECT NULL::VARCHAR AS g, NULL::INTEGER AS tbl, NULL::BIGINT AS row, NULL::BOOLEAN AS is_total, "
             "NULL::VARCHAR AS measure WHERE false"]
    for i, t in enumerate(tables):
        for h, hier in enumerate(t.hierarchies):
            for (child, _), (parent, code) in zip(hier.levels, hier.levels[1:]):
                g = f"'{i}.{h}.{parent}.' || p._dc_row"
                same = " AND ".join([f"c.{_ident(code)} = p.{_ident(code)}"]
                                    + [f"c.{_ident(b)} IS NOT DISTINCT FROM p.{_ident(b)}" for b in hier.by])
                lvl = _ident(hier.level)
                parts.append(f"SELECT {g}, {i}, p._dc_row, true, NULL FROM _dc_t{i} p WHERE p.{lvl} = '{parent}'")
                parts.append(f"SELECT {g}, {i}, c._dc_row, false, NULL FROM _dc_t{i} p JOIN _dc_t{i} c "
                             f"ON p.{lvl} = '{parent}' AND c.{lvl} = '{child}' AND {same}")
    for s, link in enumerate(shared):
        left, right = index[link.left], index[link.right]
        for m in link.measures:
            g = f"'s{s}.{m}.' || l._dc_row || '.' || r._dc_row"
            pair = f"FROM _dc_t{left} l JOIN _dc_t{right} r ON {link.on}"
            parts.append(f"SELECT {g}, {left}, l._dc_row, true, '{m}' {pair}")  # l = r: l is the 'total'
            parts.append(f"SELECT {g}, {right}, r._dc_row, false, '{m}' {pair}")
    con.execute("CREATE OR REPLACE TEMP TABLE _dc_members AS " + " UNION ALL ".join(parts))
    # one group per (group, measure), on the long cells
    con.execute("""CREATE OR REPLACE TEMP TABLE _dc_gm AS
        SELECT m.g || '/' || c.measure AS g, c.cell, m.is_total FROM _dc_members m JOIN _dc_cells c
          ON c.tbl = m.tbl AND c.row = m.row AND c.additive AND (m.measure IS NULL OR m.measure = c.measure)""")


def _long(t: Table, i: int, rule: Rule | None) -> list[str]:
    """One SELECT per measure of table ``i``: (tbl, row, measure, pos, additive, value, status); status from ``rule``
    (primary, dominance) or, when ``rule`` is None, from the published marker."""
    out = []
    for pos, m in enumerate(t.measures):
        value = f"CAST({_ident(m)} AS DOUBLE)"
        additive = m in t.additive
        if rule is None:
            status = f"CASE WHEN list_contains(string_split(coalesce({MARKER}, ''), ','), '{m}') THEN 'suppressed' END"
        elif m in t.counts:
            status = f"CASE WHEN {_ident(m)} > 0 AND {_ident(m)} < {rule.threshold} THEN 'primary' END"
        elif m in {r.column for r in t.ratios}:
            status = "NULL"
        else:
            mag = next(x for x in t.magnitudes if x.column == m)
            n, total = _ident(mag.contributors), _ident(mag.total or mag.column)
            dominant = (f"WHEN {_ident(mag.top)} > {rule.dominance} * {total} AND {total} > 0 THEN 'dominance' "
                        if mag.top else "")
            status = f"CASE WHEN {n} > 0 AND {n} < {rule.threshold} THEN 'primary' {dominant}END"
        out.append(f"SELECT {i} AS tbl, _dc_row AS row, '{m}' AS measure, {pos} AS pos, {additive} AS additive, "
                   f"{value} AS value, {status} AS status FROM _dc_t{i}")
    return out


def _cells(con: duckdb.DuckDBPyConnection, tables: Sequence[Table], rule: Rule | None) -> None:
    selects = [s for i, t in enumerate(tables) for s in _long(t, i, rule)]
    con.execute("CREATE OR REPLACE TEMP TABLE _dc_cells AS SELECT row_number() OVER (ORDER BY tbl, row, pos) AS cell, "
                f"* FROM ({' UNION ALL '.join(selects)})")


SECONDARY = """
UPDATE _dc_cells SET status = 'secondary' WHERE cell IN (
    WITH state AS (
        SELECT gm.g, gm.cell, gm.is_total, c.value, c.status IS NOT NULL AS hidden
        FROM _dc_gm gm JOIN _dc_cells c USING (cell)
    ), groups AS (
        SELECT g, count(*) FILTER (WHERE hidden) AS n, sum(value) FILTER (WHERE hidden) AS s,
               bool_or(hidden AND is_total) AS total_hidden
        FROM state GROUP BY g
    ), need AS (
        SELECT g FROM groups WHERE n = 1 OR (n > 1 AND NOT total_hidden AND s <= n)
    )
    SELECT cell FROM state JOIN need USING (g) WHERE NOT hidden AND value IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY g ORDER BY is_total, value = 0, value, cell) = 1
)"""


def protect(con: duckdb.DuckDBPyConnection, tables: Sequence[Table], rule: Rule | None = None,
            shared: Sequence[Shared] = (), report: str = "_dc_report") -> Protection:
    """Write each table's ``output`` with its cells suppressed and ``report`` (table, cell, measure, reason)."""
    rule = rule or Rule()
    _rows(con, tables, "name")
    for i, t in enumerate(tables):
        _check(con, t, i)
    _cells(con, tables, rule)
    _groups(con, tables, shared)
    rounds = 0
    while con.execute(SECONDARY).fetchone()[0]:
        rounds += 1
        if rounds > rule.max_rounds:
            raise RuntimeError(f"secondary suppression did not settle in {rule.max_rounds} rounds over "
                               f"{', '.join(t.name for t in tables)}: raise Rule.max_rounds or check the margins")
    for i, t in enumerate(tables):
        for r in t.ratios:
            con.execute(f"""UPDATE _dc_cells c SET status = 'derived' FROM _dc_cells p
                WHERE c.tbl = {i} AND c.measure = '{r.column}' AND p.tbl = {i} AND p.row = c.row
                AND p.measure IN ('{r.numerator}', '{r.denominator}') AND p.status IS NOT NULL""")
    texts = []
    for i, t in enumerate(tables):
        _write(con, t, i)
        texts.append(f"SELECT '{t.output}' AS tbl, _dc_row AS row, {_cell_text(t, 'x')} AS cell FROM _dc_t{i} x")
    con.execute(f"""CREATE OR REPLACE {'TEMP ' if report.startswith('_dc_') else ''}TABLE {report} AS
        SELECT k.tbl AS "table", k.cell, c.measure, c.status AS reason
        FROM _dc_cells c JOIN ({' UNION ALL '.join(f"SELECT {i} AS i, * FROM ({s})" for i, s in enumerate(texts))}) k
          ON k.i = c.tbl AND k.row = c.row
        WHERE c.status IS NOT NULL ORDER BY c.cell""")
    counts = {(a, b, c): n for a, b, c, n in con.execute(
        f'SELECT "table", measure, reason, count(*) FROM {report} GROUP BY ALL ORDER BY ALL').fetchall()}
    _drop(con, len(tables))
    return Protection(report, rounds, counts)


NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
           "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def _check(con: duckdb.DuckDBPyConnection, t: Table, i: int) -> None:
    """Every number of the table is declared: a figure nobody declared would be published unprotected."""
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE _dc_t{i}").fetchall()}
    if MARKER in types:
        raise ValueError(f"{t.name}: column {MARKER!r} is the suppression marker; rename it")
    declared = {*t.key, *t.measures, *t.hidden, *t.exempt, "_dc_row"}
    missing = sorted(c for c, kind in types.items() if kind.split("(")[0] in NUMERIC and c not in declared)
    if missing:
        raise ValueError(f"{t.name}: numeric column(s) {', '.join(missing)} are neither a count, a magnitude, a ratio, "
                         "hidden nor exempt: declare each in the Table so it is not published unprotected")
    unknown = sorted({*t.measures, *t.hidden, *t.exempt, *t.key} - set(types))
    if unknown:
        raise ValueError(f"{t.name}: declared column(s) {', '.join(unknown)} are not in the relation")


def _write(con: duckdb.DuckDBPyConnection, t: Table, i: int) -> None:
    columns = [r[0] for r in con.execute(f"DESCRIBE _dc_t{i}").fetchall() if r[0] not in {*t.hidden, "_dc_row"}]
    shown = [f"CASE WHEN s.{_ident(c)} THEN NULL ELSE x.{_ident(c)} END AS {_ident(c)}" if c in t.measures
             else f"x.{_ident(c)}" for c in columns]
    flags = ", ".join(f"bool_or(measure = '{m}' AND status IS NOT NULL) AS {_ident(m)}" for m in t.measures)
    marker = f"string_agg(measure, ',' ORDER BY pos) FILTER (WHERE status IS NOT NULL) AS {MARKER}"
    order = ", ".join(f"x.{_ident(k)}" for k in t.key)
    con.execute(f"""CREATE OR REPLACE TABLE {t.output} AS
        SELECT {', '.join(shown)}, s.{MARKER}
        FROM _dc_t{i} x JOIN (SELECT row, {flags}, {marker} FROM _dc_cells WHERE tbl = {i} GROUP BY row) s
          ON s.row = x._dc_row
        ORDER BY {order}""")


def _drop(con: duckdb.DuckDBPyConnection, n: int) -> None:
    for name in ["_dc_cells", "_dc_members", "_dc_gm"] + [f"_dc_t{i}" for i in range(n)]:
        con.execute(f"DROP TABLE IF EXISTS {name}")


def audit(con: duckdb.DuckDBPyConnection, tables: Sequence[Table], shared: Sequence[Shared] = ()) -> list[Recovery]:
    """Every suppressed cell of the published ``output`` tables that the published figures give away.

    Linear: a cell is recovered when its indicator lies in the row space of the margin equations (every total minus
    its parts, every shared pair) restricted to the suppressed cells, so any combination across levels, months and
    tables counts. Bounds: a published total whose suppressed parts sum to no more than their number (each is at
    least one unless zero) pins them. Reads only what is published (figures, keys, the marker)."""
    _rows(con, tables, "output")
    _cells(con, tables, None)
    _groups(con, tables, shared)
    found: dict[int, str] = {}
    rows = con.execute("""
        SELECT gm.g, c.measure, c.cell, gm.is_total, c.status IS NOT NULL, c.value
        FROM _dc_gm gm JOIN _dc_cells c USING (cell) ORDER BY c.measure, gm.g""").fetchall()
    by_measure: dict[str, dict[str, list]] = {}
    for g, measure, cell, is_total, hidden, value in rows:  # small: groups x members of the published tables
        by_measure.setdefault(measure, {}).setdefault(g, []).append((cell, is_total, hidden, value))
    for groups in by_measure.values():
        for part in _components(groups):
            found.update(_recover(part))
    if not found:
        _drop(con, len(tables))
        return []
    texts = " UNION ALL ".join(f"SELECT {i} AS i, _dc_row AS row, '{t.output}' AS tbl, {_cell_text(t, 'x')} AS cell "
                               f"FROM _dc_t{i} x" for i, t in enumerate(tables))
    out = con.execute(f"""SELECT c.cell, k.tbl, k.cell, c.measure FROM _dc_cells c JOIN ({texts}) k
        ON k.i = c.tbl AND k.row = c.row WHERE c.cell IN ({', '.join(map(str, found))}) ORDER BY c.cell""").fetchall()
    _drop(con, len(tables))
    return [Recovery(tbl, cell, measure, found[c]) for c, tbl, cell, measure in out]


def _components(groups: dict[str, list]) -> list[list[list]]:
    """The groups of one measure split into sets that share no suppressed cell (solved apart: smaller systems)."""
    parent: dict[object, object] = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for g, members in groups.items():
        for c, _, hidden, _ in members:
            if hidden:
                parent[root(("g", g))] = root(c)
    out: dict[object, list] = {}
    for g, members in groups.items():
        out.setdefault(root(("g", g)), []).append(members)
    return list(out.values())


def _recover(groups: list[list]) -> dict[int, str]:
    """The suppressed cells these margin groups give away (see :func:`audit`)."""
    found: dict[int, str] = {}
    unknown = sorted({c for members in groups for c, _, hidden, _ in members if hidden})
    if not unknown:
        return found
    col = {c: j for j, c in enumerate(unknown)}
    a = np.zeros((len(groups), len(unknown)))
    for r, members in enumerate(groups):
        for c, is_total, hidden, _ in members:
            if hidden:
                a[r, col[c]] += -1.0 if is_total else 1.0
        total = [m for m in members if m[1]]
        if total and not total[0][2]:
            rest = total[0][3] - sum(v for _, t, h, v in members if not t and not h)
            hidden_parts = [c for c, t, h, _ in members if h and not t]
            if hidden_parts and rest <= len(hidden_parts):
                found.update({c: "bounds" for c in hidden_parts})
    _, s, vt = np.linalg.svd(a)
    rank = int((s > 1e-9 * max(1.0, s.max(initial=0))).sum())
    null = vt[rank:]
    for c, j in col.items():
        if null.shape[0] == 0 or np.all(np.abs(null[:, j]) < 1e-9):
            found[c] = "linear"
    return found
