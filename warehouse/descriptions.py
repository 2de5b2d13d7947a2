"""What every analyst-facing table and view is, in words: from the standard (``std``), from the header comment of
each mart's SQL file (``marts``, ``restricted``) and for the few ``meta`` tables, from here.

Used for the snapshot's DuckDB comments (``unsilo tables``, the ``duckdb`` CLI's ``duckdb_tables()``) and the
data dictionary's marts section.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from standards.ddl import HISTORY_COLUMNS
from standards.entity import entities
from warehouse.marts import marts

META = {
    "meta.ledger": "One row per run of a source for a data interval: extracted = loaded + quarantined + unchanged.",
    "meta.validation_result": "Every expectation of every run, with its unexpected and element counts.",
    "meta.quarantine": "Rows that failed a rule, with the source record as received (stewards only: holds raw IDs).",
    "meta.source_state": "Each source's incremental cursor, written in the same transaction as its load.",
    "meta.snapshot": "When this read-only snapshot was published.",
    "meta.disclosure": "The re-identification gate's findings for this snapshot, per person-level table and scope "
                       "(own: its quasi-identifiers; joined: with the person's joined on person_key): k required and "
                       "achieved (smallest class, in distinct persons), records, share of unique records, records at "
                       "risk and suppressed, and the generalization used.",
}
VERSION_DOCS = {
    "valid_from": "Start of the data interval of the night that loaded this version (inclusive).",
    "valid_to": "Start of the night that replaced this version (exclusive); NULL while current.",
    "is_current": "True for the version in force now (valid_to IS NULL).",
}
assert set(VERSION_DOCS) == set(HISTORY_COLUMNS)


@dataclass(frozen=True)
class Description:
    table: str
    columns: dict[str, str] = field(default_factory=dict)


def descriptions() -> dict[str, Description]:
    """``schema.name`` -> its description and its columns' descriptions."""
    out: dict[str, Description] = {}
    for e in entities().values():
        cols = {f.name: f.description for f in e.fields}
        if e.history == "scd2":
            out[e.history_table] = Description(f"{e.title}: every version (history: scd2). {e.description}",
                                               {**cols, **VERSION_DOCS})
            out[e.table] = Description(f"{e.title}: current versions. {e.description}",
                                       {**cols, "valid_from": VERSION_DOCS["valid_from"]})
        else:
            out[e.table] = Description(f"{e.title}. {e.description}", cols)
    for name, text in META.items():
        out[name] = Description(text)
    for m in marts():
        out[m.name] = Description(m.description, m.columns)
    return out
