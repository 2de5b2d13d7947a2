"""Rows a connector could not read properly: the reserved raw columns and the stable reasons it may give.

A connector never raises on one bad row. It passes the row on with ``_reject`` set to one of :data:`REASONS` (and
``_raw``, the row's text as far as it could be read), keeping the row's ``_source_row`` (file and physical line).
The transform turns each reason into a boolean check column and :mod:`standards.rules` into a rule of that name, so
the row lands in quarantine with the reason as its rule; the other rows go on.
"""

from __future__ import annotations

REJECT = "_reject"
RAW = "_raw"
RESERVED = (REJECT, RAW)

RAGGED_ROW = "ragged-row"  # more or fewer fields than the header
BLANK_LINE = "blank-line"  # an empty line between records
BLANK_ROW = "blank-row"  # a record of delimiters only: every field empty
UNPARSEABLE_ROW = "unparseable-row"  # the CSV parser gave up on the record (bad quoting)
FOOTER_ROW = "footer-row"  # one of the trailing lines the source YAML declares as footer (notes, totals)
COMMENT_LINE = "comment-line"  # a line starting with the source YAML's comment character
NOT_JSON = "not-json"  # a line or file that is not JSON
NOT_FHIR = "not-fhir"  # JSON that is not a FHIR resource (no resourceType) or of another type than declared

REASONS = (RAGGED_ROW, BLANK_LINE, BLANK_ROW, UNPARSEABLE_ROW, FOOTER_ROW, COMMENT_LINE, NOT_JSON, NOT_FHIR)


def reject_column(reason: str) -> str:
    """Name of the boolean check column that is false where a row was rejected for ``reason``."""
    return "_ok_reject__" + reason.replace("-", "_")


def reject_checks(columns: list[str] | set[str]) -> list[str]:
    """DuckDB select items: one ``_ok_reject__<reason>`` boolean per reason (all true without a ``_reject`` column)."""
    if REJECT not in columns:
        return [f"true AS {reject_column(r)}" for r in REASONS]
    return [f"coalesce(\"{REJECT}\", '') <> '{r}' AS {reject_column(r)}" for r in REASONS]
