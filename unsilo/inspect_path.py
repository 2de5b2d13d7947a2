"""What a steward learns about a file or folder a department sent, before writing its source YAML.

The path is read the way a sync would read it (the same connector, the same options a minimal YAML gives) and
summarized: kind, encoding and dialect, rows read, rows that would pass on (not rejected by the connector: no entity
mapping applies to an arbitrary file), rows rejected by reason with the first few lines, columns found, notes.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from connectors import CsvDrop, FhirBulk, FhirBundle, Gtfs, SqlTable  # noqa: F401 - SqlTable: the sql kind's reader
from connectors.base import SOURCE_ROW, read_all
from standards.rejects import RAW, REJECT

KINDS = ("csv", "fhir", "gtfs", "sql")
GTFS_MARKERS = {"stops.txt", "trips.txt", "routes.txt", "agency.txt", "stop_times.txt"}
FIRST_LINES = 5
ANY_DAY = (dt.date(2000, 1, 1), dt.date(2000, 1, 2))  # a file path without {date}: the interval does not matter


class InspectError(ValueError):
    """The path cannot be read at all; the message names the problem (the caller adds the path)."""


def detect_kind(path: str) -> str:
    if "://" in path:
        return "sql"
    p = Path(path)
    if not p.exists():
        raise InspectError("no such file or folder")
    if p.is_dir():
        names = {x.name for x in p.iterdir()}
        if names & GTFS_MARKERS:
            return "gtfs"
        if any(n.endswith((".json", ".ndjson")) for n in names):
            return "fhir"
        raise InspectError("a folder that is neither a GTFS feed nor FHIR JSON files: inspect one file in it")
    if zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as z:
            return "gtfs" if {Path(n).name for n in z.namelist()} & GTFS_MARKERS else "csv"
    if p.suffix.lower() in (".json", ".ndjson"):
        return "fhir"
    with p.open("rb") as f:
        if f.read(16) == b"SQLite format 3\x00":
            return "sql"
    return "csv"


def _summary(kind: str, tables: list[pa.Table]) -> dict:
    reasons: Counter = Counter()
    first: dict[str, list[str]] = {}
    rows = 0
    for t in tables:
        rows += t.num_rows
        if REJECT not in t.column_names:
            continue
        for reason, where in zip(t.column(REJECT).to_pylist(), t.column(SOURCE_ROW).to_pylist()):
            if reason:
                reasons[reason] += 1
                lines = first.setdefault(reason, [])
                if len(lines) < FIRST_LINES:
                    lines.append(where)
    rejected = sum(reasons.values())
    return {"kind": kind, "rows_read": rows, "rows_ok": rows - rejected, "rows_rejected": rejected,
            "reasons": dict(reasons), "first_rejects": first}


def _columns(tables: list[pa.Table]) -> list[str]:
    return [c for c in (tables[0].column_names if tables else []) if c not in (REJECT, RAW, SOURCE_ROW)]


def _undecodable(tables: list[pa.Table]) -> int:
    """Rows passed on that hold a byte the encoding could not decode (U+FFFD): the undecodable-bytes rule
    quarantines them in a sync."""
    count = 0
    for t in tables:
        hit = None
        for name in _columns([t]):
            found = pc.fill_null(pc.match_substring(t.column(name), "\ufffd"), False)
            hit = found if hit is None else pc.or_(hit, found)
        if hit is not None and REJECT in t.column_names:
            hit = pc.and_(hit, pc.is_null(t.column(REJECT)))
        count += (pc.sum(hit).as_py() or 0) if hit is not None else 0
    return count


def _csv(path: Path) -> dict:
    """Read as a minimal source YAML reads it; when the file has a second header row, read again as a YAML declaring
    ``header_rows: 2`` reads it, so that row is counted as header, not as data (the note says what to declare)."""
    options = {"folder": str(path.parent), "pattern": path.name}
    conn = CsvDrop(source_id="inspect", options=options)
    tables = read_all(lambda: conn.read(*ANY_DAY))
    report = conn.reports[0]
    if report.header_lines_found > report.header_lines:
        conn = CsvDrop(source_id="inspect", options={**options, "header_rows": report.header_lines_found})
        tables = read_all(lambda: conn.read(*ANY_DAY))
        report.columns, report.header_lines = conn.reports[0].columns, conn.reports[0].header_lines
    out = _summary("csv", tables)
    out.update(rows_undecodable=_undecodable(tables), encoding=report.encoding, encoding_how=report.encoding_how,
               delimiter=report.delimiter, quotechar=report.quotechar, header_line=report.header_line,
               header_lines=report.header_lines, columns=report.columns, notes=report.notes)
    return out


def _fhir(path: Path) -> dict:
    if path.is_file() and path.suffix.lower() == ".ndjson":
        conn = FhirBulk(source_id="inspect", options={"path": str(path)})
        notes: list[str] = []
    else:
        conn = FhirBundle(source_id="inspect", options={"path": str(path)})
    tables = read_all(lambda: conn.read(*ANY_DAY))
    out = _summary("fhir", tables)
    types: Counter = Counter()
    for t in tables:
        if "resource_type" in t.column_names:
            types.update(x for x in t.column("resource_type").to_pylist() if x)
    notes = getattr(conn, "notes", [])
    out.update(encoding="utf-8", columns=_columns(tables), resource_types=dict(types), notes=notes)
    return out


def _gtfs(path: Path) -> dict:
    if path.is_dir():
        names = sorted(x.name for x in path.iterdir() if x.suffix == ".txt")
    else:
        with zipfile.ZipFile(path) as z:
            names = sorted(Path(n).name for n in z.namelist() if n.endswith(".txt"))
    tables, files, notes = [], {}, []
    for name in names:
        conn = Gtfs(source_id="inspect", options={"path": str(path), "file": name})
        got = read_all(lambda: conn.read(*ANY_DAY))
        tables.extend(got)
        files[name] = {"rows": sum(t.num_rows for t in got), "columns": conn.report.columns,
                       "encoding": conn.report.encoding}
        notes.extend(f"{name}: {n}" for n in conn.report.notes)
    out = _summary("gtfs", tables)
    encodings = sorted({f["encoding"] for f in files.values() if f["encoding"]})
    out.update(encoding=", ".join(encodings) or "utf-8", files=files, notes=notes,
               columns=sorted({c for f in files.values() for c in f["columns"]}))
    return out


def _sql(path: str) -> dict:
    import sqlalchemy as sa

    url = path if "://" in path else f"sqlite:///{Path(path).resolve()}"
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        tables = {}
        with engine.connect() as conn:
            for name in inspector.get_table_names():
                count = conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
                tables[name] = {"rows": count, "columns": [c["name"] for c in inspector.get_columns(name)]}
    finally:
        engine.dispose()
    rows = sum(t["rows"] for t in tables.values())
    return {"kind": "sql", "encoding": None, "rows_read": rows, "rows_ok": rows, "rows_rejected": 0, "reasons": {},
            "first_rejects": {}, "columns": sorted({c for t in tables.values() for c in t["columns"]}),
            "tables": tables, "notes": []}


def inspect_path(path: str, kind: str | None = None) -> dict:
    """The report on ``path`` (a file, a folder, or a database URL); raises :class:`InspectError` when unreadable."""
    if kind is not None and kind not in KINDS:
        raise InspectError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    try:
        kind = kind or detect_kind(path)
        if kind != "sql" and not Path(path).exists():
            raise InspectError("no such file or folder")
        readers = {"csv": _csv, "fhir": _fhir, "gtfs": _gtfs}
        out = _sql(path) if kind == "sql" else readers[kind](Path(path))
    except InspectError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is reported as one line naming the problem
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InspectError(message.replace("source inspect: ", "")) from None
    return {"path": str(path), **out}
