"""Read one CSV text as the raw records of a source, rejecting bad rows instead of failing on them.

The bytes are decoded as a stream (``io.TextIOWrapper``, undecodable bytes become U+FFFD so the
``undecodable-bytes`` rule quarantines those rows) and parsed by the ``csv`` module, whose ``line_num`` gives every
record its first *physical* line, also when quoted values span lines or lines end in CR, CRLF or LF. A record that
cannot be a row (wrong number of fields, a blank line, a footer) is passed on with ``_reject`` set to its reason and
``_raw`` holding its fields as read, never dropped and never fatal. Memory holds one batch.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import SOURCE_ROW
from connectors.csv_dialect import csv_dialect
from connectors.csv_fast import FastPathMiss, csv_fast
from connectors.encoding import SAMPLE, Decision, file_encoding
from standards.redact import looks_like_data, scrub
from standards.rejects import (
    BLANK_LINE, BLANK_ROW, COMMENT_LINE, FOOTER_ROW, RAGGED_ROW, RAW, REJECT, UNPARSEABLE_ROW,
)

csv.field_size_limit(1 << 30)
HEADER_SCAN = 50  # records looked at to find the header below a preamble


@dataclass
class CsvLayout:
    """How a department writes its CSV: every option of a ``csv_drop`` source (see docs/sources.md)."""

    encoding: str = "auto"
    delimiter: str | None = None
    quotechar: str | None = None
    header: bool = True
    header_rows: int = 1
    skip_rows: int | str = "auto"
    footer_rows: int = 0
    comment: str | None = None
    decimal_comma: bool | list[str] = False
    short_rows: str = "reject"  # or "pad": fewer fields than the header are empty trailing fields

    @classmethod
    def from_options(cls, options: dict) -> CsvLayout:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in options.items() if k in known})


@dataclass
class CsvReport:
    """What reading found out: the facts ``unsilo inspect`` shows and notes a steward should read."""

    encoding: str = ""
    encoding_how: str = ""  # the rule of connectors/encoding.py that chose it
    delimiter: str = ""
    quotechar: str = ""
    columns: list[str] = field(default_factory=list)
    header_line: int = 0
    header_lines: int = 0  # header lines read (the layout's header_rows)
    header_lines_found: int = 0  # header lines the file appears to have (2: a second header row was found)
    notes: list[str] = field(default_factory=list)


@dataclass
class CsvSniff:
    """What the first :data:`connectors.encoding.SAMPLE` bytes of a file tell before it is read."""

    decision: Decision
    sample_text: str
    complete: bool  # the sample is the whole file
    dialect: type[csv.Dialect]
    records: list[tuple[int, list[str] | None]]  # the first records of the sample
    parse_notes: list[str]  # what the csv module said about them
    preamble: int  # records above the header (auto-detected)
    header_lines: int  # 2 when the record below the header is a second header row


def csv_sniff(open_binary: Callable[[], BinaryIO], layout: CsvLayout) -> CsvSniff:
    """Encoding, dialect, preamble and header lines of a file, from a sample (``unsilo inspect`` asks this too)."""
    with open_binary() as f:
        head = f.read(SAMPLE)
    decision = file_encoding(open_binary, layout.encoding, head)
    complete = len(head) < SAMPLE
    text = head.decode(decision.encoding, errors="replace").lstrip("\ufeff")
    dialect = csv_dialect(text, layout.delimiter, layout.quotechar, complete=complete)
    parsed = CsvReport()
    reader = csv.reader(io.StringIO(text.replace("\x00", "\ufffd"), newline=""), dialect)
    records = list(itertools.islice(_records(reader, parsed), HEADER_SCAN))
    preamble = _header_index(records) if layout.header else 0
    start = preamble if layout.skip_rows == "auto" else int(layout.skip_rows)
    lines = 2 if layout.header and _second_header(records[start:], complete) else 1
    return CsvSniff(decision, text, complete, dialect, records, parsed.notes, preamble, lines)


def normalized_header(names: list[str], notes: list[str]) -> list[str]:
    """Blank names become ``column_<position>``, repeated names ``<name>_2``, ``<name>_3``; each change noted."""
    out: list[str] = []
    seen: Counter = Counter()
    for i, raw in enumerate(names, start=1):
        name = " ".join(raw.replace("\ufeff", "").split())
        if not name:
            name = f"column_{i}"
            notes.append(f"header {i} is blank: named {name}")
        seen[name] += 1
        if seen[name] > 1 or name in out:
            new = f"{name}_{seen[name]}"
            while new in out:
                seen[name] += 1
                new = f"{name}_{seen[name]}"
            notes.append(f"header {i} repeats {name!r}: named {new}" if not looks_like_data(name) else
                         f"header {i} repeats header {out.index(name) + 1} (header hidden: looks like data)")
            name = new
        out.append(name)
    return out


def _records(reader, report: CsvReport) -> Iterator[tuple[int, list[str] | None]]:
    """``(first physical line, fields)``; ``None`` fields for a record the parser gave up on."""
    while True:
        first = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report.notes.append(f"line {first}: {scrub(exc)}")
            fields = None
        yield first, fields


def _header_index(sample: list[tuple[int, list[str] | None]]) -> int:
    """How many preamble lines stand above the header: the leading records of one filled field (a title, a
    ``数据库：...`` line, a comment) when a wider record follows in the sample."""
    def filled(f):
        return sum(1 for x in f or [] if x.strip())

    for i, (_, f) in enumerate(sample):
        if filled(f) >= 2:
            return i
    return 0


def csv_read(
    open_binary: Callable[[], BinaryIO], name: str, layout: CsvLayout, batch_rows: int, report: CsvReport | None = None,
    fast: bool = True, speculate: bool = True,
) -> Iterator[pa.Table]:
    """Yield tables of text columns plus ``_reject``, ``_raw`` and ``_source_row`` = ``<name>:<line>``.

    May raise :class:`connectors.base.ReadAgain` after yielding (the fast path's one-pass read of a large file
    found a surprise late): the caller then reads again with ``speculate=False``. ``fast=False``: the exact path
    only."""
    report = report if report is not None else CsvReport()
    sniff = csv_sniff(open_binary, layout)
    dialect = sniff.dialect
    report.encoding, report.encoding_how = sniff.decision.encoding, sniff.decision.how
    report.delimiter, report.quotechar = dialect.delimiter, dialect.quotechar
    report.header_lines = int(layout.header_rows) if layout.header else 0
    report.header_lines_found = sniff.header_lines if layout.header else 0
    report.notes.extend(_sniff_notes(sniff, layout))
    notes: list[str] = []
    header = _plain_header(sniff, layout, notes) if fast else None
    if header is not None:
        decimal = set(header if layout.decimal_comma is True else (layout.decimal_comma or []))
        try:
            yield from csv_fast(open_binary, name, report.encoding, dialect, header, batch_rows,
                                lambda h, values: decimal_point(values) if h in decimal else values, speculate)
        except FastPathMiss:
            pass
        else:
            report.columns, report.header_line = header, 1
            report.notes.extend(notes)
            return
    with open_binary() as f:
        text = io.TextIOWrapper(f, encoding=report.encoding, errors="replace", newline="")
        # the csv module refuses NUL characters: make them U+FFFD, which the undecodable-bytes rule quarantines
        lines = (line.replace("\x00", "\ufffd") for line in text)
        reader = csv.reader(lines, dialect)
        records = _records(reader, report)
        yield from _rows(records, name, layout, batch_rows, report, dialect.delimiter)


def _sniff_notes(sniff: CsvSniff, layout: CsvLayout) -> list[str]:
    """What a steward should read about the encoding and the header before trusting the columns."""
    notes = []
    decision = sniff.decision
    if decision.undecodable:
        notes.append(f"encoding {decision.encoding} {decision.how} in the sample: rows holding such bytes go to "
                     f"the undecodable-bytes rule; declare 'encoding:' in the source YAML if it is not "
                     f"{decision.encoding}")
    if sniff.header_lines > int(layout.header_rows) and layout.header:
        start = sniff.preamble if layout.skip_rows == "auto" else int(layout.skip_rows)
        filled = [r for r in sniff.records[start:] if r[1]]
        notes.append(f"line {filled[1][0]} is a second header row (text in every filled cell, where the rows below "
                     f"hold numbers): declare 'header_rows: 2' in the source YAML, or it is read as a data row")
    return notes


def _plain_header(sniff: CsvSniff, layout: CsvLayout, notes: list[str]) -> list[str] | None:
    """The header when the file may take the fast path (one header record on line 1, nothing special declared),
    else ``None``."""
    dialect = sniff.dialect
    simple = (layout.header and int(layout.header_rows) == 1 and not int(layout.footer_rows) and not layout.comment
              and layout.short_rows == "reject" and layout.skip_rows in ("auto", 0, "0")
              and not dialect.skipinitialspace and dialect.quoting != csv.QUOTE_NONE)
    if not simple:
        return None
    sample = sniff.records
    if not sample or sample[0][0] != 1 or not sample[0][1] or sniff.parse_notes:
        return None
    if layout.skip_rows == "auto" and sniff.preamble:
        return None
    return normalized_header(sample[0][1], notes)


NUMERIC = re.compile(r"^[\s(+-]*[$€¥£]?\d[\d\s.,:/%)'-]*$")
NULL_TOKENS = {"na", "n/a", "nan", "null", "none", "nil", "-", "--", ".", "?"}


def _numeric(cell: str) -> bool:
    """A number, an amount, a date or a time (``6.01``, ``1,234``, ``2021/4/5``, ``1080630``, ``12:30``)."""
    return bool(NUMERIC.match(cell))


def _second_header(records: list[tuple[int, list[str] | None]], complete: bool) -> bool:
    """Whether the record right below the header (the first of ``records``) is a second header row: as wide as
    the header, at least half of it filled, every filled cell distinct text (no number, no date, no null token),
    and at least one column where it holds text while the rows below hold numbers (the type break a header makes;
    a table of names and places alone has none, so it is never taken for one). Taiwan's land-price exports put
    the English names under the Chinese ones like this."""
    rows = [f for _, f in records if f]
    if len(rows) < 3:
        return False
    header, candidate = rows[0], rows[1]
    below = rows[2:] if complete else rows[2:-1]  # the last record of a cut sample may be cut
    cells = [c.strip() for c in candidate]
    filled = [c for c in cells if c]
    if len(candidate) != len(header) or candidate == header or len(filled) * 2 < len(header):
        return False
    if len(set(filled)) < len(filled) or any(_numeric(c) or c.lower() in NULL_TOKENS for c in filled):
        return False
    below = [r for r in below if len(r) == len(header)]
    for i, cell in enumerate(cells):
        values = [r[i].strip() for r in below if r[i].strip()]
        if cell and values and sum(map(_numeric, values)) >= 0.8 * len(values):
            return True
    return False


def _rows(records, name, layout: CsvLayout, batch_rows: int, report: CsvReport, delimiter: str) -> Iterator[pa.Table]:
    comment = layout.comment  # comment lines are rows read and rejected, so they are never silently lost
    if layout.skip_rows == "auto":
        sample = list(itertools.islice(records, HEADER_SCAN))
        skip = _header_index(sample) if layout.header else 0
        records = itertools.chain(sample, records)
    else:
        skip = int(layout.skip_rows)
    for _ in range(skip):
        line, fields = next(records, (0, None))
        report.notes.append(f"line {line}: preamble before the header skipped ({len(fields or [])} field(s))")
    header_fields: list[str] = []
    if layout.header:
        parts = []
        for _ in range(int(layout.header_rows)):
            for line, fields in records:
                if fields:
                    parts.append(fields)
                    report.header_line = report.header_line or line
                    break
        if not parts:
            report.notes.append("no header: the file is empty")
            return
        width = max(len(p) for p in parts)
        header_fields = [
            " ".join(p[i].strip() for p in parts if i < len(p) and p[i].strip()) for i in range(width)
        ]
    else:
        first = list(itertools.islice(records, 1))
        if not first:
            return
        header_fields = [f"column_{i}" for i in range(1, len(first[0][1] or []) + 1)]
        records = itertools.chain(first, records)
    header = normalized_header(header_fields, report.notes)
    report.columns = header
    width = len(header)
    pad = layout.short_rows == "pad"
    decimal = header if layout.decimal_comma is True else list(layout.decimal_comma or [])

    batch = _Batch(header, name, decimal, delimiter)
    blanks: list[int] = []
    footer: deque = deque()
    for line, fields in records:
        if fields == []:
            blanks.append(line)
            continue
        for b in blanks:
            footer.append((b, [], BLANK_LINE))
        blanks = []
        if fields is None:
            reason = UNPARSEABLE_ROW
        elif comment and fields[0].startswith(comment):
            reason = COMMENT_LINE
        elif len(fields) > width or (len(fields) < width and not pad):
            reason = RAGGED_ROW
        elif all(not x.strip() for x in fields):
            reason = BLANK_ROW
        else:
            reason = None
        footer.append((line, fields or [], reason))
        while len(footer) > int(layout.footer_rows):
            batch.add(*footer.popleft())
            if batch.size >= batch_rows:
                yield batch.table()
    for line, fields, reason in footer:
        batch.add(line, fields, reason if not fields and reason else FOOTER_ROW)
    if blanks:
        report.notes.append(f"{len(blanks)} blank line(s) at the end of the file ignored")
    if batch.size:
        yield batch.table()


class _Batch:
    def __init__(self, header: list[str], name: str, decimal: list[str], delimiter: str):
        self.header, self.name, self.decimal, self.delimiter = header, name, decimal, delimiter
        self.rows: list[list[str]] = []
        self.lines: list[str] = []
        self.rejects: list[str | None] = []
        self.raws: list[str | None] = []

    @property
    def size(self) -> int:
        return len(self.rows)

    def add(self, line: int, fields: list[str], reason: str | None) -> None:
        width = len(self.header)
        self.rows.append((fields + [""] * width)[:width])
        self.lines.append(f"{self.name}:{line}")
        self.rejects.append(reason)
        self.raws.append(None if reason is None else _joined(fields, self.delimiter))

    def table(self) -> pa.Table:
        cols = list(zip(*self.rows))
        arrays = [pa.array(c, pa.string()) for c in cols]
        for i, h in enumerate(self.header):
            if h in self.decimal:
                arrays[i] = decimal_point(arrays[i])
        table = pa.Table.from_arrays(arrays, names=self.header)
        table = table.append_column(REJECT, pa.array(self.rejects, pa.string()))
        table = table.append_column(RAW, pa.array(self.raws, pa.string()))
        table = table.append_column(SOURCE_ROW, pa.array(self.lines, pa.string()))
        self.rows, self.lines, self.rejects, self.raws = [], [], [], []
        return table


def _joined(fields: list[str], delimiter: str) -> str:
    """The record's fields written back as one CSV record in the file's delimiter (quoting only where needed)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(fields)
    return out.getvalue()


DECIMAL_COMMA = r"^\s*[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+\s*$|^\s*[+-]?\d{1,3}(\.\d{3})+\s*$"


def decimal_point(values: pa.Array) -> pa.Array:
    """``1.234,5`` -> ``1234.5`` and ``200.000.000`` -> ``200000000`` where the whole value is such a number."""
    match = pc.match_substring_regex(values, DECIMAL_COMMA)
    fixed = pc.replace_substring(pc.replace_substring(values, ".", ""), ",", ".")
    return pc.if_else(pc.fill_null(match, False), fixed, values)
