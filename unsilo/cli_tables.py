"""The CLI's tables, readable at 80 columns: keys, codes and ids are never cut.

A key column (a name ending in ``_key``, ``_code`` or ``_id``, or ``id``, ``source``, ``status``...) keeps its
longest value's width (up to 40), so a 32-hex ``person_key`` or a 12-digit ``community_code`` shows whole on one
line; figures keep their digits. The room left goes to the free-text columns (descriptions, rule lists, a run id)
first, then to long headers: what does not fit folds onto more lines, never losing a character to an ellipsis.
"""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

KEY_NAMES = {"id", "source", "interval", "interval_start", "interval_end", "department", "entity", "connector",
             "status", "kind", "name", "source_row", "schedule"}
NUMBER_NAMES = {"extracted", "loaded", "quarantined", "unchanged", "rows"}
KEY_WIDTH = 40  # a key longer than this folds
TEXT_WIDTH = 12  # a free-text column keeps at least this much (or its longest value)


def is_key(name: str) -> bool:
    """A key or a code: kept whole (a run id is long and only looked up: it folds like free text)."""
    return name in KEY_NAMES or name != "run_id" and name.endswith(("_key", "_code", "_id", "_at", "_on", "_date"))


def _fit(want: list[int], must: list[int], order: list[int], room: int) -> list[int]:
    """Widths from ``want`` down toward ``must`` until they add up to ``room``, taking from the columns of ``order``
    (free text first) one character at a time from the widest."""
    widths = list(want)
    for group in (order, range(len(widths))):
        while sum(widths) > room:
            slack = [i for i in group if widths[i] > must[i]]
            if not slack:
                break
            widths[max(slack, key=lambda i: widths[i])] -= 1
    return widths


def _table(title: str | None) -> Table:
    """No outer frame, a rule under the header, one space either side of the column separator."""
    return Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)


def _overhead(n: int) -> int:
    """The characters a row of ``n`` columns spends on separators and padding (measured, as rich lays it out)."""
    table = _table(None)
    for _ in range(n):
        table.add_column(width=1)
    table.add_row(*("x" * n))
    console = Console(width=10 * n + 10, file=io.StringIO(), color_system=None)
    console.print(table)
    return max(len(line) for line in console.file.getvalue().splitlines()) - n


def cli_table(columns, rows, title: str | None = None, width: int | None = None) -> Table:
    """A table of ``columns`` (names) and ``rows`` (sequences of strings, rich markup allowed) for a console of
    ``width`` columns (default: the terminal's, or ``COLUMNS``)."""
    rows = [tuple(str(c) for c in r) for r in rows]
    width = width or Console().width
    want, must, text = [], [], []
    for i, name in enumerate(columns):
        widest = max((Text.from_markup(r[i]).cell_len for r in rows), default=0)
        want.append(max(widest, len(name), 1))
        if name in NUMBER_NAMES:
            must.append(max(widest, 1))
        elif is_key(name):
            must.append(max(min(widest, KEY_WIDTH), 1))
        else:
            must.append(max(min(widest, TEXT_WIDTH), 1))
            text.append(i)
    widths = _fit(want, must, text, width - _overhead(len(columns)))
    table = _table(title)
    for name, w in zip(columns, widths):
        table.add_column(name, width=w, overflow="fold", justify="right" if name in NUMBER_NAMES else "left")
    for r in rows:
        table.add_row(*r)
    return table
