"""Re-derive every pseudonymous key of the working warehouse under one more key of the chain, in one transaction.

Raw IDs are never stored, so a rotation cannot compute keys afresh: it applies one more step of the chain to the
keys stored (standards/pseudonym.py), ``key := T(K_new, domain, key)``, one vectorized ``UPDATE`` per table, every
pseudonymous column of the table at once, history tables included. The rows' ``_row_hash`` (which covers the keys)
is recomputed in the same statement, so the next night finds unchanged rows unchanged. All tables and the record of
the new chain's fingerprint (``restricted.key_chain``, steward-only: never published) commit together or not at all.

Which columns hold keys comes from the standard (fields with ``disclosure: pseudonym``) and their domain from the
sources that fill them; a table column that looks like a key (``*_key``) but is not declared stops the rotation
before anything is written, so no key is ever left under the old chain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from standards.entity import Entity, entities
from standards.pseudonym import hmac_sql
from standards.transform import quote_ident

KEY_CHAIN_DDL = """CREATE SCHEMA IF NOT EXISTS restricted;
CREATE TABLE IF NOT EXISTS restricted.key_chain (
    fingerprint VARCHAR NOT NULL,
    chain_length INTEGER NOT NULL,
    rotated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    tables INTEGER NOT NULL,
    rows_rekeyed BIGINT NOT NULL
)"""


class RekeyError(RuntimeError):
    """The warehouse cannot be re-keyed as it is; nothing was changed."""


@dataclass(frozen=True)
class KeyTable:
    table: str  # schema.name as stored (the history table of an scd2 entity)
    entity: Entity
    domains: dict[str, str]  # column -> pseudonym domain


def plan(con: duckdb.DuckDBPyConnection, domains: dict[tuple[str, str], str]) -> list[KeyTable]:
    """The tables and columns to re-key; ``domains`` maps (entity, field) to the domain the sources use."""
    out: list[KeyTable] = []
    for ent in entities().values():
        cols = [f.name for f in ent.fields if f.disclosure == "pseudonym"]
        if not cols:
            continue
        missing = [c for c in cols if (ent.name, c) not in domains]
        if missing and _rows(con, ent.stored_table):
            raise RekeyError(f"{ent.stored_table}: no source YAML says which domain {', '.join(missing)} is "
                             "pseudonymized in (pseudonymize: person|household|address); add the source back, "
                             "then rotate")
        if not missing:
            out.append(KeyTable(ent.stored_table, ent, {c: domains[(ent.name, c)] for c in cols}))
    covered = {(t.table, c) for t in out for c in t.domains}
    stray = [f"{s}.{t}.{c}" for s, t, c in con.execute(
        """SELECT c.schema_name, c.table_name, c.column_name FROM duckdb_columns() c
        JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
        WHERE c.database_name = current_database() AND NOT t.temporary AND c.data_type = 'VARCHAR'
        AND c.column_name LIKE '%\\_key' ESCAPE '\\' ORDER BY ALL""").fetchall() if (f"{s}.{t}", c) not in covered]
    if stray:
        raise RekeyError(f"columns that look like pseudonymous keys but no entity declares: {', '.join(stray)}; "
                         "declare them in standards/entities (disclosure: pseudonym) or rename them, then rotate")
    return out


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                         "AND schema_name || '.' || table_name = ?", [table]).fetchone()[0]
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if exists else 0


def _row_hash(entity: Entity, values: dict[str, str]) -> str:
    """The night's row hash (standards/transform.py) over the stored columns, with ``values`` replacing some."""
    struct = ", ".join(f"{quote_ident(f.name)} := {values.get(f.name, quote_ident(f.name))}" for f in entity.fields)
    return f"md5(to_json(struct_pack({struct})))"


def rekey(con: duckdb.DuckDBPyConnection, new_key: bytes, domains: dict[tuple[str, str], str], fingerprint: str,
          chain_length: int) -> dict[str, int]:
    """Apply ``new_key`` to every pseudonymous key, in one transaction; return rows re-keyed per table."""
    tables = plan(con, domains)
    con.execute(KEY_CHAIN_DDL)
    con.execute("RESET memory_limit")  # the undo data of an UPDATE of a whole table cannot spill
    done: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for kt in tables:
            new = {c: hmac_sql(new_key, d, quote_ident(c)) for c, d in kt.domains.items()}
            sets = [f"{quote_ident(c)} = {expr}" for c, expr in new.items()]
            # a row hash from an older formula stays as it is (the next night rewrites that row, as it would anyway)
            sets.append(f"_row_hash = CASE WHEN _row_hash = {_row_hash(kt.entity, {})} "
                        f"THEN {_row_hash(kt.entity, new)} ELSE _row_hash END")
            done[kt.table] = con.execute(f"UPDATE {kt.table} SET {', '.join(sets)}").fetchone()[0]
        con.execute("INSERT INTO restricted.key_chain VALUES (?, ?, ?, ?, ?)",
                    [fingerprint, chain_length, dt.datetime.now(dt.timezone.utc), len(done), sum(done.values())])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return done


def recorded_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The fingerprint of the chain the warehouse was last re-keyed to (None: never rotated)."""
    con.execute(KEY_CHAIN_DDL)
    row = con.execute("SELECT fingerprint FROM restricted.key_chain ORDER BY rotated_at DESC LIMIT 1").fetchone()
    return row[0] if row else None

