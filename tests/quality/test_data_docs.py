"""The Data Docs site of a run opens in headless Chromium and shows the suite and a failing expectation."""

from __future__ import annotations

import json
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
    assert (sites / "run1" / "static").is_symlink() and (sites / "static" / "unsilo").is_dir()  # one shared copy

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


def site(tmp_path):
    df = pd.DataFrame([OK_TENANCY, {**OK_TENANCY, "tenancy_id": "T2", "status_code": "XQ9"}])
    df["_ordinal"] = [0, 1]
    df.to_parquet(tmp_path / "t.parquet")
    for run in ("run1", "run2"):
        validate_in_duckdb(entity("tenancy"), tmp_path / "t.parquet", tmp_path, docs_dir=tmp_path / "q" / run)
    return tmp_path / "q"


def test_data_docs_render_offline_with_unsilo_rule_names(tmp_path):
    """No file of the site names an http(s) address (GX's templates link nine CDNs; the site ships its own small
    stylesheet and script), every page loads them by a relative path, and unsilo's rule names sit beside GX's
    expectations on the suite and the validation pages."""
    q = site(tmp_path)
    files = [f for f in q.rglob("*") if f.is_file()]
    assert {f.relative_to(q).as_posix() for f in files if "static" in f.parts} == {
        "static/images/favicon.ico", "static/images/logo-long.png", "static/unsilo/data_docs.css",
        "static/unsilo/data_docs.js"}
    urls = re.compile(rb"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}")
    for f in files:
        assert not urls.search(f.read_bytes()), f  # no http(s) or protocol-relative address anywhere
    pages = list(q.rglob("*.html"))
    assert len(pages) == 6  # index, suite and validation page of each run
    for page in pages:
        html = page.read_text(encoding="utf-8")
        for asset in re.findall(r'(?:href|src)="([^"#]+\.(?:css|js|png|ico))"', html):
            assert (page.parent / asset).resolve().is_file(), (page, asset)  # every asset the page loads is there
        assert "static/unsilo/data_docs.css" in html and "static/unsilo/data_docs.js" in html
    suite, = (q / "run2" / "expectations").rglob("*.html")
    validation, = (q / "run2" / "validations").rglob("*.html")
    for page in (suite, validation):
        html = page.read_text(encoding="utf-8")
        assert "unsilo rule: unknown-code on status_code" in html, page
        assert "unsilo rule: duplicate-key on tenancy_id" in html, page
    assert "expect_column_values_to_be_in_set: unsilo rule: unknown-code on status_code" in \
        validation.read_text(encoding="utf-8")  # GX's expectation name, then unsilo's rule
    assert "XQ9" not in validation.read_text(encoding="utf-8")


def test_the_offline_script_renders_gx_index_tables(tmp_path):
    """The shipped script stands in for jQuery + bootstrap-table: run under node with a minimal DOM, the index
    page's own inline scripts fill its tables from the data GX embeds, rows linking to their pages."""
    node = shutil.which("node")
    if node is None:
        unavailable("node not installed: apt-get install -y nodejs")
    q = site(tmp_path)
    html = (q / "run2" / "index.html").read_text(encoding="utf-8")
    inline = [m for m in re.findall(r"<script>(.*?)</script>", html, re.S) if "bootstrapTable" in m]
    assert inline
    harness = tmp_path / "harness.js"
    page = (q / "static" / "unsilo" / "data_docs.js").read_text(encoding="utf-8") + "\n" + "\n".join(inline)
    harness.write_text(NODE_DOM + f"require('vm').runInThisContext({json.dumps(page)});\n"  # as a browser: globals
                       "process.stdout.write(JSON.stringify(report()));\n", encoding="utf-8")
    out = subprocess.run([node, str(harness)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    tables = json.loads(out.stdout)
    assert any(t["rows"] and any("validations/" in (r["href"] or "") for r in t["rows"]) for t in tables.values())
    assert any(t["rows"] and any("expectations/" in (r["href"] or "") for r in t["rows"]) for t in tables.values())


NODE_DOM = """
const tables = {};
function element(tag) {
  const el = {tag, attrs: {}, children: [], html: "", listeners: {}, classList: {remove() {}},
    setAttribute(k, v) { this.attrs[k] = String(v); }, getAttribute(k) { return this.attrs[k] ?? null; },
    appendChild(c) { this.children.push(c); return c; }, addEventListener(k, f) { this.listeners[k] = f; },
    set innerHTML(v) { this.html = v; if (this.tag === "table") { this.body = element("tbody"); } },
    get innerHTML() { return this.html; }, querySelector(s) { return this.body; }};
  return el;
}
global.window = global;
global.document = {readyState: "complete", addEventListener() {}, createElement: element,
  querySelectorAll(sel) {
    if (!sel.startsWith("#")) return [];
    return [tables[sel] = tables[sel] || element("table")];
  }};
function report() {
  const out = {};
  for (const [id, t] of Object.entries(tables)) {
    out[id] = {rows: (t.body ? t.body.children : []).map(r => ({href: r.getAttribute("data-href"),
                                                                 cells: r.children.length}))};
  }
  return out;
}
"""
