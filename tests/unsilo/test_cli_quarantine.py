"""`unsilo quarantine`: list, show, export the quarantined rows; replay them after a crosswalk fix, counts
reconciling."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from tests.night_fixture import KEY, generated_night
from tests.unsilo.test_cli import UNSILO
from unsilo.catalog import sources
from unsilo.night import run_source
from unsilo.settings import settings

HOUSING = ("housing_households", "housing_tenancies", "housing_units")


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        n = generated_night(tmp_path_factory, mp, people=120)
        cfg = settings()
        n.entries = [run_source(s, n.interval, cfg) for s in sources(cfg) if s["id"] in HOUSING]
        yield n


def cli(night, *args: str, **env) -> subprocess.CompletedProcess:
    e = dict(os.environ, UNSILO_HOME=str(night.home), UNSILO_PSEUDONYM_KEY=KEY, COLUMNS="200", **env)
    return subprocess.run([str(UNSILO), *args], env=e, capture_output=True, text=True, timeout=180)


def _truth(night, source):
    return {rule: set(rows) for rule, rows in night.truth["sources"][source]["defects"].items() if rows}


def test_list_filters_by_source_and_rule_and_show_gives_the_record(night):
    out = cli(night, "quarantine", "list", "--json", "--source", "housing_tenancies", "--rule", "unknown-code")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert {r["source_row"] for r in rows} == _truth(night, "housing_tenancies")["unknown-code"]
    assert all("unknown-code:status_code" in r["checks"] for r in rows)
    table = cli(night, "quarantine", "list")
    assert table.returncode == 0 and "housing_units" in table.stdout and "out-of-range" in table.stdout

    shown = cli(night, "quarantine", "show", rows[0]["quarantine_id"][:12])
    assert shown.returncode == 0, shown.stderr
    one = json.loads(shown.stdout)
    assert one["record"]["status"] == "9" and one["source_row"] == rows[0]["source_row"]
    missing = cli(night, "quarantine", "show", "doesnotexist")
    assert missing.returncode == 1 and "no quarantined row" in missing.stderr and "Traceback" not in missing.stderr


def test_export_csv_has_one_line_per_quarantined_row(night, tmp_path):
    target = tmp_path / "q.csv"
    out = cli(night, "quarantine", "export", "--format", "csv", "--output", str(target))
    assert out.returncode == 0, out.stderr
    lines = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    expected = sum(len(rows) for s in HOUSING for rows in night.truth["sources"][s]["defects"].values())
    assert len(lines) == expected
    assert all(json.loads(line["record"]) for line in lines)
    bad = cli(night, "quarantine", "export", "--format", "xlsx")
    assert bad.returncode == 1 and "--format must be csv" in bad.stderr


def test_replay_after_a_crosswalk_fix_moves_the_rows_and_counts_reconcile(night, tmp_path):
    codelists = tmp_path / "codelists"
    shutil.copytree(settings().sources_dir.parent / "standards" / "codelists", codelists)
    with (codelists / "tenancy_status.crosswalk.csv").open("a", encoding="utf-8") as f:
        f.write("housing,9,suspended\n")  # the steward learns that status 9 means suspended
    con = duckdb.connect(str(night.warehouse), read_only=True)
    before_q = con.execute("SELECT count(*) FROM meta.quarantine WHERE source = 'housing_tenancies'").fetchone()[0]
    before_t = con.execute("SELECT count(*) FROM std.tenancy").fetchone()[0]
    con.close()
    fixed = len(_truth(night, "housing_tenancies")["unknown-code"])

    out = cli(night, "quarantine", "replay", "housing_tenancies", UNSILO_CODELISTS=str(codelists))
    assert out.returncode == 0, out.stderr
    docs = out.stdout.split("Data Docs of housing_tenancies: ", 1)[1].split()[0]
    assert docs.endswith("__replay/index.html") and os.path.isfile(docs)
    with duckdb.connect(str(night.warehouse), read_only=True) as con:
        after_q = con.execute("SELECT count(*) FROM meta.quarantine WHERE source = 'housing_tenancies'").fetchone()[0]
        after_t = con.execute("SELECT count(*) FROM std.tenancy").fetchone()[0]
        rules = {r for (rs,) in con.execute("SELECT rules FROM meta.quarantine WHERE source = 'housing_tenancies'")
                 .fetchall() for r in rs}
        ledger = con.execute("SELECT extracted, loaded, quarantined, unchanged, status FROM meta.ledger "
                             "WHERE source = 'housing_tenancies' AND status = 'replay'").fetchall()
        status = con.execute("SELECT status_code FROM std.tenancy WHERE _run_id LIKE '%replay'").fetchall()
    assert after_q == before_q - fixed and after_t == before_t + fixed
    assert "unknown-code" not in rules and "impossible-date" in rules  # the others still wait for their fix
    assert ledger == [(before_q, fixed, before_q - fixed, 0, "replay")]
    assert {s for (s,) in status} == {"suspended"}

    again = cli(night, "quarantine", "replay", "housing_tenancies", UNSILO_CODELISTS=str(codelists))
    assert again.returncode == 0, again.stderr  # replaying again changes nothing but the ledger
    with duckdb.connect(str(night.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM meta.quarantine WHERE source = 'housing_tenancies'"
                           ).fetchone()[0] == after_q
        assert con.execute("SELECT count(*) FROM std.tenancy").fetchone()[0] == after_t


def test_commands_that_do_not_validate_do_not_import_great_expectations():
    code = ("import sys, unsilo.cli, unsilo.replay; "
            "print(sorted(m for m in sys.modules if m.startswith('great_expectations'))[:1])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr
