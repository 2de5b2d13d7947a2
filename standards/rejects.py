"""Rows a connector could not read properly: the reserved raw columns and the stable reasons it may give.

A connector never raises on one bad row. It passes the row on with ``_reject`` set to one of :data:`REASONS` (and
``_raw``, the row's text as far as it could be read), keeping the row's ``_source_row`` (file and physical line).
The transform turns each reason into a boolean check column and :mod:`standards.rules` into a rule of that name, so
the row lands in quarantine with the reason as its rule; the other rows go on.
"""

from __future__ import annotations

import os

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
UNPARSEABLE_FILE = "unparseable-file"  # a whole file no parser could read (nested too deep, ...): one row names it

REASONS = (RAGGED_ROW, BLANK_LINE, BLANK_ROW, UNPARSEABLE_ROW, FOOTER_ROW, COMMENT_LINE, NOT_JSON, NOT_FHIR,
           UNPARSEABLE_FILE)

# A raw field larger than this is its own rule (field-too-large), not a failure of the source: UNSILO_MAX_FIELD_BYTES,
# or a source's ``max_field_bytes``. Quarantine keeps such a value cut to RAW_KEPT_BYTES, with a note.
DEFAULT_MAX_FIELD_BYTES = 1 << 20
RAW_KEPT_BYTES = 1024
OK_FIELD_SIZE = "_ok_field_size"
LINEAGE = ("_source", "_source_row", "_extracted_at", "_ordinal", REJECT)


def max_field_bytes(declared: int | None = None) -> int:
    """The field size limit in bytes: the source's declared ``max_field_bytes``, else UNSILO_MAX_FIELD_BYTES, else
    1 MB."""
    if declared is not None:
        return int(declared)
    return int(os.environ.get("UNSILO_MAX_FIELD_BYTES") or DEFAULT_MAX_FIELD_BYTES)


def truncated(text: str, limit: int = RAW_KEPT_BYTES) -> str:
    """A connector's ``_raw`` of a whole unreadable file, cut to ``limit`` characters with a note of its size."""
    if len(text) <= limit:
        return text
    return text[:limit] + f" [cut: {len(text)} characters in all]"


def reject_column(reason: str) -> str:
    """Name of the boolean check column that is false where a row was rejected for ``reason``."""
    return "_ok_reject__" + reason.replace("-", "_")


def within_limit(raw: str, text: str, limit: int) -> str:
    """SQL: ``text`` (an expression over the raw value ``raw``), or NULL where ``raw`` is longer than ``limit``
    bytes (such a row is quarantined as field-too-large; its value is not carried into the normalized batch)."""
    return f"CASE WHEN strlen(CAST({raw} AS VARCHAR)) > {int(limit)} THEN NULL ELSE {text} END"


def reject_checks(columns: list[str] | set[str], max_bytes: int | None = None) -> list[str]:
    """DuckDB select items: one ``_ok_reject__<reason>`` boolean per reason (all true without a ``_reject`` column),
    and :data:`OK_FIELD_SIZE`, false where a raw field is longer than :func:`max_field_bytes` (``max_bytes``)."""
    if REJECT not in columns:
        out = [f"true AS {reject_column(r)}" for r in REASONS]
    else:
        out = [f"coalesce(\"{REJECT}\", '') <> '{r}' AS {reject_column(r)}" for r in REASONS]
    return out + [field_size_check(columns, max_field_bytes(max_bytes))]


def field_size_check(columns, limit: int) -> str:
    raw = sorted(c for c in columns if c not in LINEAGE)
    if not raw:
        return f"true AS {OK_FIELD_SIZE}"
    sizes = ", ".join(f"coalesce(strlen(CAST(\"{c.replace(chr(34), chr(34) * 2)}\" AS VARCHAR)), 0)" for c in raw)
    return f"greatest({sizes}, 0) <= {int(limit)} AS {OK_FIELD_SIZE}"
