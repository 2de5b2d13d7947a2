"""Connectors: one module per kind of source system. Each yields Arrow batches of raw text records."""

from __future__ import annotations

from connectors.base import Connector, SourceError
from connectors.csv_drop import CsvDrop
from connectors.fhir_bulk import FhirBulk
from connectors.fhir_bundle import FhirBundle
from connectors.fhir_rest import FhirRest
from connectors.gtfs import Gtfs
from connectors.sql_table import SqlTable

KINDS: dict[str, type[Connector]] = {c.kind: c for c in (CsvDrop, FhirBulk, FhirBundle, FhirRest, Gtfs, SqlTable)}


def connector(source_id: str, kind: str, options: dict) -> Connector:
    try:
        cls = KINDS[kind]
    except KeyError:
        raise SourceError(
            f"source {source_id}: unknown connector kind {kind!r} (known: {', '.join(sorted(KINDS))})"
        ) from None
    return cls(source_id=source_id, options=options)


__all__ = [
    "CsvDrop", "FhirBulk", "FhirBundle", "FhirRest", "Gtfs", "SqlTable", "Connector", "SourceError", "KINDS", "connector",
]
