"""The Markdown data dictionary (docs/data-dictionary.md), generated from the standard."""

from __future__ import annotations

from standards.codelists import codelist
from standards.ddl import LINEAGE_COLUMNS
from standards.entity import entities

HEADER = (
    "# Data dictionary\n\n"
    "Generated from `standards/entities/*.yaml` and `standards/codelists/*.csv` by `unsilo dictionary`; "
    "do not edit by hand.\n\nEvery table in schema `std` also carries the lineage columns "
    + ", ".join(f"`{c}`" for c in LINEAGE_COLUMNS)
    + " (source id, run id, extraction time, hash of the business columns).\n"
)


def _constraints(f) -> str:
    parts = []
    if f.required:
        parts.append("required")
    if f.minimum is not None:
        parts.append(f"≥ {f.minimum}")
    if f.maximum is not None:
        parts.append(f"≤ {f.maximum}")
    if f.pattern:
        parts.append(f"pattern `{f.pattern}`")
    if f.after:
        parts.append(f"on or after `{f.after}`")
    if f.codelist:
        parts.append(f"code list [`{f.codelist}`](#code-list-{f.codelist.replace('_', '-')})")
    if f.id_scheme:
        parts.append(f"from a {f.id_scheme.upper()} ID number")
    if f.pii:
        parts.append(f"PII: {f.pii}")
    return "; ".join(parts)


def _history(e) -> str:
    if e.history != "scd2":
        return f"{e.history} (one row per key, updated in place)"
    return (f"scd2: every version is kept in `{e.history_table}` with `valid_from`, `valid_to` (the version holds for "
            f"the nights in [valid_from, valid_to)) and `is_current`; `{e.table}` is the view of current versions")


def data_dictionary() -> str:
    out = [HEADER]
    for e in entities().values():
        out.append(f"\n## `{e.table}` — {e.title}\n\n{e.description}\n")
        out.append(f"Department: {e.department}. Primary key: {', '.join(f'`{k}`' for k in e.primary_key)}. "
                   f"History: {_history(e)}.\n")
        out.append("| column | type | description | constraints |\n|---|---|---|---|")
        for f in e.fields:
            out.append(f"| `{f.name}` | {f.type} | {f.description} | {_constraints(f)} |")
    used = sorted({f.codelist for e in entities().values() for f in e.fields if f.codelist})
    out.append("\n# Code lists\n")
    for name in used:
        out.append(f"\n## Code list `{name}`\n\n| code | label | label (zh) |\n|---|---|---|")
        for code, row in codelist(name).items():
            out.append(f"| `{code}` | {row.get('label', '')} | {row.get('label_zh', '')} |")
    return "\n".join(out) + "\n"
