"""The marts' section of the data dictionary (docs/data-dictionary.md), from the header comment of each mart."""

from __future__ import annotations

from warehouse.marts import marts


def marts_dictionary() -> str:
    out = ["\n# Marts\n",
           "Generated from the header comment of each SQL file in `warehouse/marts/`; rebuilt after every load. "
           "Schema `marts` is in the analysts' snapshot; schemas `restricted` (authorised use only, "
           "`unsilo query --working`) and `marts_raw` (the marts' cells before disclosure control, and the "
           "disclosure report) are not. Every figure of `marts` about persons or households follows disclosure "
           "control (`docs/disclosure-control.md`): counts under `UNSILO_MIN_CELL` (default 5; zeros are shown), "
           "magnitudes of few contributors or dominated by one, the cells that would give them away by subtraction "
           "from a street or district total, and rates of any of these are NULL, and the row's `suppressed` column "
           "names them.\n"]
    for m in marts():
        out.append(f"\n## `{m.name}`\n\n{m.description}\n\nSQL: `warehouse/marts/{m.path.name}`.\n")
        out.append("| column | description |\n|---|---|")
        for column, doc in m.columns.items():
            out.append(f"| `{column}` | {doc} |")
    return "\n".join(out) + "\n"
