"""Stage 2: map landed raw records onto the standard with one vectorized DuckDB query."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from standards.entity import entity
from standards.transform import compile_transform
from unsilo.extract import Landed
from unsilo.interval import Interval
from unsilo.settings import Settings


@dataclass(frozen=True)
class Normalized:
    path: Path
    rows: int


def normalized_path(settings: Settings, source_id: str, interval: Interval) -> Path:
    return settings.staging / source_id / f"{interval.slug}.normalized.parquet"


def normalize(source: dict, landed: Landed, interval: Interval, settings: Settings) -> Normalized:
    ent = entity(source["entity"])
    sql = compile_transform(source, ent, landed.columns, settings.pseudonym_key(), interval.end)
    out = normalized_path(settings, source["id"], interval)
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"SET TimeZone = '{settings.timezone}'")
        # rows are matched by _ordinal downstream, never by position: no need to keep the order, and memory stays
        # bounded (DuckDB spills to disk past the limit) instead of growing with the source
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"SET memory_limit = '{settings.duckdb_memory}'")
        con.execute(f"CREATE VIEW landing AS SELECT * FROM read_parquet('{landed.path}')")
        con.execute(f"COPY ({sql}) TO '{out}' (FORMAT parquet)")
        rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
    finally:
        con.close()
    return Normalized(path=out, rows=rows)
