"""DuckDB DDL derived from the standard: one table per entity in schema ``std``, plus lineage columns."""

from __future__ import annotations

from standards.entity import Entity, entities

#: Lineage columns every standard table carries.
LINEAGE_COLUMNS = {
    "_source": "VARCHAR NOT NULL",
    "_run_id": "VARCHAR NOT NULL",
    "_extracted_at": "TIMESTAMP WITH TIME ZONE NOT NULL",
    "_row_hash": "VARCHAR NOT NULL",
}


def ddl(entity: Entity) -> str:
    cols = [f'    "{f.name}" {f.duckdb_type}' for f in entity.fields]
    cols += [f"    {name} {decl}" for name, decl in LINEAGE_COLUMNS.items()]
    pk = ", ".join(f'"{k}"' for k in entity.primary_key)
    cols.append(f"    PRIMARY KEY ({pk})")
    body = ",\n".join(cols)
    return f"CREATE TABLE IF NOT EXISTS {entity.table} (\n{body}\n);"


def all_ddl() -> str:
    return "CREATE SCHEMA IF NOT EXISTS std;\n\n" + "\n\n".join(ddl(e) for e in entities().values()) + "\n"
