"""Stage 1: read the source for the interval and land the raw records unchanged as Parquet."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from connectors import ReadAgain, SourceError, connector
from unsilo.interval import Interval
from unsilo.schema_drift import raw_columns
from unsilo.settings import Settings
from unsilo.source_options import source_options
from unsilo.stage_state import read_stage_state, stage_state


# Raw text columns compress well without dictionaries: zstd without them writes a million employment rows in ~0.85 s
# (27 MB) where the default, snappy with dictionaries, takes ~1.2 s (40 MB).
LANDING_PARQUET = {"compression": "zstd", "use_dictionary": False}


@dataclass(frozen=True)
class Landed:
    path: Path
    rows: int
    columns: list[str]
    state: dict | None = None  # the source's state after this read (cursor, columns), saved by the load
    saved: dict | None = None  # the state the last successful load saved
    suspect: tuple[str, ...] = ()  # why the connector thinks a file of the night was cut off in transfer
    missing: tuple[str, ...] = ()  # the drops not there (read without them: the source has allow_missing: true)
    warehouse_state: Path | None = None  # what validate needs from the warehouse (unsilo/stage_state.py)


def landing_path(settings: Settings, source_id: str, interval: Interval) -> Path:
    return settings.landing / source_id / f"{interval.slug}.parquet"


def extract(source: dict, interval: Interval, settings: Settings, full_refresh: bool = False) -> Landed:
    """Write ``landing/<source>/<interval>.parquet``: raw text columns + ``_source``, ``_source_row``,
    ``_extracted_at``, ``_ordinal``. Memory holds one batch at a time."""
    state_file = stage_state(source, interval, settings)  # the one (read-only) look at the warehouse
    saved = read_stage_state(state_file)["saved"]
    options = source_options(source, saved, full_refresh)
    if source.get("allow_missing"):
        options["_allow_missing"] = True  # a night without a drop is normal for this source (unsilo/night.py)
    conn = connector(source["id"], source["connector"]["kind"], options)
    path = landing_path(settings, source["id"], interval)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = owner_only_file(path.with_suffix(".parquet.part"))
    try:
        try:
            rows, columns = _land(conn.read(interval.start, interval.end), source["id"], tmp)
        except ReadAgain:  # batches already landed were void: land the interval once more (the connector knows why)
            rows, columns = _land(conn.read(interval.start, interval.end), source["id"], tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    suspect, missing = tuple(getattr(conn, "suspect", ())), tuple(getattr(conn, "missing", ()))
    if not columns:
        tmp.unlink(missing_ok=True)
        return Landed(path=path, rows=0, columns=[], saved=saved, suspect=suspect, missing=missing,
                      warehouse_state=state_file)
    tmp.replace(path)
    state = {"columns": raw_columns(columns)}
    cursor = getattr(conn, "state", None)
    if cursor is not None:
        state["cursor"] = cursor
    return Landed(path=path, rows=rows, columns=columns, state=state, saved=saved, suspect=suspect, missing=missing,
                  warehouse_state=state_file)


def owner_only_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 (raw IDs land in it), whatever the umask; writers truncating it keep it."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return path


def _land(batches: Iterable[pa.Table], source_id: str, tmp: Path) -> tuple[int, list[str]]:
    """Write ``batches`` with the lineage columns to ``tmp`` (replacing it); return (rows, columns), no columns
    when there was no batch."""
    stamp = pa.scalar(dt.datetime.now(dt.timezone.utc), pa.timestamp("us", tz="UTC"))
    writer = None
    rows = 0
    columns: list[str] = []
    try:
        for batch in batches:
            n = batch.num_rows
            batch = batch.append_column("_source", pa.repeat(pa.scalar(source_id, pa.string()), n))
            batch = batch.append_column("_extracted_at", pa.repeat(stamp, n))
            batch = batch.append_column("_ordinal", pa.array(np.arange(rows, rows + n, dtype=np.int64)))
            if writer is None:
                writer = pq.ParquetWriter(tmp, batch.schema, **LANDING_PARQUET)
                columns = batch.column_names
            elif batch.column_names != columns:
                raise SourceError(
                    f"source {source_id}: columns changed within the interval: {columns} then {batch.column_names}"
                )
            writer.write_table(batch)
            rows += n
    finally:
        if writer is not None:
            writer.close()
    return rows, columns
