"""The Data Docs site of a run opens in headless Chromium and shows the suite and a failing expectation."""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd

from quality.validate_in_duckdb import validate_in_duckdb
from standards.entity import entity
from tests.quality.test_validate_in_duckdb import OK_TENANCY
from tests.services import unavailable


def dom(chromium: str, page, profile) -> str:
    """The page as Chromium rendered it, as text (tags dropped)."""
    out = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", out))


def test_data_docs_show_the_suite_and_the_failing_expectation(tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        unavailable("chromium not installed: apt-get install -y chromium (Debian package)")
    df = pd.DataFrame([OK_TENANCY, {**OK_TENANCY, "tenancy_id": "T2", "status_code": "XQ9"}])
    df["_ordinal"] = [0, 1]
    df.to_parquet(tmp_path / "t.parquet")
    sites = tmp_path / "quality"
    for run in ("run1", "run2"):
        verdict = validate_in_duckdb(entity("tenancy"), tmp_path / "t.parquet", tmp_path, docs_dir=sites / run)
    assert verdict.docs == sites / "run2" / "index.html"
    assert (sites / "run1" / "static").is_symlink() and (sites / "static" / "styles").is_dir()  # one shared copy

    index = dom(chromium, verdict.docs, tmp_path / "profile")
    assert "Expectation Suites" in index and "unsilo.tenancy" in index
    assert "Failed" in index  # the validation result is listed as failed
    page, = (sites / "run2" / "validations").rglob("*.html")
    result = dom(chromium, page, tmp_path / "profile")
    assert "status_code" in result and "XQ9" not in result  # the failing expectation, never its unexpected value
    assert "undecodable-bytes" in result or "_ok_encoding" in result  # passing ones are listed too


def test_data_docs_carry_counts_never_values(tmp_path):
    """GX renders the unexpected values of a failing expectation; the site is built from results stripped of them."""
    df = pd.DataFrame([OK_TENANCY, {**OK_TENANCY, "tenancy_id": "T2", "status_code": "XQ9"}])
    df["_ordinal"] = [0, 1]
    df.to_parquet(tmp_path / "t.parquet")
    verdict = validate_in_duckdb(entity("tenancy"), tmp_path / "t.parquet", tmp_path, docs_dir=tmp_path / "q")
    assert verdict.failures == {1: [("unknown-code", "status_code")]}  # the verdicts still know the row
    pages = [p.read_text(encoding="utf-8") for p in (tmp_path / "q").rglob("*.html")]
    assert any("status_code" in p for p in pages)
    assert not any("XQ9" in p for p in pages)
