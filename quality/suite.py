"""Great Expectations 1.x suites built from the standard's rules, never written by hand."""

from __future__ import annotations

import great_expectations.expectations as gxe

from quality.gx_import import gx

from standards.entity import Entity
from standards.quality_policy import Policy
from standards.rules import Rule, rules


def expectation(rule: Rule, severity: str = "quarantine"):
    meta = {"rule": rule.name, "field": rule.field, "severity": severity}
    c = rule.column
    if rule.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=c, meta=meta)
    if rule.kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=c, value_set=rule.params["value_set"], meta=meta)
    if rule.kind == "is_true":
        return gxe.ExpectColumnValuesToBeInSet(column=c, value_set=[True], meta=meta)
    if rule.kind == "is_one":
        return gxe.ExpectColumnValuesToBeInSet(column=c, value_set=[1], meta=meta)
    if rule.kind == "regex":
        return gxe.ExpectColumnValuesToMatchRegex(column=c, regex=rule.params["regex"], meta=meta)
    if rule.kind == "between":
        return gxe.ExpectColumnValuesToBeBetween(
            column=c, min_value=rule.params["min_value"], max_value=rule.params["max_value"], meta=meta
        )
    if rule.kind == "a_after_b":
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=c, column_B=rule.params["other"], or_equal=True, ignore_row_if="either_value_is_missing", meta=meta
        )
    # batch level
    if rule.kind == "row_count_between":
        return gxe.ExpectTableRowCountToBeBetween(
            min_value=rule.params["min_value"], max_value=rule.params["max_value"], meta=meta
        )
    if rule.kind == "mostly_is_one":
        return gxe.ExpectColumnValuesToBeInSet(column=c, value_set=[1], mostly=rule.params["mostly"], meta=meta)
    if rule.kind == "max_at_least":
        return gxe.ExpectColumnMaxToBeBetween(column=c, min_value=rule.params["min_value"], meta=meta)
    raise ValueError(f"no expectation for rule kind {rule.kind!r}")


def expectation_suite(entity: Entity, policy: Policy | None = None, batch: list[Rule] = ()) -> gx.ExpectationSuite:
    """Row-level rules (with their severities) then the run's batch-level rules."""
    policy = policy or Policy()
    row = [expectation(r, policy.of(r.name)) for r in rules(entity)]
    bat = [expectation(r, _batch_severity(policy, r.name)) for r in batch]
    return gx.ExpectationSuite(name=f"unsilo.{entity.name}", expectations=row + bat)


def _batch_severity(policy: Policy, name: str) -> str:
    check = {"row-count": policy.row_count, "duplicate-rate": policy.duplicate_rate, "freshness": policy.freshness}
    return (check.get(name) or {}).get("severity", "warn")
