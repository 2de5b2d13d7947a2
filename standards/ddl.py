"""DuckDB DDL derived from the standard: one table per entity in schema ``std``, plus lineage columns.

An entity with ``history: scd2`` gets ``std.<entity>_history`` (every version; primary key = the entity's key
plus ``valid_from``) and a view ``std.<entity>`` of the current versions, so queries over current rows read the
same for every entity.
"""

from __future__ import annotations

from standards.entity import Entity, entities

#: Lineage columns every standard table carries.
LINEAGE_COLUMNS = {
    "_source": "VARCHAR NOT NULL",
    "_run_id": "VARCHAR NOT NULL",
    "_extracted_at": "TIMESTAMP WITH TIME ZONE NOT NULL",
    "_row_hash": "VARCHAR NOT NULL",
}

#: Version columns of an ``scd2`` history table: the version holds for nights in [valid_from, valid_to).
HISTORY_COLUMNS = {
    "valid_from": "DATE NOT NULL",
    "valid_to": "DATE",
    "is_current": "BOOLEAN NOT NULL",
}


def ddl(entity: Entity) -> str:
    cols = [f'    "{f.name}" {f.duckdb_type}' for f in entity.fields]
    cols += [f"    {name} {decl}" for name, decl in LINEAGE_COLUMNS.items()]
    key = [f'"{k}"' for k in entity.primary_key]
    if entity.history == "scd2":
        cols += [f"    {name} {decl}" for name, decl in HISTORY_COLUMNS.items()]
        key.append("valid_from")
    cols.append(f"    PRIMARY KEY ({', '.join(key)})")
    body = ",\n".join(cols)
    out = f"CREATE TABLE IF NOT EXISTS {entity.stored_table} (\n{body}\n);"
    if entity.history == "scd2":
        current = ", ".join([f'"{f.name}"' for f in entity.fields] + list(LINEAGE_COLUMNS) + ["valid_from"])
        out += (f"\nCREATE VIEW IF NOT EXISTS {entity.table} AS\n    SELECT {current} "
                f"FROM {entity.history_table} WHERE is_current;")
    return out


def all_ddl() -> str:
    return "CREATE SCHEMA IF NOT EXISTS std;\n\n" + "\n\n".join(ddl(e) for e in entities().values()) + "\n"
