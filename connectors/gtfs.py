"""One file of a GTFS feed (zip or folder): ``stops.txt``, ``routes.txt``, ... as text columns.

GTFS files are UTF-8 CSV with a header (the spec): they are read by :func:`connectors.csv_read.csv_read` with that
layout fixed, so a ragged row or a blank line is rejected row by row, never fatal. A zip past the size or ratio
limits of :mod:`connectors.archive_limits` is refused whole, naming the file and the limit.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from connectors.archive_limits import ArchiveRefused, check_archive, read_member
from connectors.base import Connector, Option, ReadAgain, SourceError
from connectors.csv_read import CsvReport, csv_read
from connectors.gtfs_check import GTFS_LAYOUT, gtfs_check


class Gtfs(Connector):
    """Options: ``path`` (a GTFS zip or folder), ``file`` (e.g. ``stops.txt``), ``validate`` (default true: a feed
    that fails :func:`connectors.gtfs_check.gtfs_check` is rejected whole, naming each reason)."""

    kind = "gtfs"
    OPTIONS = Connector.OPTIONS + (
        Option("path", ("string",), "the feed: a zip or a folder", required=True, path="feed"),
        Option("file", ("string",), "the feed's file to read: stops.txt, routes.txt, ...", required=True,
               path="name"),
        Option("validate", ("boolean",), "check the whole feed first; reject a broken feed whole", True),
    )

    def _bytes(self) -> bytes:
        path = Path(self.option("path"))
        name = self.option("file")
        if path.is_dir():
            member = path / name
            if not member.exists():
                raise SourceError(f"source {self.source_id}: GTFS feed {path} has no required file {name}")
            return member.read_bytes()
        if not path.exists():
            raise SourceError(f"source {self.source_id}: GTFS feed {path} not found")
        try:
            with zipfile.ZipFile(path) as z:
                check_archive(z, path)  # a zip bomb is refused before anything is inflated
                members = {Path(n).name: n for n in z.namelist()}
                if name not in members:
                    raise SourceError(f"source {self.source_id}: GTFS feed {path} has no required file {name}")
                return read_member(z, path, members[name])
        except ArchiveRefused as exc:
            raise SourceError(f"source {self.source_id}: GTFS feed {exc}") from None
        except zipfile.BadZipFile:
            raise SourceError(f"source {self.source_id}: {path} is not a zip file (GTFS feeds are zips)") from None

    def read(self, start: dt.date, end: dt.date) -> Iterator[pa.Table]:
        data = self._bytes()
        if self.options.get("validate", True):
            check = gtfs_check(Path(self.option("path")))
            self.notes = check.notes
            if not check.ok:
                raise SourceError(
                    f"source {self.source_id}: GTFS feed {self.option('path')} rejected: {check.summary()}; ask the "
                    f"operator for a corrected feed (or set 'validate: false' in the source YAML to read it anyway)"
                )
        self.report = CsvReport()
        try:
            yield from csv_read(lambda: io.BytesIO(data), self.option("file"), GTFS_LAYOUT, self.batch_rows,
                                self.report, speculate=self.option("file") not in self.careful)
        except ReadAgain:
            self.careful.add(self.option("file"))
            raise
