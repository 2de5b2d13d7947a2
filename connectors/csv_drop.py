"""CSV files a department drops in a folder each night, in any encoding, dialect and layout.

Reading is :func:`connectors.csv_read.csv_read`: the encoding is declared or detected, the dialect declared or
sniffed, a preamble above the header found, and every row that cannot be a row is passed on as rejected (with its
physical line number and reason) instead of stopping the night.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from connectors.base import Connector, Option, ReadAgain, SourceError, days
from connectors.compression import CompressionError, Tail, cut_off, opener
from connectors.csv_read import CsvLayout, CsvReport, csv_read
from connectors.encoding import EncodingError, encoding
from connectors.missing_drop import MissingDrop


class CsvDrop(Connector):
    """Options: ``folder``, ``pattern`` (file name with ``{date:%Y%m%d}``) and the layout options of
    :class:`connectors.csv_read.CsvLayout` (``encoding``, ``delimiter``, ``skip_rows``, ...; docs/sources.md)."""

    kind = "csv_drop"
    OPTIONS = Connector.OPTIONS + (
        Option("folder", ("string",), "the folder the department drops files in", required=True, path="folder"),
        Option("pattern", ("string",), "the file name in the folder, with {date:%Y%m%d} for nightly files; gzip, "
               "bzip2, xz and a zip holding one CSV are read too (told by their first bytes)", required=True,
               path="name"),
        Option("member", ("string",), "the CSV inside a zip with several files (default: the only member)"),
        Option("encoding", ("string",), "a Python codec name (gb18030, cp1252, utf-16, ...) or auto", "auto"),
        Option("delimiter", ("string", "null"), "one character (default: sniffed among , ; TAB |)"),
        Option("quotechar", ("string", "null"), "the quote character (default: sniffed, \")"),
        Option("header", ("boolean",), "false: no header; columns are column_1, column_2, ...", True),
        Option("header_rows", ("integer",), "header lines; with 2 each name joins the lines' cells", 1),
        Option("skip_rows", ("integer", "string"), "lines above the header to skip, or auto", "auto"),
        Option("footer_rows", ("integer",), "trailing records that are not data (rejected as footer-row)", 0),
        Option("comment", ("string", "null"), "a line whose first cell starts with it is a comment-line"),
        Option("decimal_comma", ("boolean", "array"), "true or a list of columns: 1.234,5 becomes 1234.5", False,
               items="string"),
        Option("short_rows", ("string",), "pad: a short record gets empty trailing fields", "reject",
               enum=("reject", "pad")),
    )

    def files(self, start: dt.date, end: dt.date) -> list[Path]:
        """The drop of each day of the interval; :class:`MissingDrop` naming the days without one, unless the source
        declares ``allow_missing: true`` (handed in as ``_allow_missing``), which reads the days that have one."""
        folder = Path(self.option("folder"))
        pattern = self.option("pattern")
        out, missing = [], []
        for day in days(start, end):
            path = folder / pattern.format(date=day)
            (out if path.exists() else missing).append((day, path))
        self.missing = [path.name for _, path in missing]
        if missing and not self.options.get("_allow_missing"):
            named = ", ".join(f"{path} for {day}" for day, path in missing)
            raise MissingDrop(
                f"source {self.source_id}: no file {named}: the department's drop for that night is missing; ask "
                f"the department to deliver it, check 'folder'/'pattern' in the source YAML, or declare "
                f"'allow_missing: true' if nights without a drop are normal"
            )
        return [path for _, path in out]

    def read(self, start: dt.date, end: dt.date) -> Iterator[pa.Table]:
        """Each file's batches; :attr:`suspect` lists the files that look cut off in transfer (their rows are read
        all the same: the run decides what a suspect night does)."""
        layout = self.layout()
        self.reports: list[CsvReport] = []
        self.suspect: list[str] = []
        for path in self.files(start, end):
            report = CsvReport()
            self.reports.append(report)
            tail = Tail()
            try:
                yield from csv_read(self.opener(path, tail), path.name, layout, self.batch_rows, report,
                                    speculate=path not in self.careful)
            except ReadAgain:
                self.careful.add(path)
                raise
            except CompressionError as exc:
                raise SourceError(str(exc)) from None
            why = cut_off(tail.data, report.encoding, report.delimiter, report.quotechar, len(report.columns))
            if why:
                self.suspect.append(f"{path.name} looks cut off: {why}")

    def opener(self, path: Path, tail: Tail | None = None):
        """How to open the CSV bytes of ``path``: the file, its gzip/bzip2/xz stream, or the one CSV inside a zip
        (``member`` option), told by the file's first bytes (connectors/compression.py)."""
        try:
            return opener(path, self.source_id, self.options.get("member"), tail)
        except CompressionError as exc:
            raise SourceError(str(exc)) from None

    def layout(self) -> CsvLayout:
        try:
            layout = CsvLayout.from_options(self.options)
            encoding(b"", layout.encoding)
        except (TypeError, EncodingError) as exc:
            raise SourceError(f"source {self.source_id}: {exc} in the source YAML's connector options") from None
        return layout
