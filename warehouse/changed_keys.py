"""The keys a merge load must write: staged rows that are new, or whose ``_row_hash`` differs from the stored row.

One join of key and row hash only, from both sides, before anything is written: the ``UPDATE … FROM`` and the
``INSERT`` then read just the rows that changed, instead of each joining the whole night (every column) against the
whole table. With the table and the night at 10M rows, 1 % changed, under ``memory_limit = 1GB``, the load went from
65 s and 1,229 MB peak RSS to 10–31 s and 829–850 MB (docs/performance.md, "Load memory at 10M").

When both the night and the table are large, the join runs in passes over ``hash(key) % passes``, each of at most
:data:`ROWS_PER_PASS` rows on the smaller side, so its hash table stays the same size however large the table grows.
"""

from __future__ import annotations

import math

import duckdb

from standards.entity import Entity
from standards.transform import quote_ident

#: Rows of the smaller side per pass of the key join: a pass's hash table (key and row hash) stays a few hundred MB.
ROWS_PER_PASS = 2_000_000


def changed_keys(con: duckdb.DuckDBPyConnection, entity: Entity, staged: str, staged_rows: int) -> int:
    """Fill temp table ``changed_keys`` (the entity's key columns, ``existing``): one row per staged key that is new
    (``existing`` false) or changed (``existing`` true). Staged keys are unique (the ``duplicate-key`` rule
    quarantines repeats). Return the number of passes. Runs inside the caller's transaction."""
    types = {f.name: f.duckdb_type for f in entity.fields}
    keys = [quote_ident(k) for k in entity.primary_key]
    typed = [f"CAST({k} AS {types[name]}) AS {k}" for k, name in zip(keys, entity.primary_key)]
    stored_rows = con.execute(f"SELECT count(*) FROM {entity.table}").fetchone()[0]
    # DuckDB builds the join's hash table on the smaller side: only when both sides are large is it split
    passes = max(1, math.ceil(min(staged_rows, stored_rows) / ROWS_PER_PASS))
    on = " AND ".join(f"t.{k} = s.{k}" for k in keys)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE changed_keys AS
        SELECT {', '.join(typed)}, true AS existing FROM {entity.table} WHERE false"""
    )
    for p in range(passes):
        # both sides cast to the table's types, so a key hashes alike on either side
        part = f"WHERE hash({', '.join(keys)}) % {passes} = {p}" if passes > 1 else ""
        con.execute(
            f"""INSERT INTO changed_keys
            SELECT {', '.join(f's.{k}' for k in keys)}, t._row_hash IS NOT NULL
            FROM (SELECT * FROM (SELECT {', '.join(typed)}, _row_hash FROM {staged}) {part}) s
            LEFT JOIN (SELECT {', '.join(keys)}, _row_hash FROM {entity.table} {part}) t ON {on}
            WHERE t._row_hash IS DISTINCT FROM s._row_hash"""
        )
    return passes
