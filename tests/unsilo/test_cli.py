"""The ``unsilo`` command line, run as a user runs it (a subprocess), against a night loaded in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.night_fixture import KEY, ran_night

UNSILO = Path(sys.executable).with_name("unsilo")


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    yield from ran_night(tmp_path_factory, people=120)


def cli(night, *args: str, role: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, UNSILO_HOME=str(night.home), UNSILO_PSEUDONYM_KEY=KEY, COLUMNS="200")
    env.pop("UNSILO_ROLE", None)
    if role:
        env["UNSILO_ROLE"] = role  # --working needs the steward role (warehouse/analyst_read.py)
    return subprocess.run([str(UNSILO), *args], env=env, capture_output=True, text=True, timeout=120)


def test_ledger_json_has_one_reconciled_object_per_source_and_run(night):
    out = cli(night, "ledger", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == len(night.truth["sources"])
    for r in rows:
        for key in ("source", "run_id", "interval_start", "interval_end", "extracted", "loaded", "quarantined",
                    "unchanged", "status"):
            assert key in r
        assert r["extracted"] == r["loaded"] + r["quarantined"] + r["unchanged"]
        assert r["interval_start"] == "2026-06-01" and r["interval_end"] == "2026-06-02"


def test_query_json_and_csv(night, tmp_path):
    out = cli(night, "query", "SELECT community_code, residents FROM marts.community_overview "
              "WHERE level = 'community' ORDER BY 1",
              "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert set(rows[0]) == {"community_code", "residents"}
    assert {r["community_code"] for r in rows} == set(night.truth["population"]["communities"])
    sql = tmp_path / "q.sql"
    sql.write_text("SELECT count(*) AS n FROM std.community", encoding="utf-8")
    out = cli(night, "query", str(sql), "--format", "csv")
    assert out.stdout.splitlines() == ["n", str(len(night.truth["population"]["communities"]))]


def test_query_parquet_and_the_working_file(night, tmp_path):
    import pyarrow.parquet as pq

    target = tmp_path / "month.parquet"
    out = cli(night, "query", "SELECT * FROM marts.community_month WHERE level = 'community'", "--format", "parquet",
              "--output", str(target))
    assert out.returncode == 0, out.stderr
    table = pq.read_table(target)
    assert table.num_rows == len(night.truth["population"]["communities"])
    assert {"employment_rate", "immunization_coverage", "stops_within_walk"} <= set(table.column_names)
    out = cli(night, "query", "SELECT count(*) AS n FROM meta.quarantine", "--working", "--format", "json",
              role="steward")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["n"] > 0


def test_tables_lists_every_table_and_view_with_its_description(night):
    from standards.entity import entities

    listed = {t["name"]: t for t in json.loads(cli(night, "tables", "--json").stdout)}
    assert {e.table for e in entities().values()} | {"marts.community_month", "marts.community_overview"} <= set(listed)
    assert [n for n, t in listed.items() if not t["description"]] == []
    assert not any(n.startswith("restricted.") or n == "meta.quarantine" for n in listed)
    working = {t["name"]: t for t in json.loads(cli(night, "tables", "--working", "--json", role="steward").stdout)}
    assert working["restricted.person_profile"]["description"].startswith("Person-level")
    assert working["std.person"]["kind"] == "view" and working["std.person_history"]["kind"] == "table"
    out = cli(night, "tables")
    assert out.returncode == 0 and "community_month" in out.stdout


def test_sync_one_source_by_id_and_by_path(night):
    out = cli(night, "sync", "transport_routes", "--start", "2026-06-01")
    assert out.returncode == 0, out.stderr
    assert "transport_routes" in out.stdout
    yaml = Path(__file__).resolve().parents[2] / "sources" / "transport_stops.yaml"
    out = cli(night, "sync", str(yaml), "--start", "2026-06-01", "--end", "2026-06-02")
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (("sync", "no_such_source"), "no source 'no_such_source'"),
        (("sync", "transport_routes", "--start", "June"), "--start 'June' is not a date"),
        (("query", "SELECT * FROM no_such_table"), "no_such_table"),
        (("query", "SELECT 1", "--format", "xml"), "--format must be"),
        (("query", "SELECT 1", "--format", "parquet"), "--output"),
        (("query", "SELECT * FROM meta.quarantine"), "--working"),
        (("query", "SELECT * FROM meta.quarantine", "--working"), "steward role"),
        (("query", "SELECT content FROM read_text('secrets/pseudonym.key')"), "refused: table function read_text"),
        (("query", "ATTACH 'warehouse/unsilo.duckdb' AS w"), "refused: ATTACH"),
        (("sync", "employment_registration", "--start", "2026-05-01"), "employment_registration"),
    ],
)
def test_errors_are_one_clear_line_without_traceback(night, args, message):
    out = cli(night, *args)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr + out.stdout
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 3  # one line, soft-wrapped at most


def test_debug_shows_the_traceback(night):
    out = cli(night, "--debug", "sync", "no_such_source")
    assert out.returncode != 0
    assert "Traceback" in out.stderr


def test_a_missing_drop_fails_that_source_with_a_ledger_row(night):
    out = cli(night, "sync", "employment_registration", "--start", "2026-05-01")
    assert out.returncode == 1 and "no file" in out.stderr
    rows = json.loads(cli(night, "ledger", "--json", "--source", "employment_registration").stdout)
    failed = [r for r in rows if r["status"] == "missing"]
    assert failed and "就业登记_20260501.csv" in failed[-1]["message"]
