"""Row-level rules derived from an entity: the standard's checks as data, before any engine runs them.

``quality`` turns each :class:`Rule` into a Great Expectations expectation. Rules whose test GX cannot express
natively (a GB 11643 check character, a date in one of several department formats, bytes that did not decode) are
computed by the vectorized transform into boolean check columns (``_ok_*``) that the rule then expects to be true.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

from standards.codelists import codelist
from standards.entity import Entity
from standards.rejects import OK_FIELD_SIZE, REASONS, reject_column

# Stable rule names (documented in docs/quality.md).
REQUIRED_MISSING = "required-missing"
ID_CHECK_DIGIT = "id-check-digit"
UNKNOWN_CODE = "unknown-code"
IMPOSSIBLE_DATE = "impossible-date"
OUT_OF_RANGE = "out-of-range"
PATTERN_MISMATCH = "pattern-mismatch"
TYPE_MISMATCH = "type-mismatch"
DUPLICATE_KEY = "duplicate-key"
UNDECODABLE_BYTES = "undecodable-bytes"
UNKNOWN_REFERENCE = "unknown-reference"
FIELD_TOO_LARGE = "field-too-large"

TYPED = ("date", "datetime", "integer", "number", "boolean")
DUP_RANK = "_dup_rank"
OK_ENCODING = "_ok_encoding"


def ok_column(check: str, field_name: str) -> str:
    """Name of the boolean check column the transform computes for one field (``_ok_date__birth_date``)."""
    return f"_ok_{check}__{field_name}"


@dataclass(frozen=True)
class Rule:
    name: str  # stable rule name, e.g. "unknown-code"
    kind: str  # not_null | in_set | between | regex | a_after_b | is_true | is_one
    column: str
    field: str | None = None
    params: dict = dc_field(default_factory=dict, hash=False, compare=False)


def rules(entity: Entity) -> list[Rule]:
    out: list[Rule] = []
    for f in entity.fields:
        if f.required and f.type in TYPED:
            # a value that is present but does not parse is that type's rule's business, not "missing"
            out.append(Rule(REQUIRED_MISSING, "is_true", ok_column("present", f.name), f.name))
        elif f.required:
            out.append(Rule(REQUIRED_MISSING, "not_null", f.name, f.name))
        if f.id_scheme == "gb11643":
            out.append(Rule(ID_CHECK_DIGIT, "is_true", ok_column("id", f.name), f.name))
        if f.codelist:
            out.append(Rule(UNKNOWN_CODE, "in_set", f.name, f.name, {"value_set": sorted(codelist(f.codelist))}))
        if f.pattern:
            out.append(Rule(PATTERN_MISMATCH, "regex", f.name, f.name, {"regex": f"^(?:{f.pattern})$"}))
        if f.minimum is not None or f.maximum is not None:
            out.append(Rule(OUT_OF_RANGE, "between", f.name, f.name, {"min_value": f.minimum, "max_value": f.maximum}))
        if f.type in ("date", "datetime"):
            out.append(Rule(IMPOSSIBLE_DATE, "is_true", ok_column("date", f.name), f.name))
        if f.after:
            out.append(Rule(IMPOSSIBLE_DATE, "a_after_b", f.name, f.name, {"other": f.after}))
        if f.type in ("integer", "number", "boolean"):
            out.append(Rule(TYPE_MISMATCH, "is_true", ok_column("type", f.name), f.name))
        if f.references:  # the column is added at validation time (unsilo/references.py)
            out.append(Rule(UNKNOWN_REFERENCE, "is_true", ok_column("ref", f.name), f.name))
    out.append(Rule(DUPLICATE_KEY, "is_one", DUP_RANK, ",".join(entity.primary_key)))
    out.append(Rule(UNDECODABLE_BYTES, "is_true", OK_ENCODING))
    out.append(Rule(FIELD_TOO_LARGE, "is_true", OK_FIELD_SIZE))  # a raw field over max_field_bytes
    out.extend(Rule(reason, "is_true", reject_column(reason)) for reason in REASONS)  # rows a connector rejected
    return out
