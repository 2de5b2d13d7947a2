"""The fast path of CSV reading: Arrow's parser in C, used when it gives exactly what the csv module would.

A well-formed export (header on line 1, one record per line, every record as wide as the header) is transcoded to
UTF-8 in 1 MiB chunks (undecodable bytes and NULs become U+FFFD, as on the exact path) and parsed by Arrow's
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


def _transcode(open_binary: Callable[[], BinaryIO], encoding: str, out) -> tuple[int, bool]:
    """Write the file as UTF-8 into ``out``; return (lines, whether every line break is LF or CRLF and no line is
    blank)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    newlines = lone_cr = 0
    blank = False
    ends_with_newline = True
    previous = ""
    with open_binary() as f:
        while True:
            chunk = f.read(CHUNK)
            text = decoder.decode(chunk, final=not chunk).replace("\x00", "\ufffd")
            if text:
                joined = previous[-1:] + text
                blank = blank or "\n\n" in previous[-2:] + text or "\n\r\n" in previous[-2:] + text
                lone_cr += joined.count("\r") - joined.count("\r\n") - (1 if previous.endswith("\r") else 0)
                newlines += text.count("\n")
                ends_with_newline = text.endswith("\n")
                previous = text
                out.write(text.encode("utf-8"))
            if not chunk:
                break
    if previous.endswith("\r"):
        lone_cr -= 1  # a final CR is a line end, counted once more below
        newlines += 1
        ends_with_newline = True
    out.flush()
    lines = newlines + (0 if ends_with_newline else 1)
    return lines, lone_cr <= 0 and not blank


def csv_fast(
    open_binary: Callable[[], BinaryIO], name: str, encoding: str, dialect, header: list[str], batch_rows: int,
    decimal: Callable[[str, pa.Array], pa.Array],
) -> Iterator[pa.Table] | None:
    """Batches as the exact path would give them, or ``None`` when this file needs the exact path."""
    text = tempfile.NamedTemporaryFile(suffix=".csv")
    try:
        lines, plain_breaks = _transcode(open_binary, encoding, text)
        if not plain_breaks:
            raise _Fallback
        rows = sum(batch.num_rows for batch in _reader(text.name, dialect, header, batch_rows))
        if rows + 1 != lines:
            raise _Fallback
    except (_Fallback, pa.ArrowInvalid, UnicodeError):
        text.close()
        return None
    return _batches(text, name, dialect, header, batch_rows, decimal)


class _Fallback(Exception):
    pass


def _reader(path: str, dialect, header: list[str], batch_rows: int) -> pacsv.CSVStreamingReader:
    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=max(CHUNK, batch_rows * 128)),
        parse_options=pacsv.ParseOptions(
            delimiter=dialect.delimiter, quote_char=dialect.quotechar or False, double_quote=dialect.doublequote,
            escape_char=dialect.escapechar or False, newlines_in_values=False, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )


def _batches(text, name, dialect, header, batch_rows, decimal) -> Iterator[pa.Table]:
    try:
        line = 2
        for batch in _reader(text.name, dialect, header, batch_rows):
            columns = [decimal(h, batch.column(h)) for h in header]
            blank = None
            for col in columns:
                empty = pc.equal(pc.utf8_trim_whitespace(col), "")
                blank = empty if blank is None else pc.and_(blank, empty)
            n = batch.num_rows
            reject = pc.if_else(blank, pa.scalar(BLANK_ROW), pa.nulls(n, pa.string()))
            raw = pc.if_else(blank, pc.binary_join_element_wise(*columns, dialect.delimiter), pa.nulls(n, pa.string()))
            table = pa.Table.from_arrays([*columns, reject, raw], names=[*header, REJECT, RAW])
            yield with_source_rows(table, name, line)
            line += n
    finally:
        text.close()
