"""FHIR R4 Bulk Data export (NDJSON, one resource per line) for one resource type.

Each record is the resource's JSON text as received; the standard's mapping picks fields out of it with DuckDB's
JSON functions, so no Python parses resources one by one. A line that is not JSON, or not a resource of the
declared ``resource_type``, is passed on rejected (``not-json``/``not-fhir``) with its line number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from connectors.base import Connector, SourceError, days, with_source_rows
from connectors.fhir_check import fhir_check
from standards.rejects import REJECT


class FhirBulk(Connector):
    """Options: ``path`` (NDJSON file, may contain ``{date:%Y-%m-%d}``), ``resource_type``."""

    kind = "fhir_bulk"

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
        for path in self.files(start, end):
            with path.open(encoding="utf-8", errors="replace") as f:
                batch: list[str] = []
                first = 1
                for i, line in enumerate(f, start=1):
                    batch.append(line.rstrip("\r\n"))
                    if len(batch) >= self.batch_rows:
                        yield with_source_rows(self._table(batch), path.name, first)
                        batch, first = [], i + 1
                if batch:
                    yield with_source_rows(self._table(batch), path.name, first)

    def _table(self, lines: list[str]) -> pa.Table:
        resources = pa.array(lines, pa.string())
        return pa.table({"resource": resources, REJECT: fhir_check(resources, self.options.get("resource_type"))})
