"""CSV files a department drops in a folder each night, in any encoding, dialect and layout.

Reading is :func:`connectors.csv_read.csv_read`: the encoding is declared or detected, the dialect declared or
sniffed, a preamble above the header found, and every row that cannot be a row is passed on as rejected (with its
physical line number and reason) instead of stopping the night.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from connectors.base import Connector, Option, ReadAgain, SourceError, days
from connectors.csv_read import CsvLayout, CsvReport, csv_read
from connectors.encoding import EncodingError, encoding


class CsvDrop(Connector):
    """Options: ``folder``, ``pattern`` (file name with ``{date:%Y%m%d}``) and the layout options of
    :class:`connectors.csv_read.CsvLayout` (``encoding``, ``delimiter``, ``skip_rows``, ...; docs/sources.md)."""

    kind = "csv_drop"
    OPTIONS = Connector.OPTIONS + (
        Option("folder", ("string",), "the folder the department drops files in", required=True, path="folder"),
        Option("pattern", ("string",), "the file name in the folder, with {date:%Y%m%d} for nightly files; a .zip "
               "holding one CSV is read too", required=True, path="name"),
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
        layout = self.layout()
        self.reports: list[CsvReport] = []
        for path in self.files(start, end):
            report = CsvReport()
            self.reports.append(report)
            try:
                yield from csv_read(self.opener(path), path.name, layout, self.batch_rows, report,
                                    speculate=path not in self.careful)
            except ReadAgain:
                self.careful.add(path)
                raise

    def opener(self, path: Path):
        """How to open the CSV bytes of ``path``: the file, or the one CSV inside a zip (``member`` option)."""
        if path.suffix.lower() != ".zip":
            return lambda: path.open("rb")
        try:
            with zipfile.ZipFile(path) as z:
                names = [n for n in z.namelist() if not n.endswith("/")]
        except zipfile.BadZipFile:
            raise SourceError(f"source {self.source_id}: {path} ends in .zip but is not a zip file") from None
        member = self.options.get("member") or (names[0] if len(names) == 1 else None)
        if member not in names:
            raise SourceError(
                f"source {self.source_id}: {path} holds {', '.join(names) or 'nothing'}: name the CSV to read with "
                f"'member' in the source YAML"
            )
        return lambda: zipfile.ZipFile(path).open(member)

    def layout(self) -> CsvLayout:
        try:
            layout = CsvLayout.from_options(self.options)
            encoding(b"", layout.encoding)
        except (TypeError, EncodingError) as exc:
            raise SourceError(f"source {self.source_id}: {exc} in the source YAML's connector options") from None
        return layout
