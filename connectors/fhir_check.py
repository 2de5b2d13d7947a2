"""Which FHIR JSON texts a connector must reject: not JSON, or not a FHIR resource of the type the source reads.

Computed by DuckDB's JSON functions over a whole Arrow column at once, never by parsing lines one by one in Python.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from standards.rejects import NOT_FHIR, NOT_JSON


def fhir_check(resources: pa.Array, resource_type: str | None) -> pa.Array:
    """The ``_reject`` reason for each JSON text (null where it is a FHIR resource of ``resource_type``)."""
    texts = pa.table({"r": resources})  # noqa: F841 - read by DuckDB by name (FROM texts)
    wanted = "true" if not resource_type else "json_extract_string(r, '$.resourceType') = $type"
    sql = f"""SELECT CASE
        WHEN NOT coalesce(json_valid(r), false) THEN '{NOT_JSON}'
        WHEN json_type(r) <> 'OBJECT' OR json_extract_string(r, '$.resourceType') IS NULL THEN '{NOT_FHIR}'
        WHEN NOT ({wanted}) THEN '{NOT_FHIR}'
        END AS reject FROM texts"""
    con = duckdb.connect()
    try:
        params = {"type": resource_type} if resource_type else {}
        return con.sql(sql, params=params).to_arrow_table().column("reject").combine_chunks()
    finally:
        con.close()
