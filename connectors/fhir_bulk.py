"""FHIR R4 Bulk Data export (NDJSON, one resource per line) for one resource type.

Each record is the resource's JSON text as received; the standard's mapping picks fields out of it with DuckDB's
JSON functions, so no Python parses resources one by one. A line that is not JSON, or not a resource of the
declared ``resource_type``, is passed on rejected (``not-json``/``not-fhir``) with its line number. Lines are split
from large byte blocks by :func:`connectors.ndjson_lines.ndjson_lines` (the lines Python's text mode would give,
undecodable bytes replaced), never read one by one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from connectors.base import Connector, Option, SourceError, days, with_source_rows
from connectors.fhir_check import fhir_check
from connectors.ndjson_lines import ndjson_lines
from standards.rejects import REJECT


class FhirBulk(Connector):
    """Options: ``path`` (NDJSON file, may contain ``{date:%Y-%m-%d}``), ``resource_type``."""

    kind = "fhir_bulk"
    OPTIONS = Connector.OPTIONS + (
        Option("path", ("string",), "the NDJSON file; may contain {date:%Y-%m-%d}", required=True, path="file"),
        Option("resource_type", ("string",), "lines of another type are rejected as not-fhir (default: any)"),
    )

    def files(self, start: dt.date, end: dt.date) -> list[Path]:
        pattern = self.option("path")
        paths = [Path(pattern.format(date=d)) for d in days(start, end)] if "{date" in pattern else [Path(pattern)]
        for path in paths:
            if not path.exists():
                raise SourceError(
                    f"source {self.source_id}: Bulk Data file {path} not found: the export for that night is "
                    f"missing; re-run the export or fix 'path' in the source YAML"
                )
        return paths

    def read(self, start: dt.date, end: dt.date) -> Iterator[pa.Table]:
        paths = self.files(start, end)
        with duckdb.connect() as con:  # one DuckDB for the JSON checks of every batch
            for path in paths:
                first = 1
                for lines in ndjson_lines(path, self.batch_rows):
                    yield with_source_rows(self._table(lines, con), path.name, first)
                    first += len(lines)

    def _table(self, resources: pa.ChunkedArray, con: duckdb.DuckDBPyConnection) -> pa.Table:
        rejects = fhir_check(resources, self.options.get("resource_type"), con)
        return pa.table({"resource": resources, REJECT: rejects})
