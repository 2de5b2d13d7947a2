"""Great Expectations is imported one way, with scipy.stats and altair deferred, and a whole validation with Data
Docs never needs them (so a night does not pay for importing them)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import datetime as dt, sys
    import pandas as pd
    from quality.validate_in_duckdb import validate_in_duckdb
    from standards.entity import entity

    deferred = ("scipy.stats", "altair")
    print("lazy-after-import", all(type(sys.modules[m]).__name__ == "_LazyModule" for m in deferred))
    row = dict(tenancy_id="T1", household_key="h", address_key="a", started_on=dt.date(2024, 1, 1),
               ended_on=None, monthly_rent=500.0, arrears_months=0, status_code="9",
               _ok_present__started_on=True, _ok_date__started_on=True, _ok_date__ended_on=True,
               _ok_type__monthly_rent=True, _ok_type__arrears_months=True, _dup_rank=1, _ok_encoding=True,
               _ok_ref__household_key=True, _ordinal=7)
    work = __import__("pathlib").Path(sys.argv[1])
    pd.DataFrame([row]).to_parquet(work / "b.normalized.parquet")
    verdict = validate_in_duckdb(entity("tenancy"), work / "b.normalized.parquet", work / "w", docs_dir=work / "docs")
    print("failures", sorted(r for r, _ in verdict.failures[7]))
    print("docs", verdict.docs is not None and verdict.docs.exists())
    print("lazy-after-validation", all(type(sys.modules[m]).__name__ == "_LazyModule" for m in deferred))
    from scipy import stats
    print("scipy-usable", stats.norm.cdf(0) == 0.5)
    """
)


def test_validation_with_data_docs_runs_without_loading_scipy_stats_or_altair(tmp_path):
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert lines["lazy-after-import"] == "True"
    assert lines["failures"] == "['unknown-code']"
    assert lines["docs"] == "True"
    assert lines["lazy-after-validation"] == "True"
    assert lines["scipy-usable"] == "True"  # deferred, not gone: first use loads it
