"""The fast path of CSV reading: Arrow's parser in C, used when it gives exactly what the csv module would.

A well-formed export (header on line 1, one record per line, every record as wide as the header) is parsed by
Arrow's multi-threaded streaming reader. The physical line of record *i* is *i* + 2 exactly when Arrow's record
count plus the header equals the number of lines in the file, every line break is LF or CRLF and no line is blank.

A UTF-8 file is read *speculatively*, in one pass: Arrow reads it through :class:`_Counting`, which counts its
lines and looks for NULs on the bytes as Arrow takes them, and each batch is passed on only once the next one has
been parsed, the last only once the counts fit. So a file of one batch is never passed on wrongly, and a larger file
whose surprise comes late (a quoted line break, a NUL, a ragged row in its last block) raises
:class:`connectors.base.ReadAgain` after its first batches: the reader drops what it landed and reads once more,
and the connector then reads that file the careful way. (Counting first, the previous design, cost one extra parse
on every clean file, ~0.8 s per million rows, to save a second read of the rare bad one.)

The careful way (other encodings, invalid UTF-8, NULs, or after a ReadAgain): transcode to a UTF-8 copy in 1 MiB
chunks (undecodable bytes and NULs become U+FFFD, as on the exact path), count its lines, parse it once only
counting, and pass batches on only when the counts fit. Any surprise there raises :class:`FastPathMiss` before
anything is passed on, and the caller reads the file with the exact csv-module path (``connectors.csv_read``),
which rejects such rows one by one with their line numbers.
"""

from __future__ import annotations

import atexit
import codecs
import tempfile
import weakref
from collections.abc import Callable, Iterator
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.base import ReadAgain, with_source_rows
from standards.redact import scrub
from standards.rejects import BLANK_ROW, RAW, REJECT

CHUNK = 1 << 20
#: Generators of this module not yet finished. One dropped half-way but not yet finalized keeps an Arrow reader
#: open whose read-ahead threads call back into Python (the counting file); at interpreter exit they then abort the
#: process ("terminate called without an active exception", "PyGILState_Release"). :func:`_close_open_readers`
#: closes them (and so their readers) while the interpreter is still whole.
_OPEN: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_open_readers() -> None:
    for reading in list(_OPEN):
        reading.close()


def _closed_at_exit(generator_function):
    def start(*args, **kwargs):
        reading = generator_function(*args, **kwargs)
        _OPEN.add(reading)
        return reading

    start.__doc__, start.__name__ = generator_function.__doc__, generator_function.__name__
    return start


class _Lines:
    """Counts the lines of a text fed in pieces (all ``str`` or all ``bytes``: UTF-8 bytes count alike) and notes
    whether every line break is LF or CRLF and no line is blank."""

    def __init__(self, empty: str | bytes):
        self.lit = (lambda x: x) if isinstance(empty, str) else (lambda x: x.encode())
        self.newlines = self.lone_cr = 0
        self.blank = False
        self.ends_with_newline = True
        self.previous = empty

    def feed(self, text) -> None:
        if not text:
            return
        lit, previous = self.lit, self.previous
        edge = previous + text[:2]  # patterns across the boundary with the previous piece (its last 2 characters)
        cr = lit("\r") in text  # a search as fast as memchr: most files have no CR, or only in CRLF
        self.blank = (self.blank or lit("\n\n") in edge or lit("\n\r\n") in edge or lit("\n\n") in text
                      or (cr and lit("\n\r\n") in text))
        if cr:
            self.lone_cr += text.count(lit("\r")) - text.count(lit("\r\n"))
        if previous.endswith(lit("\r")) and text.startswith(lit("\n")):
            self.lone_cr -= 1  # a CRLF split between the pieces
        self.newlines += text.count(lit("\n"))
        self.ends_with_newline = text.endswith(lit("\n"))
        self.previous = edge[-2:] if len(text) < 2 else text[-2:]

    def result(self) -> tuple[int, bool]:
        """(lines, plain line breaks)."""
        newlines, lone_cr, ends = self.newlines, self.lone_cr, self.ends_with_newline
        if self.previous.endswith(self.lit("\r")):
            lone_cr -= 1  # a final CR is a line end, counted once more below
            newlines += 1
            ends = True
        return newlines + (0 if ends else 1), lone_cr <= 0 and not self.blank


def _transcode(open_binary: Callable[[], BinaryIO], encoding: str, out) -> tuple[int, bool]:
    """Write the file as UTF-8 into ``out``; return (lines, whether every line break is LF or CRLF and no line is
    blank)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    lines = _Lines("")
    with open_binary() as f:
        while True:
            chunk = f.read(CHUNK)
            text = decoder.decode(chunk, final=not chunk).replace("\x00", "\ufffd")
            lines.feed(text)
            out.write(text.encode("utf-8"))
            if not chunk:
                break
    out.flush()
    return lines.result()


class FastPathMiss(Exception):
    """This file needs the exact path; raised before the fast path has passed anything on."""


class _Counting:
    """A binary file Arrow reads through: counts the lines of what it hands out and notes a NUL (which the exact
    path turns into U+FFFD, so the file must be transcoded)."""

    def __init__(self, f: BinaryIO):
        self.f = f
        self.lines = _Lines(b"")
        self.nul = False

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.nul = self.nul or b"\x00" in data
        self.lines.feed(data)
        return data

    @property
    def closed(self) -> bool:
        return self.f.closed

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        pass  # the caller's ``with`` closes the file


def csv_fast(
    open_binary: Callable[[], BinaryIO], name: str, encoding: str, dialect, header: list[str], batch_rows: int,
    decimal: Callable[[str, pa.Array], pa.Array], speculate: bool = True,
) -> Iterator[pa.Table]:
    """Batches as the exact path would give them. Raises :class:`FastPathMiss` before yielding anything when this
    file needs the exact path, :class:`ReadAgain` when it finds that out after yielding (see the module's doc).
    ``speculate=False``: no one-pass read (the file raised ReadAgain before)."""
    utf8 = codecs.lookup(encoding).name == "utf-8"
    if utf8 and speculate:
        given = 0
        try:
            for batch in _speculative(open_binary, dialect, header, batch_rows):
                yield _table(batch, name, dialect, header, decimal, 2 + given)
                given += batch.num_rows
            return
        except (_Fallback, pa.ArrowInvalid) as exc:
            if given:
                raise ReadAgain(f"{name}: not a plain CSV after line {given + 1} ({scrub(exc) or 'its line count does not fit'}); "
                                f"read again the careful way") from None
    # other encodings, UTF-8 with NULs or invalid bytes (Arrow refuses them): a UTF-8 copy with U+FFFD for those
    with tempfile.NamedTemporaryFile(suffix=".csv") as text:
        try:
            lines, plain_breaks = _transcode(open_binary, encoding, text)
            if not plain_breaks:
                raise _Fallback
            with open(text.name, "rb") as f, _reader(f, dialect, header, batch_rows) as reader:
                rows = sum(batch.num_rows for batch in reader)
            if rows + 1 != lines:
                raise _Fallback
        except (_Fallback, pa.ArrowInvalid, UnicodeError):
            raise FastPathMiss(name) from None
        line = 2
        with open(text.name, "rb") as f, _reader(f, dialect, header, batch_rows) as reader:
            for batch in reader:
                yield _table(batch, name, dialect, header, decimal, line)
                line += batch.num_rows


@_closed_at_exit
def _speculative(open_binary, dialect, header: list[str], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Arrow's batches of the file as it is, each passed on once the next is parsed and the last once the line
    count fits; raises :class:`_Fallback` or ``ArrowInvalid`` when the file is not plain."""
    with open_binary() as raw:
        f = _Counting(raw)
        pending, rows = None, 0
        # closed on every way out (a generator dropped half-way too): Arrow's read-ahead threads are joined here,
        # not at interpreter exit, where a thread still running aborts the process ("terminate called ...")
        with _reader(f, dialect, header, batch_rows) as reader:
            for batch in reader:
                if f.nul:
                    raise _Fallback("a NUL byte")
                if pending is not None:
                    yield pending
                pending, rows = batch, rows + batch.num_rows
        lines, plain_breaks = f.lines.result()
        if f.nul or not plain_breaks or rows + 1 != lines:
            raise _Fallback
        if pending is not None:
            yield pending


class _Fallback(Exception):
    pass


def _reader(f: BinaryIO, dialect, header: list[str], batch_rows: int) -> pacsv.CSVStreamingReader:
    return pacsv.open_csv(
        f,
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=max(CHUNK, batch_rows * 128)),
        parse_options=pacsv.ParseOptions(
            delimiter=dialect.delimiter, quote_char=dialect.quotechar or False, double_quote=dialect.doublequote,
            escape_char=dialect.escapechar or False, newlines_in_values=False, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )


def _table(batch: pa.RecordBatch, name: str, dialect, header: list[str], decimal, line: int) -> pa.Table:
    """One batch as the exact path gives it: decimal commas read, all-blank rows rejected, ``_source_row``."""
    columns = [decimal(h, batch.column(h)) for h in header]
    blank = None
    for col in columns:
        empty = pc.equal(pc.utf8_trim_whitespace(col), "")
        blank = empty if blank is None else pc.and_(blank, empty)
    n = batch.num_rows
    reject = pc.if_else(blank, pa.scalar(BLANK_ROW), pa.nulls(n, pa.string()))
    raw = pc.if_else(blank, pc.binary_join_element_wise(*columns, dialect.delimiter), pa.nulls(n, pa.string()))
    table = pa.Table.from_arrays([*columns, reject, raw], names=[*header, REJECT, RAW])
    return with_source_rows(table, name, line)
