"""The fast path of CSV reading: Arrow's parser in C, used when it gives exactly what the csv module would.

A well-formed export (header on line 1, one record per line, every record as wide as the header) is transcoded to
UTF-8 in 1 MiB chunks (undecodable bytes and NULs become U+FFFD, as on the exact path) — a UTF-8 file without NULs
is only scanned, its lines counted on the bytes, and read as it is — and parsed by Arrow's
multi-threaded streaming reader twice: once only to count the records, then to pass them on batch by batch. The
physical line of record *i* is *i* + 2 exactly when Arrow's record count plus the header equals the number of lines
in the file, and that is known before anything is passed on. Any surprise — a record wider or narrower than the
header, a quoted value spanning lines, a blank line, a lone CR line ending — makes :func:`csv_fast` return ``None``
before it has yielded anything, and the caller reads the file with the exact csv-module path
(``connectors.csv_read``), which rejects such rows one by one with their line numbers. (Counting first costs one
extra parse, ~0.8 s per million rows here; it replaced staging the whole file as Parquet and reading it back,
which cost twice that.)
"""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Callable, Iterator
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.base import SOURCE_ROW, with_source_rows
from standards.rejects import BLANK_ROW, RAW, REJECT

CHUNK = 1 << 20


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
        self.blank = self.blank or any(lit(p) in t for p in ("\n\n", "\n\r\n") for t in (edge, text))
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


def _scan_utf8(open_binary: Callable[[], BinaryIO]) -> tuple[int, bool] | None:
    """For a UTF-8 file: (lines, plain line breaks) counted on the bytes, or ``None`` when it holds a NUL (which the
    exact path turns into U+FFFD, so it must be transcoded). Invalid UTF-8 is left to Arrow, which refuses it."""
    lines = _Lines(b"")
    with open_binary() as f:
        while chunk := f.read(CHUNK):
            if b"\x00" in chunk:
                return None
            lines.feed(chunk)
    return lines.result()


def csv_fast(
    open_binary: Callable[[], BinaryIO], name: str, encoding: str, dialect, header: list[str], batch_rows: int,
    decimal: Callable[[str, pa.Array], pa.Array],
) -> Iterator[pa.Table] | None:
    """Batches as the exact path would give them, or ``None`` when this file needs the exact path."""
    utf8 = codecs.lookup(encoding).name == "utf-8"
    if utf8:
        counted = _scan_utf8(open_binary)
        if counted is not None:  # UTF-8 as it is, without a copy: Arrow reads the file itself
            batches = _counted(open_binary, None, counted, name, dialect, header, batch_rows, decimal)
            if batches is not None:
                return batches
    # other encodings, UTF-8 with NULs or invalid bytes (Arrow refuses them): a UTF-8 copy with U+FFFD for those
    text = tempfile.NamedTemporaryFile(suffix=".csv")
    try:
        counted = _transcode(open_binary, encoding, text)
    except UnicodeError:
        text.close()
        return None
    path = text.name
    return _counted(lambda: open(path, "rb"), text, counted, name, dialect, header, batch_rows, decimal)


def _counted(source, text, counted, name, dialect, header, batch_rows, decimal) -> Iterator[pa.Table] | None:
    """The batches of ``source`` when Arrow's record count fits the counted lines, else ``None``."""
    lines, plain_breaks = counted
    try:
        if not plain_breaks:
            raise _Fallback
        with source() as f:
            rows = sum(batch.num_rows for batch in _reader(f, dialect, header, batch_rows))
        if rows + 1 != lines:
            raise _Fallback
    except (_Fallback, pa.ArrowInvalid):
        if text is not None:
            text.close()
        return None
    return _batches(source, text, name, dialect, header, batch_rows, decimal)


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


def _batches(source, text, name, dialect, header, batch_rows, decimal) -> Iterator[pa.Table]:
    try:
        line = 2
        with source() as f:
            for batch in _reader(f, dialect, header, batch_rows):
                columns = [decimal(h, batch.column(h)) for h in header]
                blank = None
                for col in columns:
                    empty = pc.equal(pc.utf8_trim_whitespace(col), "")
                    blank = empty if blank is None else pc.and_(blank, empty)
                n = batch.num_rows
                reject = pc.if_else(blank, pa.scalar(BLANK_ROW), pa.nulls(n, pa.string()))
                raw = pc.if_else(blank, pc.binary_join_element_wise(*columns, dialect.delimiter),
                                 pa.nulls(n, pa.string()))
                table = pa.Table.from_arrays([*columns, reject, raw], names=[*header, REJECT, RAW])
                yield with_source_rows(table, name, line)
                line += n
    finally:
        if text is not None:
            text.close()
