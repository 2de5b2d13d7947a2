"""Stage 3: validate the normalized rows batch by batch; write the failing rows' rules as Parquet verdicts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from standards.entity import entity
from unsilo.interval import Interval
from unsilo.normalize import Normalized
from unsilo.settings import Settings

BATCH_ROWS = 100_000


@dataclass(frozen=True)
class Validated:
    path: Path
    failed_rows: int
    expectations: list[dict]


def verdicts_path(settings: Settings, source_id: str, interval: Interval) -> Path:
    return settings.staging / source_id / f"{interval.slug}.verdicts.parquet"


def validate(source: dict, normalized: Normalized, interval: Interval, settings: Settings) -> Validated:
    """Validate in DuckDB (default) or, with ``UNSILO_VALIDATE_ENGINE=pandas``, over pandas batches."""
    ent = entity(source["entity"])
    if os.environ.get("UNSILO_VALIDATE_ENGINE", "duckdb") == "pandas":
        verdict = validate_with_pandas(ent, normalized.path)
    else:
        from quality.validate_in_duckdb import validate_in_duckdb  # heavy import: only where rows are validated

        verdict = validate_in_duckdb(ent, normalized.path, normalized.path.parent)
    ordinals = sorted(verdict.failures)
    rules = [sorted({r for r, _ in verdict.failures[o]}) for o in ordinals]
    checks = [sorted({f"{r}:{f}" if f else r for r, f in verdict.failures[o]}) for o in ordinals]
    table = pa.table(
        {
            "_ordinal": pa.array(ordinals, pa.int64()),
            "rules": pa.array(rules, pa.list_(pa.string())),
            "checks": pa.array(checks, pa.list_(pa.string())),
        }
    )
    out = verdicts_path(settings, source["id"], interval)
    pq.write_table(table, out)
    return Validated(path=out, failed_rows=len(ordinals), expectations=_merge(verdict.expectations))


def validate_with_pandas(ent, path: Path):
    from quality.validate import Validator, Verdict  # heavy import: only where rows are validated

    validator = Validator(ent)
    verdict = Verdict()
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
        frame = batch.to_pandas()
        frame.index = frame["_ordinal"].to_numpy()
        validator.validate(frame, verdict)
    return verdict


def _merge(results: list[dict]) -> list[dict]:
    """One summary per expectation across batches."""
    merged: dict[tuple, dict] = {}
    for r in results:
        k = (r["expectation"], r["column"], r["rule"])
        if k in merged:
            m = merged[k]
            m["success"] = m["success"] and r["success"]
            m["unexpected_count"] += r["unexpected_count"]
            m["element_count"] += r["element_count"]
        else:
            merged[k] = dict(r)
    return list(merged.values())
