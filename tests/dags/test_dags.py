"""The department DAGs under real Airflow 3: they parse cleanly, and one runs a night end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from tests.night_fixture import generated_night
from unsilo.airflow_runner import airflow_env, prepare, run_dag, run_marts
from unsilo.catalog import DEPARTMENTS
from unsilo.demo import NIGHT
from unsilo.settings import settings

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        night = generated_night(tmp_path_factory, mp, people=150)
        log = night.home / "airflow.log"
        prepare(settings(), log)
        night.log = log
        yield night


def airflow_json(args: list[str]) -> list[dict]:
    out = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), *args, "--output", "json"],
        env=airflow_env(settings()), capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [line for line in out.stdout.splitlines() if line.startswith("[")]  # log lines precede the JSON
    return json.loads(lines[-1])


def test_every_department_dag_parses_with_owner_tags_and_no_import_errors(airflow_home):
    assert airflow_json(["dags", "list-import-errors"]) == []
    dags = {d["dag_id"]: d for d in airflow_json(["dags", "list"])}
    assert set(dags) == {f"sync_{d}" for d in DEPARTMENTS} | {"build_marts"}
    for d in dags.values():
        assert d["owners"] == ["unsilo"]


def test_a_department_dag_runs_one_night_into_the_warehouse(airflow_home):
    run_dag("sync_housing", NIGHT, settings(), airflow_home.log)
    con = duckdb.connect(str(airflow_home.warehouse), read_only=True)
    ledger = con.execute(
        "SELECT source, interval_start, interval_end, status, extracted, loaded, quarantined, unchanged "
        "FROM meta.ledger"
    ).fetchall()
    housing = {s for s in airflow_home.truth["sources"] if s.startswith("housing_")}
    assert {r[0] for r in ledger} == housing  # that department only
    for src, start, end, status, extracted, loaded, quarantined, unchanged in ledger:
        assert (str(start), str(end), status) == ("2026-06-01", "2026-06-02", "success"), src
        assert extracted == airflow_home.truth["sources"][src]["rows"] == loaded + quarantined + unchanged
    got = defaultdict(lambda: defaultdict(set))
    for src, row, rules in con.execute("SELECT source, source_row, rules FROM meta.quarantine").fetchall():
        for r in rules:
            got[src][r].add(row)
    for src in housing:
        expected = {r: set(rows) for r, rows in airflow_home.truth["sources"][src]["defects"].items() if rows}
        assert dict(got[src]) == expected, src
    con.close()
    # the marts DAG is scheduled on the entities' Assets; `airflow dags test` does not trigger it, so run it
    run_marts(settings(), airflow_home.log)
    with duckdb.connect(str(airflow_home.warehouse), read_only=True) as con:
        sql = "SELECT count(*) FROM marts.community_overview WHERE level = 'community'"
        assert con.execute(sql).fetchone()[0] == 14


def test_a_failing_source_is_retried_and_never_blocks_the_others(airflow_home, monkeypatch):
    sources = sorted(s for s in airflow_home.truth["sources"] if s.startswith("employment_"))
    failing, others = sources[0], sources[1:]
    from unsilo.catalog import source

    options = source(failing, settings())["connector"]
    (Path(options["folder"]) / options["pattern"].format(date=NIGHT)).unlink()  # the department's drop is missing
    monkeypatch.setenv("UNSILO_RETRIES", "1")
    monkeypatch.setenv("UNSILO_RETRY_DELAY_SECONDS", "1")
    try:
        run_dag("sync_employment", NIGHT, settings(), airflow_home.log)
    except Exception:
        pass  # the DAG run fails because one source failed; what matters is what each source did
    from warehouse.schema import connect

    with connect(airflow_home.warehouse):
        pass  # the next writer's open inserts the not-loaded rows extract left pending (it never writes itself)
    with duckdb.connect(str(airflow_home.warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT source, status, message FROM meta.ledger WHERE department = 'employment' ORDER BY started_at"
        ).fetchall()
    for other in others:
        assert [r[1] for r in rows if r[0] == other] == ["success"], rows
    failed = [r for r in rows if r[0] == failing]
    # missing, not failed: the department's drop is not there (the retry records under the same run, once)
    assert failed and {r[1] for r in failed} == {"missing"}, rows
    assert all(f"source {failing}: no file" in r[2] for r in failed), failed


@pytest.mark.services
def test_housing_credentials_come_from_an_airflow_connection_and_never_reach_the_logs(airflow_home, monkeypatch):
    from tests.services import server_database
    from unsilo.demo.housing import load_into

    password = "Unsilo-Secret-7f3a9c"  # PostgreSQL here trusts loopback: any password connects, none may be logged
    sqlite = airflow_home.home / "departments" / "housing" / "housing.db"
    with server_database("postgresql", "unsilo_test_conn") as url:
        load_into(url, sqlite)
        database = url.rsplit("/", 1)[1]
        monkeypatch.setenv("AIRFLOW_CONN_HOUSING_DB", json.dumps({
            "conn_type": "postgres", "login": "postgres", "password": password, "host": "127.0.0.1", "port": 5432,
            "schema": database}))
        monkeypatch.delenv("UNSILO_HOUSING_URL", raising=False)
        aside = sqlite.with_suffix(".aside")
        sqlite.rename(aside)  # the YAML's default (the SQLite file) is gone: only the Connection can work
        log = airflow_home.home / "airflow-conn.log"
        try:
            run_dag("sync_housing", NIGHT, settings(), log)
        finally:
            aside.rename(sqlite)
    with duckdb.connect(str(airflow_home.warehouse), read_only=True) as con:
        latest = con.execute(
            "SELECT source, arg_max(status, started_at) FROM meta.ledger WHERE department = 'housing' GROUP BY 1"
        ).fetchall()
    assert latest and all(status == "success" for _, status in latest), latest
    logs = [log, *(airflow_home.home / "airflow" / "logs").rglob("*.log")]  # `dags test` prints task logs to `log`
    assert "housing_tenancies.load" in log.read_text(encoding="utf-8")  # the task logs are there to read
    leaked = [str(p) for p in logs if password in p.read_text(encoding="utf-8", errors="replace")]
    assert leaked == []
