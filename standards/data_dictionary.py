"""The Markdown data dictionary (docs/data-dictionary.md), generated from the standard."""

from __future__ import annotations

from standards.codelists import codelist
from standards.ddl import LINEAGE_COLUMNS
from standards.entity import LINEAGE_FIELDS, VERSION_FIELDS, entities

def _disclosure(f) -> str:
    return f"{f.disclosure}: {' → '.join(f.generalize)}" if f.generalize else f.disclosure


HEADER = (
    "# Data dictionary\n\n"
    "Generated from `standards/entities/*.yaml` and `standards/codelists/*.csv` by `unsilo dictionary`; "
    "do not edit by hand.\n\nEvery table in schema `std` also carries the lineage columns "
    + ", ".join(f"`{c}`" for c in LINEAGE_COLUMNS)
    + " (source id, run id, extraction time, hash of the business columns).\n\n"
    "The **disclosure** column says what the analysts' snapshot does with a field "
    "([de-identification](privacy-deidentification.md)): `direct` (an identifier: never leaves the working "
    "warehouse), `quasi` (identifies in combination: generalized; the list is its hierarchy, finest first, and the "
    "snapshot uses the finest level that keeps every person-level table k-anonymous, recorded in `meta.disclosure`), "
    "`pseudonym` (a keyed join key: kept), `sensitive` (what analysts study: kept), `public` (kept). In the snapshot: "
    + ", ".join(f"`{f.name}` {_disclosure(f)}" for f in LINEAGE_FIELDS + VERSION_FIELDS) + ".\n"
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
        out.append("| column | type | description | constraints | disclosure |\n|---|---|---|---|---|")
        for f in e.fields:
            out.append(f"| `{f.name}` | {f.type} | {f.description} | {_constraints(f)} | {_disclosure(f)} |")
    used = sorted({f.codelist for e in entities().values() for f in e.fields if f.codelist})
    out.append("\n# Code lists\n")
    for name in used:
        out.append(f"\n## Code list `{name}`\n\n| code | label | label (zh) |\n|---|---|---|")
        for code, row in codelist(name).items():
            out.append(f"| `{code}` | {row.get('label', '')} | {row.get('label_zh', '')} |")
    return "\n".join(out) + "\n"
