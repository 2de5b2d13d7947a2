"""What every connector shares: the source error type, the declared options, interval days and the batch shape."""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

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


@dataclass(frozen=True)
class Option:
    """One option a source YAML may set for a connector kind (as a Singer stream or a dlt source declares its
    settings): what ``unsilo sources check`` and the published JSON Schema (sources/source.schema.json) accept.

    ``types`` are JSON Schema types; ``path`` says what a value names on disk, for confinement to the department's
    root (unsilo/department_roots.py): ``folder``, ``file`` (may hold ``{date:...}``), ``glob`` (a file, folder or
    glob), ``feed`` (a zip or a folder: every file in it), ``name`` (a file name inside the kind's folder or feed:
    no ``/`` up, no ``..``) or ``sqlite_url`` (the database file of a ``sqlite:///`` URL)."""

    name: str
    types: tuple[str, ...]
    doc: str
    default: Any = None
    required: bool = False
    path: str = ""
    enum: tuple = ()
    items: str = ""  # the JSON type of an array's items
    pattern: str = ""  # a regular expression a string value must match

    def schema(self) -> dict:
        out: dict = {"description": self.doc}
        out["type"] = self.types[0] if len(self.types) == 1 else list(self.types)
        if self.enum:
            out["enum"] = list(self.enum)
        if self.items:
            out["items"] = {"type": self.items}
        if self.pattern:
            out["pattern"] = self.pattern
        if self.default is not None:
            out["default"] = self.default
        return out


def sqlite_file(url: str) -> str | None:
    """The database file a ``sqlite:///`` (or ``duckdb:///``) SQLAlchemy URL opens; None for a server's URL or an
    in-memory database. ValueError for a ``uri=true`` URL, whose file cannot be told from its text."""
    scheme, sep, rest = str(url).partition("://")
    if not sep or scheme.split("+")[0].lower() not in ("sqlite", "duckdb"):
        return None
    database, _, query = rest.partition("?")
    if "uri" in query.lower():
        raise ValueError("a sqlite URL with uri=true names its file in a form that cannot be checked; use "
                         "sqlite:///path/to/file.db")
    database = database[1:] if database.startswith("/") else database  # sqlite:////abs -> /abs, ///rel -> rel
    return None if database in ("", ":memory:") else database


def inside(path: str | os.PathLike, roots: list[str]) -> bool:
    """Whether ``path``, resolved (symlinks followed, ``..`` folded), is one of ``roots`` or below one."""
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def outside_roots(what: str, path: str | os.PathLike, roots: list[str], department: str = "") -> str:
    """Why ``path`` is refused: the path (and what it resolves to), the roots, and how to allow another root."""
    real = os.path.realpath(path)
    shown = f"{path}" if real == str(path) else f"{path} (which resolves to {real})"
    whose = f"department {department}'s root" if department else "the department's root"
    return (f"{what} reads {shown}, outside {whose} ({' or '.join(roots)}); move the files under the root, or "
            f"allow another root with UNSILO_DEPARTMENT_ROOTS={department or '<department>'}=/path (docs/sources.md)")


def _confined_files(files: Callable) -> Callable:
    @functools.wraps(files)
    def confined(self, start: dt.date, end: dt.date) -> list:
        return [self.confined(p, f"the {self.kind} connector") for p in files(self, start, end)]

    return confined


def _confined_read(read: Callable) -> Callable:
    @functools.wraps(read)
    def confined(self, start: dt.date, end: dt.date):
        self.confine_options()
        return read(self, start, end)

    return confined


@dataclass
class Connector:
    """A source system reader: yields Arrow batches of raw string columns plus ``_source_row``.

    ``OPTIONS`` declares what a source YAML may set for the kind. When the run hands the department's roots in
    (option ``_roots``, from unsilo/source_options.py), every path the connector reads is checked at read time too,
    after the source YAML's check: each path option as the read starts and each file its ``files`` method returns
    (a symlink laid into the root after the check is caught here)."""

    source_id: str
    options: dict
    #: what a :class:`ReadAgain` taught this connector: the files it now reads the careful way
    careful: set = field(default_factory=set, init=False, repr=False, compare=False)

    kind = "base"
    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option("kind", ("string",), "the connector kind: which system is read", required=True),
        Option("batch_rows", ("integer",), "rows per Arrow batch, which bounds memory", DEFAULT_BATCH_ROWS),
    )

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "files" in cls.__dict__:
            cls.files = _confined_files(cls.__dict__["files"])
        if "read" in cls.__dict__:
            cls.read = _confined_read(cls.__dict__["read"])

    def confined(self, path, what: str):
        """``path`` when it resolves inside the department's roots (or no roots were handed in), else a
        :class:`SourceError` naming the option, the path and the roots."""
        roots = self.options.get("_roots")
        if roots is None or inside(path, roots):
            return path
        raise SourceError(f"source {self.source_id}: {outside_roots(what, path, roots, self.options.get('_department', ''))}")

    def confine_options(self) -> None:
        """Check each path option that names one place (no ``{date}``) against the roots, as a read starts."""
        if self.options.get("_roots") is None:
            return
        for opt in self.OPTIONS:
            value = self.options.get(opt.name)
            if not opt.path or not isinstance(value, str) or "{" in value or opt.path == "name":
                continue
            if opt.path == "sqlite_url":
                try:
                    value = sqlite_file(value)
                except ValueError as exc:
                    raise SourceError(f"source {self.source_id}: connector option {opt.name!r}: {exc}") from None
                if value is None:
                    continue
            if opt.path == "glob" and any(ch in value for ch in "*?["):
                continue  # each file the glob finds is checked by ``files``
            self.confined(value, f"connector option {opt.name!r}")
            if opt.path == "feed" and os.path.isdir(value):
                for entry in sorted(os.listdir(value)):
                    self.confined(os.path.join(value, entry), f"connector option {opt.name!r} ({entry})")

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
