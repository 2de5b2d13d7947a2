"""Stage 3: validate the normalized rows batch by batch; write the failing rows' rules as Parquet verdicts."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
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
    warnings: list[str] = field(default_factory=list)  # rules of severity warn that were broken
    failures: list[str] = field(default_factory=list)  # rules of severity fail that were broken: stop the load
    docs: Path | None = None  # the run's Data Docs index


def verdicts_path(settings: Settings, source_id: str, interval: Interval) -> Path:
    return settings.staging / source_id / f"{interval.slug}.verdicts.parquet"


def data_docs_path(settings: Settings, run_id: str) -> Path:
    """Where the run's Great Expectations Data Docs site is (``<home>/quality/<run_id>/index.html``)."""
    return settings.home / "quality" / run_id / "index.html"


def import_validator_in_background() -> threading.Thread:
    """Start importing Great Expectations (~1.5-4 s of Python) in a thread while the caller extracts and normalizes,
    which spend their time in Arrow and DuckDB with the GIL released. ``validate`` waits for the thread, then
    imports (at once, or raising the import's error in the caller's step)."""

    def load() -> None:
        try:
            import quality.validate_in_duckdb  # noqa: F401
        except Exception:  # noqa: BLE001 - validate() imports it again and raises there, in the caller's step
            pass

    global _importing
    if _importing is None:
        _importing = threading.Thread(target=load, name="unsilo-import-gx", daemon=True)
        _importing.start()
    return _importing


_importing: threading.Thread | None = None


def validate(source: dict, normalized: Normalized, interval: Interval, settings: Settings,
             run_id: str | None = None, warehouse_state: Path | None = None) -> Validated:
    """Validate in DuckDB (default) or, with ``UNSILO_VALIDATE_ENGINE=pandas``, over pandas batches.
    ``warehouse_state``: what extract read from the warehouse for this run (validate opens no warehouse)."""
    from standards.batch_rules import batch_rules
    from unsilo.quality_inputs import quality_inputs

    ent = entity(source["entity"])
    inputs = quality_inputs(source, ent, normalized.path, interval, settings, warehouse_state)
    batch = batch_rules(ent, inputs.policy, inputs.recent_counts, interval.end)
    out = verdicts_path(settings, source["id"], interval)
    if os.environ.get("UNSILO_VALIDATE_ENGINE", "duckdb") == "pandas":
        verdict = validate_with_pandas(ent, normalized.path, inputs.policy, batch, inputs.view_sql)
        verdict.failed_rows = write_failures(verdict, out)
    else:
        if _importing is not None:
            _importing.join()
        from quality.validate_in_duckdb import validate_in_duckdb  # heavy import: only where rows are validated

        docs = data_docs_path(settings, run_id).parent if run_id else None
        # the failing rows go straight from DuckDB to the verdicts Parquet: memory does not grow with bad rows
        verdict = validate_in_duckdb(ent, normalized.path, normalized.path.parent, policy=inputs.policy,
                                     batch_rules=batch, view_sql=inputs.view_sql, docs_dir=docs,
                                     memory_limit=settings.duckdb_memory, verdicts=out)
    return Validated(path=out, failed_rows=verdict.failed_rows, expectations=_merge(verdict.expectations),
                     warnings=verdict.warned, failures=verdict.failed, docs=verdict.docs)


def write_failures(verdict, out: Path) -> int:
    """The pandas engine's verdicts (held in ``verdict.failures``) as the verdicts Parquet; returns their rows."""
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
    pq.write_table(table, out)
    return len(ordinals)


def validate_with_pandas(ent, path: Path, policy=None, batch_rules=(), view_sql: str | None = None):
    """The fallback engine: pandas frames of ``BATCH_ROWS``. Batch-level rules see one batch at a time here."""
    import duckdb

    from quality.validate import Validator, Verdict  # heavy import: only where rows are validated

    validator = Validator(ent, policy, batch_rules)
    verdict = Verdict()
    batches = (duckdb.sql(view_sql).fetch_record_batch(BATCH_ROWS) if view_sql
               else pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS))
    for batch in batches:
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
