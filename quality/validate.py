"""Turn a Great Expectations run into per-row verdicts: for each failing row (by ``_ordinal``), every rule it broke.

Two engines give the same verdicts. :func:`quality.validate_in_duckdb.validate_in_duckdb` validates the normalized
Parquet inside DuckDB (the night's path); :class:`Validator` validates a pandas frame indexed by ``_ordinal`` (kept
as the reference the benchmark compares against, and as a fallback: ``UNSILO_VALIDATE_ENGINE=pandas``). Either way a
result that reports more unexpected rows than it returns ids for fails the run rather than guess.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from quality.gx_import import gx
from quality.suite import expectation_suite
from standards.entity import Entity
from standards.redact import scrub

RESULT_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 0}


@dataclass
class Verdict:
    failures: dict[int, list[tuple[str, str | None]]] = field(default_factory=lambda: defaultdict(list))
    expectations: list[dict] = field(default_factory=list)
    results: list = field(default_factory=list)  # GX ExpectationSuiteValidationResult objects, for Data Docs
    notes: list[tuple[str, str]] = field(default_factory=list)  # (warn|fail, what broke) of non-quarantine rules
    # the DuckDB engine: (rule, field, SQL selecting the failing rows' ``_ordinal``, GX's unexpected count) per
    # broken quarantine rule, run by DuckDB into the verdicts Parquet instead of ids held in Python
    queries: list[tuple[str, str | None, str, int]] = field(default_factory=list)
    docs: Path | None = None  # the Data Docs index of this validation, when built
    failed_rows: int | None = None  # rows written to the verdicts Parquet, when the DuckDB engine wrote it

    @property
    def failed(self) -> list[str]:
        return [m for sev, m in self.notes if sev == "fail"]

    @property
    def warned(self) -> list[str]:
        return [m for sev, m in self.notes if sev == "warn"]


def quiet_context():
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    return context


def collect(entity: Entity, result, verdict: Verdict, element_count: int, ordinal_of=int) -> None:
    """Add one GX suite result to the verdict; ``ordinal_of`` maps an unexpected index entry to its ``_ordinal``."""
    verdict.results.append(result)
    for r in result.results:
        meta = r.expectation_config.meta or {}
        rule, fld, severity = meta.get("rule"), meta.get("field"), meta.get("severity", "quarantine")
        unexpected = r.result.get("unexpected_index_list") or []
        count = r.result.get("unexpected_count") or 0
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"validating {entity.name}: expectation {r.expectation_config.type} on "
                f"{r.expectation_config.kwargs.get('column')} raised: {scrub(r.exception_info.get('exception_message'))}"
            )
        if severity != "quarantine":
            if not r.success:
                observed = r.result.get("observed_value")
                # a row count is told; an observed value of the data (a column's newest date) is not
                shown = observed if isinstance(observed, (int, float)) and not isinstance(observed, bool) else None
                what = f"{count} rows" if count else f"observed {shown}" if shown is not None else \
                    "observed value out of range (value not shown)"
                verdict.notes.append((severity, f"{rule}{' on ' + fld if fld else ''}: {what} "
                                                f"({_expected(r.expectation_config.kwargs)})"))
        elif count and r.result.get("unexpected_index_query") and not unexpected:
            sql = _bind(r.result["unexpected_index_query"], r.expectation_config.kwargs.get("value_set") or [])
            verdict.queries.append((rule, fld, sql.strip().rstrip(";"), int(count)))
        else:
            if count and len(unexpected) != count:
                raise RuntimeError(
                    f"validating {entity.name}: rule {rule} on {fld}: GX reported {count} unexpected rows but "
                    f"returned {len(unexpected)} row ids; refusing to guess which rows to quarantine"
                )
            for u in unexpected:
                verdict.failures[ordinal_of(u)].append((rule, fld))
        verdict.expectations.append(
            {
                "expectation": r.expectation_config.type,
                "column": r.expectation_config.kwargs.get("column") or r.expectation_config.kwargs.get("column_A"),
                "rule": rule,
                "field": fld,
                "success": bool(r.success),
                "unexpected_count": int(count),
                "element_count": int(r.result.get("element_count") or element_count),
            }
        )


def _bind(sql: str, values: list) -> str:
    """GX renders a value set of numbers or booleans as parameters ``$1``, ``$2``, ...: put the standard's own values
    (never a cell's) back in as SQL literals."""
    def literal(m: re.Match) -> str:
        i = int(m.group(1)) - 1
        if i >= len(values):
            return m.group(0)
        v = values[i]
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        return "'" + str(v).replace("'", "''") + "'"

    return re.sub(r"\$(\d+)\b", literal, sql)


def _expected(kwargs: dict) -> str:
    keys = ("min_value", "max_value", "mostly")
    return ", ".join(f"{k} {kwargs[k]}" for k in keys if kwargs.get(k) is not None) or "expected none"


class Validator:
    """Pandas engine: one ephemeral GX context and validation definition per entity, reused across batches."""

    def __init__(self, entity: Entity, policy=None, batch_rules=()):
        self.entity = entity
        context = quiet_context()
        asset = context.data_sources.add_pandas("unsilo").add_dataframe_asset(entity.name)
        batch = asset.add_batch_definition_whole_dataframe("batch")
        suite = context.suites.add(expectation_suite(entity, policy, list(batch_rules)))
        self.definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"validate-{entity.name}", data=batch, suite=suite)
        )

    def validate(self, frame: pd.DataFrame, verdict: Verdict) -> None:
        result = self.definition.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT)
        collect(self.entity, result, verdict, len(frame))
