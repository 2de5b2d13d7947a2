"""The GX suite is derived from the standard, and its verdicts name exactly the failing rows and rules."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from quality.suite import expectation_suite
from quality.validate import Validator, Verdict
from standards.entity import entities, entity
from standards.rejects import OK_FIELD_SIZE, REASONS, reject_column
from standards.rules import rules


@pytest.mark.parametrize("name", sorted(entities()))
def test_one_expectation_per_rule_with_its_name(name):
    ent = entity(name)
    suite = expectation_suite(ent)
    assert [e.meta["rule"] for e in suite.expectations] == [r.name for r in rules(ent)]


READ_OK = {reject_column(r): True for r in REASONS} | {OK_FIELD_SIZE: True}  # the connector read every row


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    df.index = [100 + i for i in range(len(df))]  # the _ordinal, deliberately not 0..n
    return df


def test_verdicts_name_exactly_the_failing_rows_and_all_their_rules():
    ok = dict(tenancy_id="T1", household_key="h", address_key="a", started_on=dt.date(2024, 1, 1),
              ended_on=None, monthly_rent=500.0, arrears_months=0, status_code="active",
              _ok_present__started_on=True, _ok_date__started_on=True, _ok_date__ended_on=True,
              _ok_type__monthly_rent=True, _ok_type__arrears_months=True, _dup_rank=1, _ok_encoding=True,
              _ok_ref__household_key=True, **READ_OK)
    rows = [
        ok,
        {**ok, "tenancy_id": "T2", "status_code": "9"},  # unknown-code
        {**ok, "tenancy_id": "T3", "ended_on": dt.date(2023, 1, 1)},  # end before start
        {**ok, "tenancy_id": "T4", "monthly_rent": -1.0, "household_key": None},  # two rules
        {**ok, "tenancy_id": "T1", "_dup_rank": 2},  # duplicate
        {**ok, "tenancy_id": "T6", "ended_on": dt.date(2024, 1, 1)},  # same day is fine
        {**ok, "tenancy_id": "T7", reject_column("ragged-row"): False},  # the connector rejected it
    ]
    verdict = Verdict()
    Validator(entity("tenancy")).validate(frame(rows), verdict)
    got = {o: sorted(r for r, _ in f) for o, f in verdict.failures.items()}
    assert got == {
        101: ["unknown-code"],
        102: ["impossible-date"],
        103: ["out-of-range", "required-missing"],
        104: ["duplicate-key"],
        106: ["ragged-row"],
    }
    failed = {e["rule"] for e in verdict.expectations if not e["success"]}
    assert failed == {"unknown-code", "impossible-date", "out-of-range", "required-missing", "duplicate-key",
                      "ragged-row"}
    assert all(e["element_count"] == 7 for e in verdict.expectations)


def test_every_row_can_fail_and_the_verdict_stays_exact():
    ent = entity("transit_route")
    rows = [dict(route_id=f"R{i}", route_name=None, route_type_code="99", _dup_rank=1, _ok_encoding=True,
                 **READ_OK)
            for i in range(250)]  # more than GX's default partial list of 20
    verdict = Verdict()
    Validator(ent).validate(frame(rows), verdict)
    assert sorted(verdict.failures) == list(range(100, 350))
