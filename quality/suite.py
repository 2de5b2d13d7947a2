"""Great Expectations 1.x suites built from the standard's rules, never written by hand."""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from standards.entity import Entity
from standards.rules import Rule, rules


def expectation(rule: Rule):
    meta = {"rule": rule.name, "field": rule.field}
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
    raise ValueError(f"no expectation for rule kind {rule.kind!r}")


def expectation_suite(entity: Entity) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(name=f"unsilo.{entity.name}", expectations=[expectation(r) for r in rules(entity)])
