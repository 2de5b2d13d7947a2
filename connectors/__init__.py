"""Connectors: one module per kind of source system. Each yields Arrow batches of raw text records.

A connector's module is imported when a source of its kind is read (``connector``) or its class is named
(``from connectors import SqlTable``), not with the package: a CSV night does not pay for importing SQLAlchemy and
httpx (~0.5 s per process).
"""

from __future__ import annotations

import importlib

from connectors.base import Connector, ReadAgain, SourceError, read_all

# kind -> (module, class)
KINDS: dict[str, tuple[str, str]] = {
    "csv_drop": ("connectors.csv_drop", "CsvDrop"),
    "fhir_bulk": ("connectors.fhir_bulk", "FhirBulk"),
    "fhir_bundle": ("connectors.fhir_bundle", "FhirBundle"),
    "fhir_rest": ("connectors.fhir_rest", "FhirRest"),
    "gtfs": ("connectors.gtfs", "Gtfs"),
    "sql_table": ("connectors.sql_table", "SqlTable"),
}
_CLASSES = {cls: module for module, cls in KINDS.values()}


def connector_class(kind: str) -> type[Connector]:
    module, cls = KINDS[kind]
    return getattr(importlib.import_module(module), cls)


def kind_options(kind: str) -> tuple:
    """What a source YAML may set for connector ``kind``: the class's declared ``OPTIONS`` (imports its module)."""
    return connector_class(kind).OPTIONS


def connector(source_id: str, kind: str, options: dict) -> Connector:
    if kind not in KINDS:
        raise SourceError(
            f"source {source_id}: unknown connector kind {kind!r} (known: {', '.join(sorted(KINDS))})"
        )
    return connector_class(kind)(source_id=source_id, options=options)


def __getattr__(name: str):
    if name in _CLASSES:
        return getattr(importlib.import_module(_CLASSES[name]), name)
    raise AttributeError(f"module 'connectors' has no attribute {name!r}")


__all__ = [
    "CsvDrop", "FhirBulk", "FhirBundle", "FhirRest", "Gtfs", "SqlTable", "Connector", "ReadAgain", "SourceError", "KINDS",
    "connector", "read_all",
    "connector_class", "kind_options",
]
