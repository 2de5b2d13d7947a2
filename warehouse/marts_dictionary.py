"""The marts' section of the data dictionary (docs/data-dictionary.md), from the header comment of each mart."""

from __future__ import annotations

from warehouse.marts import marts


def marts_dictionary() -> str:
    out = ["\n# Marts\n",
           "Generated from the header comment of each SQL file in `warehouse/marts/`; rebuilt after every load. "
           "Schema `marts` is in the analysts' snapshot; schema `restricted` is not (authorised use only, "
           "`unsilo query --working`). Community figures of cells with fewer than `UNSILO_MIN_CELL` (default 5) "
           "residents are NULL.\n"]
    for m in marts():
        out.append(f"\n## `{m.name}`\n\n{m.description}\n\nSQL: `warehouse/marts/{m.path.name}`.\n")
        out.append("| column | description |\n|---|---|")
        for column, doc in m.columns.items():
            out.append(f"| `{column}` | {doc} |")
    return "\n".join(out) + "\n"
