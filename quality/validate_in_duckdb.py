"""Validate a normalized Parquet file with the entity's GX suite inside DuckDB, returning exact failing rows.

A small DuckDB file holds one view, ``batch``, over ``read_parquet(...)``; GX's SQL engine (through
:mod:`quality.duckdb_datasource`) runs every expectation as SQL against it. Exactness: ``result_format`` names
``_ordinal`` as the unexpected-index column and raises ``partial_unexpected_count`` to the row count, because GX
caps the returned ids at that number even for COMPLETE results; :func:`quality.validate.collect` still refuses a
result whose id count differs from its unexpected count. Every rule of :mod:`standards.rules` is a column-map or
column-pair expectation, which return ids in SQL (the duplicate-key rule checks ``_dup_rank``, not compound-unique,
which returns none).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb

from quality.duckdb_datasource import DuckDBDatasource  # noqa: F401 - registers the data source type
from quality.gx_import import gx
from quality.suite import expectation_suite
from quality.validate import Verdict, collect, quiet_context
from standards.entity import Entity
from standards.transform import quote_literal

VIEW = "batch"


def result_format(rows: int) -> dict:
    return {
        "result_format": "COMPLETE",
        "unexpected_index_column_names": ["_ordinal"],
        "partial_unexpected_count": max(rows, 1),
        "return_unexpected_index_query": False,
    }


def validate_in_duckdb(entity: Entity, parquet: Path, workdir: Path, verdict: Verdict | None = None,
                       policy=None, batch_rules=(), view_sql: str | None = None,
                       docs_dir: Path | None = None) -> Verdict:
    """Validate every row of ``parquet``; ``workdir`` receives the scratch DuckDB file (removed afterwards).

    ``view_sql`` (a SELECT over ``read_parquet``) replaces the plain view, e.g. to add reference check columns.
    ``docs_dir``: build a Data Docs site of this validation there (``verdict.docs`` is its index).
    """
    verdict = verdict or Verdict()
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / f"{parquet.name}.{uuid.uuid4().hex[:8]}.validate.duckdb"  # unique: GX's engine may outlive us
    with duckdb.connect(str(db)) as con:
        select = view_sql or f"SELECT * FROM read_parquet({quote_literal(str(parquet))})"
        con.execute(f"CREATE VIEW {VIEW} AS {select}")
        rows = con.execute(f"SELECT count(*) FROM {VIEW}").fetchone()[0]
    source = None
    try:
        context = quiet_context()
        source = context.data_sources.add_unsilo_duckdb(name="unsilo", connection_string=f"duckdb:///{db}")
        batch = source.add_table_asset(entity.name, table_name=VIEW).add_batch_definition_whole_table("batch")
        suite = context.suites.add(expectation_suite(entity, policy, list(batch_rules)))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"validate-{entity.name}", data=batch, suite=suite)
        )
        result = definition.run(result_format=result_format(rows))
        collect(entity, result, verdict, rows, ordinal_of=lambda u: int(u["_ordinal"]))
        if docs_dir is not None:
            from quality.data_docs import data_docs

            verdict.docs = data_docs(context, docs_dir)
    finally:
        if source is not None:
            source.get_execution_engine().engine.dispose()
            source.get_engine().dispose()
        db.unlink(missing_ok=True)
        db.with_suffix(".duckdb.wal").unlink(missing_ok=True)
    return verdict
