"""What every connector shares: the source error type, interval days and the batch shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_BATCH_ROWS = 50_000
SOURCE_ROW = "_source_row"


class SourceError(RuntimeError):
    """The source cannot be read as declared; the message names the source, the file or table and what to do."""


class ReadAgain(Exception):
    """Raised by a connector's ``read`` after batches it already gave turned out to differ from what a careful
    reading gives (the CSV fast path finding a quoted line break late in a large file): drop every batch of this
    ``read`` and call it once more; the connector remembers and reads that file the careful way."""


def read_all(read: Callable[[], Iterable]) -> list:
    """Every batch of ``read()``, read once more if it raises :class:`ReadAgain`."""
    try:
        return list(read())
    except ReadAgain:
        return list(read())


@dataclass
class Connector:
    """A source system reader: yields Arrow batches of raw string columns plus ``_source_row``."""

    source_id: str
    options: dict
    #: what a :class:`ReadAgain` taught this connector: the files it now reads the careful way
    careful: set = field(default_factory=set, init=False, repr=False, compare=False)

    kind = "base"

    def read(self, start: dt.date, end: dt.date) -> Iterator[pa.RecordBatch]:  # pragma: no cover - interface
        raise NotImplementedError

    def option(self, name: str, default=None):
        if name in self.options:
            return self.options[name]
        if default is None:
            raise SourceError(f"source {self.source_id}: connector option {name!r} is missing (kind {self.kind})")
        return default

    @property
    def batch_rows(self) -> int:
        return int(self.options.get("batch_rows", DEFAULT_BATCH_ROWS))


def days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """The calendar days of the interval ``[start, end)``."""
    d = start
    while d < end:
        yield d
        d += dt.timedelta(days=1)


def with_source_rows(table: pa.Table | pa.RecordBatch, prefix: str, first_line: int) -> pa.Table:
    """Add ``_source_row`` = ``<prefix>:<line>`` numbering rows from ``first_line``, vectorized."""
    n = table.num_rows
    lines = pc.cast(pa.array(np.arange(first_line, first_line + n, dtype=np.int64)), pa.string())
    rows = pc.binary_join_element_wise(pa.repeat(pa.scalar(prefix, pa.string()), n), lines, ":")
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    return table.append_column(SOURCE_ROW, rows)


def as_strings(table: pa.Table) -> pa.Table:
    """Cast every column to string: raw records land as text, typing is the standard's job."""
    return pa.table({name: pc.cast(col, pa.string()) for name, col in zip(table.column_names, table.columns)})
