"""Feed-level validation of a GTFS feed (zip or folder), in the manner of Google's transitfeed / the canonical
GTFS validator: a feed that breaks one of these is rejected whole with a stable reason, and the night goes on.

Reasons: ``missing-required-file`` (agency, stops, routes, trips, stop_times, and calendar or calendar_dates),
``empty-file`` (a required file of zero bytes), ``missing-required-column``, ``broken-reference`` (stop_times ->
trips and stops, trips -> routes and services), ``bad-date`` (a calendar date that is not YYYYMMDD, or an end before
its start). Files outside the GTFS reference are ignored, each with a note. Row-level faults (a ragged row, a
blank line) are not feed faults: those rows go to quarantine when a source reads the file.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from connectors.archive_limits import check_archive, read_member
from connectors.base import SOURCE_ROW
from connectors.csv_read import CsvLayout, CsvReport, csv_read
from standards.redact import shown_header

MISSING_REQUIRED_FILE = "missing-required-file"
EMPTY_FILE = "empty-file"
MISSING_REQUIRED_COLUMN = "missing-required-column"
BROKEN_REFERENCE = "broken-reference"
BAD_DATE = "bad-date"

# GTFS is UTF-8 with a header; optional trailing fields may be left out (Google's own sample feed does)
GTFS_LAYOUT = CsvLayout(encoding="utf-8", delimiter=",", quotechar='"', skip_rows=0, short_rows="pad")
REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
REQUIRED_COLUMNS = {
    "agency.txt": ("agency_name", "agency_url", "agency_timezone"),
    "stops.txt": ("stop_id",),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "stop_id", "stop_sequence"),
    "calendar.txt": ("service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                     "start_date", "end_date"),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
}
SPEC_FILES = {
    "agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt", "calendar.txt", "calendar_dates.txt",
    "fare_attributes.txt", "fare_rules.txt", "timeframes.txt", "rider_categories.txt", "fare_media.txt",
    "fare_products.txt", "fare_leg_rules.txt", "fare_leg_join_rules.txt", "fare_transfer_rules.txt", "areas.txt",
    "stop_areas.txt", "networks.txt", "route_networks.txt", "shapes.txt", "frequencies.txt", "transfers.txt",
    "pathways.txt", "levels.txt", "location_groups.txt", "location_group_stops.txt", "locations.geojson",
    "booking_rules.txt", "translations.txt", "feed_info.txt", "attributions.txt",
}
# (file, column) must name a value of (file, column) in one of the targets
REFERENCES = (
    ("stop_times.txt", "trip_id", (("trips.txt", "trip_id"),)),
    ("stop_times.txt", "stop_id", (("stops.txt", "stop_id"),)),
    ("trips.txt", "route_id", (("routes.txt", "route_id"),)),
    ("trips.txt", "service_id", (("calendar.txt", "service_id"), ("calendar_dates.txt", "service_id"))),
)
SHOWN = 3  # offending rows named in a message (by file and line: never their values)


@dataclass(frozen=True)
class FeedProblem:
    reason: str
    file: str
    message: str


@dataclass
class FeedCheck:
    problems: list[FeedProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return "; ".join(f"{p.reason}: {p.message}" for p in self.problems)


def feed_members(path: Path) -> dict[str, bytes]:
    """The feed's files by name (a zip's members may sit in a folder inside it). Raises OSError/BadZipFile."""
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}
    with zipfile.ZipFile(path) as z:
        check_archive(z, path)  # connectors/archive_limits.py: a zip bomb is refused before it is inflated
        return {Path(n).name: read_member(z, path, n) for n in z.namelist() if not n.endswith("/")}


def _table(name: str, data: bytes) -> tuple[pa.Table | None, CsvReport]:
    report = CsvReport()
    tables = list(csv_read(lambda: io.BytesIO(data), name, GTFS_LAYOUT, 1 << 30, report))
    return (pa.concat_tables(tables) if tables else None), report


def _values(table: pa.Table | None, column: str) -> pa.Array:
    """Every value of ``column``, rejected rows included: a route whose row has an extra cell still exists."""
    if table is None or column not in table.column_names:
        return pa.array([], pa.string())
    return pc.unique(table.column(column).combine_chunks())


def gtfs_check(path: Path) -> FeedCheck:
    check = FeedCheck()
    members = feed_members(path)
    for name in sorted(set(members) - SPEC_FILES):
        check.notes.append(f"{name} is not a GTFS file: ignored")
    for name in REQUIRED_FILES:
        if name not in members:
            check.problems.append(FeedProblem(MISSING_REQUIRED_FILE, name, f"the feed has no {name}"))
    if "calendar.txt" not in members and "calendar_dates.txt" not in members:
        check.problems.append(FeedProblem(MISSING_REQUIRED_FILE, "calendar.txt",
                                          "the feed has neither calendar.txt nor calendar_dates.txt"))
    tables: dict[str, pa.Table | None] = {}
    for name, required in REQUIRED_COLUMNS.items():
        if name not in members:
            continue
        if not members[name].strip():
            check.problems.append(FeedProblem(EMPTY_FILE, name, f"{name} is empty (not even a header)"))
            continue
        table, report = _table(name, members[name])
        tables[name] = table
        missing = [c for c in required if c not in report.columns]
        if missing:
            check.problems.append(FeedProblem(
                MISSING_REQUIRED_COLUMN, name,
                f"{name} lacks the required column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(its header: {', '.join(shown_header(report.columns, required))})"))
    for name, column, targets in REFERENCES:
        if name not in tables or any(t not in tables and t in members for t, _ in targets):
            continue
        if not any(t in tables for t, _ in targets):
            continue
        known = pa.concat_arrays([_values(tables.get(t), c) for t, c in targets])
        used = _values(tables[name], column)
        used = pc.filter(used, pc.not_equal(used, ""))
        broken = pc.filter(used, pc.invert(pc.is_in(used, value_set=known))).to_pylist()
        if broken:
            target = " or ".join(t for t, _ in targets)
            values = tables[name].column(column)
            rows = tables[name].filter(pc.and_(pc.not_equal(values, ""), pc.invert(pc.is_in(values, value_set=known))))
            check.problems.append(FeedProblem(
                BROKEN_REFERENCE, name,
                f"{name} {column} names {len(broken)} value(s) not in {target}: {_rows(rows)}"))
    for name, columns in (("calendar.txt", ("start_date", "end_date")), ("calendar_dates.txt", ("date",))):
        table = tables.get(name)
        if table is None or any(c not in table.column_names for c in columns):
            continue
        for c in columns:
            values = table.column(c)
            parsed = pc.strptime(values, format="%Y%m%d", unit="s", error_is_null=True)
            bad = pc.or_(pc.and_(pc.is_null(parsed), pc.is_valid(values)),
                         pc.invert(pc.match_substring_regex(values, r"^\d{8}$")))
            if pc.any(bad).as_py():
                check.problems.append(FeedProblem(BAD_DATE, name, f"{name} {c} is not a date YYYYMMDD: "
                                                  + _rows(table.filter(pc.fill_null(bad, False)))))
        if len(columns) == 2:
            start, end = table.column("start_date"), table.column("end_date")
            before = table.filter(pc.fill_null(pc.less(end, start), False))
            if before.num_rows:
                check.problems.append(FeedProblem(BAD_DATE, name, "calendar.txt end_date before start_date: "
                                                  + _rows(before)))
    return check


def _rows(table: pa.Table) -> str:
    """``rows stop_times.txt:5, stop_times.txt:9 ...``: where the offending rows are, never what they hold."""
    lines = table.column(SOURCE_ROW).to_pylist()
    return f"row{'s' if len(lines) > 1 else ''} " + ", ".join(lines[:SHOWN]) + (" ..." if len(lines) > SHOWN else "")
