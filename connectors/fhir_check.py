"""Which FHIR JSON texts a connector must reject: not JSON, or not a FHIR resource of the type the source reads.

Computed by DuckDB's JSON functions over a whole Arrow column at once, never by parsing lines one by one in Python.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from standards.rejects import NOT_FHIR, NOT_JSON


def fhir_check(resources: pa.Array | pa.ChunkedArray, resource_type: str | None,
               con: duckdb.DuckDBPyConnection | None = None) -> pa.Array:
    """The ``_reject`` reason for each JSON text (null where it is a FHIR resource of ``resource_type``).

    ``con``: a DuckDB connection to run on (a connector reading many batches passes one; opening one costs ~10 ms).
    """
    texts = pa.table({"r": resources})  # noqa: F841 - read by DuckDB by name (FROM texts)
    wanted = "true" if not resource_type else "rt = $type"
    # One parse per text: try() gives the resourceType of a JSON object, NULL for anything else (including text
    # that is not JSON); only those few rows are parsed again to tell not-json from not-fhir.
    sql = f"""SELECT CASE
        WHEN rt IS NOT NULL THEN CASE WHEN {wanted} THEN NULL ELSE '{NOT_FHIR}' END
        WHEN NOT coalesce(json_valid(r), false) THEN '{NOT_JSON}'
        ELSE '{NOT_FHIR}'
        END AS reject FROM (SELECT r, try(json_extract_string(r, '$.resourceType')) AS rt FROM texts)"""
    params = {"type": resource_type} if resource_type else {}
    if con is not None:
        return con.sql(sql, params=params).to_arrow_table().column("reject").combine_chunks()
    with duckdb.connect() as own:
        return own.sql(sql, params=params).to_arrow_table().column("reject").combine_chunks()
