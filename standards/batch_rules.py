"""Batch-level rules of an entity for one run: row count against recent nights, duplicate rate, freshness.

Like :mod:`standards.rules`, these are data; ``quality`` turns them into Great Expectations table/column
expectations, so they appear in the same suite, results and Data Docs as the row-level rules.
"""

from __future__ import annotations

import datetime as dt
import statistics

from standards.entity import Entity
from standards.quality_policy import DUPLICATE_RATE, FRESHNESS, ROW_COUNT, Policy
from standards.rules import DUP_RANK, Rule


def batch_rules(entity: Entity, policy: Policy, recent_counts: list[int], interval_end: dt.date) -> list[Rule]:
    out: list[Rule] = []
    rc = policy.row_count
    if rc and recent_counts:
        typical = statistics.median(recent_counts[: int(rc.get("nights", 7))])
        tol = float(rc.get("tolerance", 0.5))
        out.append(Rule(ROW_COUNT, "row_count_between", "", None,
                        {"min_value": int(typical * (1 - tol)), "max_value": int(typical * (1 + tol)) + 1,
                         "typical": typical}))
    dr = policy.duplicate_rate
    if dr:
        out.append(Rule(DUPLICATE_RATE, "mostly_is_one", DUP_RANK, ",".join(entity.primary_key),
                        {"mostly": 1 - float(dr.get("max", 0.05))}))
    fr = policy.freshness
    if fr:
        oldest = interval_end - dt.timedelta(days=int(fr.get("max_age_days", 1)))
        out.append(Rule(FRESHNESS, "max_at_least", fr["field"], fr["field"], {"min_value": oldest.isoformat()}))
    return out
