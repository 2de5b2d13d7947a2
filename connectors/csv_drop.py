"""CSV files a department drops in a folder each night, in any declared encoding (GB18030 by default here).

The file is transcoded to UTF-8 in 1 MiB chunks (bytes that do not decode become U+FFFD, which the
``undecodable-bytes`` rule then quarantines row by row: never a fatal error) and read by Arrow's streaming CSV
reader with every column as text.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pyarrow as pa
import pyarrow.csv as pacsv

from connectors.base import Connector, SourceError, days, with_source_rows

CHUNK = 1 << 20


def transcode(path: Path, encoding: str, out) -> None:
    """Stream ``path`` from ``encoding`` into the binary file ``out`` as UTF-8, replacing undecodable bytes."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            out.write(decoder.decode(chunk).encode("utf-8"))
        out.write(decoder.decode(b"", final=True).encode("utf-8"))
    out.flush()


def read_csv_file(path: Path, encoding: str, delimiter: str, batch_rows: int) -> Iterator[pa.Table]:
    """Yield tables of text columns with ``_source_row`` = ``<file name>:<line>`` (header = line 1)."""
    with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
        transcode(path, encoding, tmp)
        with open(tmp.name, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f, delimiter=delimiter), None)
        if not header:
            return
        header[0] = header[0].lstrip("\ufeff")
        line = 2
        try:
            reader = pacsv.open_csv(
                tmp.name,
                read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=max(CHUNK, batch_rows * 64)),
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                convert_options=pacsv.ConvertOptions(
                    column_types={h: pa.string() for h in header}, strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            for batch in reader:
                yield with_source_rows(batch, path.name, line)
                line += batch.num_rows
        except pa.ArrowInvalid:
            # Arrow rejects rows with fewer fields than the header (writers that leave trailing empty fields out)
            # and a header without a line break: finish the file with the csv module from the first row not yet
            # yielded, padding short rows with empty fields. A row with more fields than the header is an error.
            with open(tmp.name, encoding="utf-8", newline="") as f:
                yield from read_padded(f, path.name, header, delimiter, batch_rows, done=line - 2)


def read_padded(
    f: TextIO, name: str, header: list[str], delimiter: str, batch_rows: int, done: int = 0
) -> Iterator[pa.Table]:
    """The csv module's reading of the text stream ``f`` after its header and ``done`` records, short rows padded
    with empty fields; a row with more fields than the header raises ``ValueError``."""
    records = (r for r in csv.reader(f, delimiter=delimiter) if r)  # blank lines are skipped, as Arrow does
    next(records, None)
    rows: list[list[str]] = []
    line = 2 + done
    for number, record in enumerate(records, start=2):
        if number < line:
            continue
        if len(record) > len(header):
            raise ValueError(f"record {number} has {len(record)} fields, the header {len(header)}")
        rows.append(record + [""] * (len(header) - len(record)))
        if len(rows) >= batch_rows:
            yield with_source_rows(_table(header, rows), name, line)
            line, rows = line + len(rows), []
    if rows:
        yield with_source_rows(_table(header, rows), name, line)


def _table(header: list[str], rows: list[list[str]]) -> pa.Table:
    return pa.Table.from_arrays([pa.array(col, pa.string()) for col in zip(*rows)], names=header)


class CsvDrop(Connector):
    """Options: ``folder``, ``pattern`` (file name with ``{date:%Y%m%d}``), ``encoding``, ``delimiter``."""

    kind = "csv_drop"

    def files(self, start: dt.date, end: dt.date) -> list[Path]:
        folder = Path(self.option("folder"))
        pattern = self.option("pattern")
        out = []
        for day in days(start, end):
            path = folder / pattern.format(date=day)
            if not path.exists():
                raise SourceError(
                    f"source {self.source_id}: no file {path} for {day}: the department's drop for that night "
                    f"is missing; ask the department to deliver it, or check 'folder'/'pattern' in the source YAML"
                )
            out.append(path)
        return out

    def read(self, start: dt.date, end: dt.date) -> Iterator[pa.Table]:
        encoding = self.options.get("encoding", "utf-8")
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise SourceError(f"source {self.source_id}: unknown encoding {encoding!r} in the source YAML") from None
        for path in self.files(start, end):
            try:
                yield from read_csv_file(path, encoding, self.options.get("delimiter", ","), self.batch_rows)
            except ValueError as exc:  # pyarrow.ArrowInvalid is a ValueError
                raise SourceError(
                    f"source {self.source_id}: {path} is not a CSV file with the declared layout: {exc}; check "
                    f"'delimiter'/'encoding' in the source YAML or ask the department for a corrected drop"
                ) from None
