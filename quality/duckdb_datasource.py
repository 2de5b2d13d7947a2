"""A Great Expectations data source that validates in DuckDB: GX's SQL engine, made to work on DuckDB.

GX 1.24's ``SqlAlchemyExecutionEngine.execute_query`` returns the SQLAlchemy result *after* its
``with self.get_connection()`` block has closed the connection. Closing sends ROLLBACK, and DuckDB (whose cursor
is the connection) discards unread results, so every ``fetchall()`` returns ``[]`` and every expectation fails with
``MetricResolutionError: list index out of range`` (GX issue 10738). :class:`DuckDBExecutionEngine` reads the rows
before the connection closes (``Result.freeze()``), and :class:`DuckDBDatasource` (``type: unsilo_duckdb``) serves
it. GX has no DuckDB dialect module, so regex expectations use PostgreSQL's (``~``): give them anchored patterns.

Import this module only where rows are validated: it imports great_expectations (seconds).
"""

from __future__ import annotations

from typing import Literal, Type

import sqlalchemy as sa

import quality.gx_import  # noqa: F401 - GX itself first, imported the one way
from great_expectations.datasource.fluent.sql_datasource import SQLDatasource
from great_expectations.execution_engine import SqlAlchemyExecutionEngine

DATASOURCE_TYPE = "unsilo_duckdb"


class DuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    """GX's SQL engine with every result read while its DuckDB connection is still open."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.dialect_module is None:
            # regex expectations look the operator up by dialect; PostgreSQL's `~` / `!~` exist in DuckDB too
            import sqlalchemy.dialects.postgresql as postgresql

            self.dialect_module = postgresql

    def execute_query(self, query):
        with self.get_connection() as connection:
            result = self._execute_query_with_recovery(connection, query)
            return result.freeze()()

    def execute_query_in_transaction(self, query):
        with self.get_connection() as connection:
            result = self._execute_query_with_recovery(connection, query)
            frozen = result.freeze()
            if connection.in_transaction():
                connection.commit()
            return frozen()


class DuckDBDatasource(SQLDatasource):
    """A GX SQL data source over a DuckDB file (``duckdb:///path``), using :class:`DuckDBExecutionEngine`."""

    type: Literal["unsilo_duckdb"] = DATASOURCE_TYPE  # type: ignore[assignment]

    @property
    def execution_engine_type(self) -> Type[SqlAlchemyExecutionEngine]:
        return DuckDBExecutionEngine

    def _create_engine(self) -> sa.Engine:
        model_dict = self.dict(exclude=self._get_exec_engine_excludes(), config_provider=self._config_provider)
        return sa.create_engine(model_dict.pop("connection_string"), **model_dict.pop("kwargs", {}))
