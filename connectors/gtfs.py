"""One file of a GTFS feed (zip or folder): ``stops.txt``, ``routes.txt``, ... as text columns."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from connectors.base import Connector, SourceError, with_source_rows
from connectors.csv_drop import read_padded


class Gtfs(Connector):
    """Options: ``path`` (a GTFS zip or folder), ``file`` (e.g. ``stops.txt``)."""

    kind = "gtfs"

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
                members = {Path(n).name: n for n in z.namelist()}
                if name not in members:
                    raise SourceError(f"source {self.source_id}: GTFS feed {path} has no required file {name}")
                return z.read(members[name])
        except zipfile.BadZipFile:
            raise SourceError(f"source {self.source_id}: {path} is not a zip file (GTFS feeds are zips)") from None

    def read(self, start: dt.date, end: dt.date) -> Iterator[pa.Table]:
        data = self._bytes().decode("utf-8-sig", errors="replace").encode("utf-8")
        header = data.split(b"\n", 1)[0].decode().strip().split(",")
        header = [h.strip() for h in header]
        try:
            table = pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
                convert_options=pacsv.ConvertOptions(
                    column_types={h: pa.string() for h in header}, strings_can_be_null=False
                ),
            )
        except pa.ArrowInvalid:
            # Rows that leave trailing empty fields out, or a header-only file without a line break.
            try:
                text = io.StringIO(data.decode("utf-8"), newline="")
                yield from read_padded(text, self.option("file"), header, ",", self.batch_rows)
            except ValueError as exc:
                raise SourceError(f"source {self.source_id}: {self.option('file')} in GTFS feed "
                                  f"{self.option('path')} is not a valid CSV table: {exc}") from None
            return
        yield with_source_rows(table, self.option("file"), 2)
