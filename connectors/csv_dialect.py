"""Delimiter and quoting of a CSV file: declared in the source YAML, or sniffed from a sample of its text.

Python's ``csv.Sniffer`` is used (not clevercsv): it needs no new dependency, it is deterministic, and restricting it
to the delimiters departments really use (``, ; TAB |``) removes its usual misfires; a declared ``delimiter`` or
``quotechar`` always wins, and a sample it cannot decide falls back to a comma.
"""

from __future__ import annotations

import csv

DELIMITERS = ",;\t|"


def csv_dialect(
    sample: str, delimiter: str | None = None, quotechar: str | None = None, complete: bool = True
) -> type[csv.Dialect]:
    """A ``csv`` dialect for text starting with ``sample`` (``complete`` when it is the whole file)."""
    sniffed_delimiter, sniffed_quote, doublequote, escapechar, space = ",", '"', True, None, False
    if delimiter is None or quotechar is None:
        lines = sample.splitlines()
        text = "\n".join(lines if complete or len(lines) < 2 else lines[:-1])  # the last line of a cut sample
        try:
            sniffed = csv.Sniffer().sniff(text, delimiters=DELIMITERS)
            sniffed_delimiter, sniffed_quote = sniffed.delimiter, sniffed.quotechar or '"'
            doublequote, escapechar, space = sniffed.doublequote, sniffed.escapechar, sniffed.skipinitialspace
        except csv.Error:
            pass
        if delimiter is None and not _plausible(text, sniffed_delimiter):
            sniffed_delimiter = ","

    class Dialect(csv.Dialect):
        pass

    Dialect.delimiter = delimiter or sniffed_delimiter
    Dialect.quotechar = quotechar or sniffed_quote
    Dialect.doublequote = doublequote if escapechar is None else False
    Dialect.escapechar = escapechar
    Dialect.skipinitialspace = space
    Dialect.lineterminator = "\n"
    Dialect.quoting = csv.QUOTE_MINIMAL
    Dialect.strict = False
    return Dialect


def _plausible(text: str, delimiter: str) -> bool:
    """A sniffed delimiter other than a comma must appear at least as often as commas on most lines."""
    if delimiter == ",":
        return True
    lines = [ln for ln in text.splitlines() if ln.strip()][:50]
    return sum(ln.count(delimiter) >= max(1, ln.count(",")) for ln in lines) * 2 >= len(lines)
