"""Schema drift: the raw columns a source delivers against what its YAML expects.

The reference is the YAML's ``columns`` list when it has one, else the columns of the source's last load that put
rows into the warehouse (kept in ``meta.source_state``; a load that quarantined every row, or a failed run, leaves
that baseline as it was: warehouse/state.py) together with every column the mapping reads. Columns that appeared
fail the source unless the YAML says ``tolerate_new_columns: true``; columns that vanished always fail it. A vanished
and an appeared column at the same place are named as a probable rename. Only that source fails; the night goes on.

The message names columns, never values: a header name that is not a column the source knows is shown only when
it does not look like data (:func:`standards.redact.shown_header`), so a drop without its header row, whose first
data row was read as the header, is reported by column positions, not by the ID numbers and names in that row.
"""

from __future__ import annotations

from standards.redact import HIDDEN_NOTE, shown_header
from standards.rejects import RESERVED
from standards.transform import META_COLUMNS


class SchemaDriftError(ValueError):
    """The source's columns changed against its YAML; the message names the columns and the YAML to fix."""


def raw_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if c not in META_COLUMNS and c not in RESERVED]


def mapped_columns(source: dict) -> set[str]:
    out = set()
    for spec in (source.get("fields") or {}).values():
        if isinstance(spec, str):
            out.add(spec)
        elif isinstance(spec, dict) and "from" in spec:
            out.add(spec["from"])
    return out


def schema_drift(source: dict, columns: list[str], saved: dict | None) -> list[str]:
    """Raise :class:`SchemaDriftError` when the columns drifted; return notes for tolerated additions."""
    got = raw_columns(columns)
    declared = source.get("columns")
    if declared is not None:
        expected = [str(c) for c in declared]
    elif saved and saved.get("columns"):
        expected = list(saved["columns"]) + sorted(mapped_columns(source) - set(saved["columns"]))
    else:
        expected = sorted(mapped_columns(source))
        declared = None
    new = [c for c in got if c not in expected]
    gone = [c for c in expected if c not in got]
    if declared is None and not (saved and saved.get("columns")):
        new = []  # first run without a declared list: nothing to compare additions with yet
    shown = dict(zip(got, shown_header(got, set(expected) | mapped_columns(source))))
    yaml = source.get("path") or f"sources/{source['id']}.yaml"
    tolerate = bool(source.get("tolerate_new_columns"))
    if not gone and (not new or tolerate):
        return [f"new column {shown[c]} tolerated (tolerate_new_columns)" for c in new]
    parts = []
    if new:
        parts.append(f"new column{'s' if len(new) > 1 else ''} {_names([shown[c] for c in new])}")
    if gone:
        parts.append(f"missing column{'s' if len(gone) > 1 else ''} {', '.join(gone)}")
    if len(new) > 1 and all(shown[c] != c for c in new):  # a data row read as the header: no renames
        hint = ("; the line read as the header looks like a data row: is the file's header row missing, or is it "
                "in another encoding than the YAML says? (stewards find the file's rows in the landing file)")
    else:
        renames = [f"{g} -> {shown[n]}" for g, n in zip(gone, new) if expected.index(g) == got.index(n)]
        hint = f" (renamed? {', '.join(renames)})" if renames else ""
    fix = "declare the columns it now has in 'columns' and fix the field mapping"
    if new and not gone:
        fix += ", or set 'tolerate_new_columns: true'"
    raise SchemaDriftError(
        f"source {source['id']}: the source's columns changed: {'; '.join(parts)}{hint}; {fix} in {yaml}, "
        f"or ask the department why its export changed"
    )


def _names(shown: list[str]) -> str:
    """``a, b, at positions 3, 4, 5 (header hidden: looks like data)``: hidden names told once, by position."""
    plain = [s for s in shown if not s.endswith(HIDDEN_NOTE)]
    hidden = [s.split()[1] for s in shown if s.endswith(HIDDEN_NOTE)]
    if hidden:
        plain.append(f"at position{'s' if len(hidden) > 1 else ''} {', '.join(hidden)} {HIDDEN_NOTE}")
    return ", ".join(plain)
