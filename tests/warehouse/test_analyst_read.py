"""The analysts' sandbox (warehouse/analyst_read.py): every escape an analyst could try is refused, on the published
snapshot and on the working warehouse alike, nothing is written anywhere, and ordinary questions still work."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from tests.night_fixture import KEY, ran_night
from warehouse.analyst_read import ALLOWED_TABLE_FUNCTIONS, Refused, analyst_read, steward_read

UNSILO = Path(sys.executable).with_name("unsilo")
TARGETS = ("snapshot", "working")


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    yield from ran_night(tmp_path_factory, people=120)


def paths(night) -> dict[str, str]:
    home = night.home
    landing = sorted((home / "landing").glob("*/*.parquet"))
    assert landing, "the night landed no Parquet"
    return {
        "home": str(home),
        "key": str(home / "secrets" / "pseudonym.key"),
        "landing": str(landing[0]),
        "landing_glob": str(home / "landing" / "*" / "*.parquet"),
        "working": str(night.warehouse),
        "snapshot": str(home / "warehouse" / "snapshots" / "current.duckdb"),
        "out": str(home / "planted.csv"),
        "source": str(home / "planted_source.yaml"),
    }


def tree(*roots: Path) -> dict[str, tuple[int, int, int]]:
    """Every file and folder under ``roots``, files with size, mtime and mode: a new or changed file shows up.

    (A folder's own mtime is left out: the sandbox's private temp folder comes and goes inside TMPDIR.)"""
    found = {}
    for root in roots:
        for p in [root, *root.rglob("*")]:
            st = p.lstat()
            found[str(p)] = (0, 0, st.st_mode) if p.is_dir() else (st.st_size, st.st_mtime_ns, st.st_mode)
    return found


@pytest.fixture(params=TARGETS)
def target(request, night, monkeypatch, tmp_path):
    """An open sandboxed read of the snapshot or (as a steward) the working warehouse, temp files in tmp_path/tmp."""
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    monkeypatch.setenv("UNSILO_ROLE", "steward")
    p = paths(night)
    p["other"] = p["working"] if request.param == "snapshot" else p["snapshot"]  # a file not open already
    before = tree(night.home)
    read = analyst_read(Path(p["snapshot"])) if request.param == "snapshot" else steward_read(Path(p["working"]))
    yield read, p
    read.close()
    assert list(private_tmp.iterdir()) == [], "the sandbox left temporary files behind"
    after = tree(night.home)
    assert after == before, {k for k in set(after) ^ set(before)} or "a file under the data root changed"


STATEMENTS = [
    ("ATTACH '{working}' AS w", "ATTACH"),
    ("ATTACH '{working}' AS w (READ_WRITE)", "ATTACH"),
    ("ATTACH ':memory:' AS m", "ATTACH"),
    ("ATTACH '{home}/new.duckdb' AS n", "ATTACH"),
    ("DETACH DATABASE w", "DETACH"),
    ("COPY (SELECT 1) TO '{out}'", "COPY"),
    ("COPY std.person TO '{out}' (HEADER)", "COPY"),
    ("COPY (SELECT 'kind: csv_drop') TO '{source}' (FORMAT csv, HEADER false)", "COPY"),
    ("COPY std.person FROM '{landing}'", "COPY"),
    ("EXPORT DATABASE '{home}/exported'", "EXPORT"),
    ("IMPORT DATABASE '{home}/exported'", "IMPORT"),
    ("INSTALL httpfs", "INSTALL"),
    ("FORCE INSTALL httpfs", "FORCE INSTALL"),
    ("LOAD httpfs", "LOAD"),
    ("LOAD '{home}/evil.duckdb_extension'", "LOAD"),
    ("UPDATE EXTENSIONS", "UPDATE statements"),
    ("SET enable_external_access = true", "SET"),
    ("SET GLOBAL lock_configuration = false", "SET"),
    ("SET memory_limit = '1GB'", "SET"),
    ("SET temp_directory = '{home}'", "SET"),
    ("SET VARIABLE x = 1", "SET"),
    ("RESET enable_external_access", "RESET"),
    ("RESET memory_limit", "RESET"),
    ("PRAGMA enable_profiling", "PRAGMA"),
    ("PRAGMA threads = 1", "PRAGMA"),
    ("CALL pragma_version()", "CALL"),
    ("CREATE TABLE t AS SELECT 1", "CREATE"),
    ("CREATE TEMP TABLE t AS SELECT 1", "CREATE"),
    ("CREATE SECRET s (TYPE http)", "CREATE"),
    ("CREATE MACRO m() AS TABLE SELECT * FROM read_text('{key}')", "CREATE"),
    ("CREATE VIEW v AS SELECT 1", "CREATE"),
    ("INSERT INTO meta.ledger SELECT * FROM meta.ledger", "INSERT"),
    ("UPDATE meta.ledger SET status = 'success'", "UPDATE"),
    ("DELETE FROM meta.ledger", "DELETE"),
    ("MERGE INTO meta.ledger USING meta.ledger AS s ON false WHEN NOT MATCHED THEN INSERT", "MERGE"),
    ("DROP TABLE std.person", "DROP"),
    ("ALTER TABLE std.person RENAME TO p", "ALTER"),
    ("COMMENT ON TABLE std.person IS 'x'", "COMMENT"),
    ("USE memory", "USE"),
    ("CHECKPOINT", "CHECKPOINT"),
    ("FORCE CHECKPOINT", "FORCE CHECKPOINT"),
    ("VACUUM", "VACUUM"),
    ("ANALYZE", "ANALYZE"),
    ("BEGIN TRANSACTION", "BEGIN"),
    ("PREPARE p AS SELECT 1", "PREPARE"),
    ("EXECUTE p", "EXECUTE"),
    ("PIVOT std.person ON sex_code", "PIVOT without an IN list"),
    ("EXPLAIN COPY (SELECT 1) TO '{out}'", "COPY"),
    ("EXPLAIN ANALYZE COPY (SELECT 1) TO '{out}'", "COPY"),
    ("", "no statement"),
    ("-- only a comment", "no statement"),
]

FILE_FUNCTIONS = [
    "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto", "read_json_objects",
    "read_json_objects_auto", "read_ndjson", "read_ndjson_auto", "read_ndjson_objects", "read_text", "read_blob",
    "read_duckdb", "glob", "sniff_csv", "parquet_metadata", "parquet_schema", "parquet_file_metadata",
    "parquet_kv_metadata", "parquet_full_metadata", "parquet_page_index", "iceberg_scan", "iceberg_metadata",
    "delta_scan", "sqlite_scan", "read_xlsx",
]
OTHER_TABLE_FUNCTIONS = [
    ("query_table", "runs SQL"), ("query", "runs SQL"), ("json_execute_serialized_sql", "runs SQL"),
    ("duckdb_secrets", "reads files"), ("which_secret", "reads files"), ("duckdb_extensions", "reads files"),
    ("checkpoint", "is not one analysts may use"), ("enable_logging", "is not one analysts may use"),
    ("enable_profiling", "is not one analysts may use"), ("summary", "runs SQL"), ("histogram", "runs SQL"),
    ("arrow_scan", "reads files"), ("pandas_scan", "reads files"), ("test_all_types", "is not one analysts may use"),
]

HIDDEN = [
    ("/* just a select */ ATTACH '{working}' AS w", "ATTACH"),
    ("-- a comment\nCOPY (SELECT 1) TO '{out}'", "COPY"),
    ("aTtAcH '{working}' aS w", "ATTACH"),
    ("SELECT 1; ATTACH '{working}' AS w", "ATTACH"),
    ("SELECT 1;\n\n  SELECT * FROM read_text('{key}')", "read_text"),
    ("SELECT 1; SET enable_external_access = true; SELECT 2", "SET"),
    ("WITH k AS (SELECT * FROM read_text('{key}')) SELECT * FROM k", "read_text"),
    ("WITH RECURSIVE k AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM k, glob('{home}/*') WHERE n < 2) FROM k", "glob"),
    ("SELECT * FROM std.person WHERE person_key IN (SELECT content FROM read_text('{key}'))", "read_text"),
    ("SELECT (SELECT content FROM read_text('{key}')) AS k", "read_text"),
    ("SELECT * FROM range(1) r, LATERAL (SELECT * FROM read_text('{key}'))", "read_text"),
    ("SELECT * FROM std.person JOIN read_parquet('{landing}') USING (person_key)", "read_parquet"),
    ("SELECT 1 UNION ALL SELECT count(*) FROM read_blob('{key}')", "read_blob"),
    ("SELECT * FROM (VALUES ('{key}')) v(p), read_text(v.p)", "read_text"),
    ("SeLeCt * FrOm ReAd_CsV('{key}')", "read_csv"),
    ('SELECT * FROM "read_text"(\'{key}\')', "read_text"),
    ("SELECT * FROM main.read_text('{key}')", "read_text"),
    ("SELECT * FROM system.main.read_text('{key}')", "read_text"),
    ("SELECT\t*\nFROM\n  read_text (\n '{key}' )", "read_text"),
    ("FROM read_text('{key}')", "read_text"),
    ("SUMMARIZE FROM read_text('{key}')", "read_text"),
    ("DESCRIBE FROM read_parquet('{landing}')", "read_parquet"),
    ("PIVOT (FROM read_csv('{key}')) ON column0 IN ('a') USING count(*)", "read_csv"),
    ("EXPLAIN ANALYZE SELECT * FROM read_text('{key}')", "read_text"),
    ("EXPLAIN (FORMAT json) SELECT * FROM glob('{home}/*')", "glob"),
    ("SELECT * FROM '{landing}'", "reads a file"),
    ("SELECT * FROM '{key}'", "reads a file"),
    ('SELECT * FROM "{landing}"', "reads a file"),
    ("SELECT * FROM '{landing_glob}'", "reads a file"),
    ("FROM '{working}'", "reads a file"),
    ("TABLE '{landing}'", "reads a file"),
    ("SELECT * FROM std.person WHERE person_key IN (FROM '{landing}')", "reads a file"),
    ("SUMMARIZE '{landing}'", "reads a file"),
    ("DESCRIBE '{landing}'", "reads a file"),
    ("SHOW '{landing}'", "reads a file"),
    ("SELECT getenv('HOME')", "getenv"),
    ("SELECT * FROM range(3) WHERE getenv('UNSILO_PSEUDONYM_KEY') IS NOT NULL", "getenv"),
]


def cases():
    out = [pytest.param(sql, msg, id=f"statement:{sql[:40]}") for sql, msg in STATEMENTS]
    for name in FILE_FUNCTIONS:
        for what in ("key", "landing", "working"):
            out.append(pytest.param(f"SELECT * FROM {name}('{{{what}}}')", f"table function {name} reads files",
                                    id=f"file:{name}:{what}"))
    out += [pytest.param(f"SELECT * FROM {name}('{{key}}')", f"table function {name} {msg}", id=f"function:{name}")
            for name, msg in OTHER_TABLE_FUNCTIONS]
    out += [pytest.param(sql, msg, id=f"hidden:{sql[:40]}") for sql, msg in HIDDEN]
    return out


@pytest.mark.parametrize("sql, message", cases())
def test_every_escape_is_refused_with_one_line_and_nothing_is_written(target, sql, message):
    read, p = target
    with pytest.raises(Refused) as refused:
        read.query(sql.format(**p))
    text = str(refused.value)
    assert text.startswith("refused: ") and message in text
    assert "\n" not in text
    assert not any(Path(p[k]).exists() for k in ("out", "source")), "an escape wrote a file"


# Behind the gate: with the gate bypassed, the locked configuration alone stops every reach outside the database.
RAW = [
    "SELECT * FROM read_text('{key}')", "SELECT * FROM read_parquet('{landing}')", "SELECT * FROM glob('{home}/*')",
    "SELECT * FROM read_csv('{key}')", "SELECT * FROM read_duckdb('{working}')", "SELECT * FROM '{landing}'",
    "SELECT * FROM parquet_metadata('{landing}')", "SELECT * FROM sniff_csv('{key}')",
    "ATTACH '{other}' AS w (READ_ONLY)", "ATTACH '{other}' AS w", "ATTACH '{home}/new.duckdb' AS n",
    "COPY (SELECT 1) TO '{out}'", "EXPORT DATABASE '{home}/exported'", "INSTALL httpfs", "LOAD httpfs",
    "SET enable_external_access = true", "RESET enable_external_access", "SET lock_configuration = false",
    "SET GLOBAL lock_configuration = false", "SET temp_directory = '{home}'", "SET allow_community_extensions = true",
    "PRAGMA enable_profiling", "SELECT * FROM duckdb_secrets()", "SELECT * FROM query_table('{landing}')",
    "CREATE SECRET s (TYPE http, BEARER_TOKEN 'x')",
]


@pytest.mark.parametrize("sql", RAW, ids=[s[:40] for s in RAW])
def test_the_locked_configuration_stops_files_even_when_the_gate_is_bypassed(target, sql):
    read, p = target
    with pytest.raises(duckdb.Error):
        read.con.execute(sql.format(**p)).fetchall()
    assert read.con.execute("SELECT current_setting('enable_external_access')").fetchone()[0] is False
    assert not Path(p["out"]).exists()


def test_a_permission_error_behind_the_gate_comes_back_as_a_refusal(night, monkeypatch):
    import warehouse.analyst_read as sandbox

    monkeypatch.setattr(sandbox, "ALLOWED_TABLE_FUNCTIONS", ALLOWED_TABLE_FUNCTIONS | {"read_text"})
    with analyst_read(Path(paths(night)["snapshot"])) as read:
        with pytest.raises(Refused, match="file system operations are disabled"):
            read.query(f"SELECT * FROM read_text('{paths(night)['key']}')").fetchall()


def test_ordinary_questions_still_work(target, night):
    read, p = target
    on_snapshot = p["other"] == p["working"]
    communities = set(night.truth["population"]["communities"])
    month = read.query("SELECT community_code FROM marts.community_month WHERE level = 'community'").fetchall()
    assert {c for (c,) in month} == communities
    joined = read.query("""SELECT count(DISTINCT p.person_key) FROM std.person p
        JOIN std.employment_spell e USING (person_key) JOIN std.health_encounter h USING (person_key)""").fetchone()[0]
    # the snapshot of a 120-person night unlinks its small tables (the k gate): the join runs, and finds no one
    assert joined == 0 if on_snapshot else joined > 0
    by_band = dict(read.query("SELECT birth_date, count(*) FROM std.person GROUP BY ALL").fetchall())
    assert sum(by_band.values()) == read.query("SELECT count(*) FROM std.person").fetchone()[0] > 0
    assert "person_key" in {r[0] for r in read.query("DESCRIBE std.person").fetchall()}
    assert "person_key" in {r[0] for r in read.query("SUMMARIZE std.person").fetchall()}
    assert read.query("EXPLAIN SELECT * FROM marts.community_month").fetchall()
    assert read.query("EXPLAIN ANALYZE SELECT count(*) FROM std.person").fetchall()
    assert read.query("EXPLAIN (FORMAT json) SELECT 1").fetchall()
    assert ("std", "person") in {(r[1], r[2]) for r in read.query("SHOW ALL TABLES").fetchall()}
    read.query("SHOW TABLES").fetchall()
    assert read.query("SELECT 1; SELECT 2 AS two").fetchall() == [(2,)]
    assert read.query("WITH x AS (SELECT * FROM range(3) t(n)) SELECT sum(n) FROM x").fetchone()[0] == 3
    assert read.query("SELECT unnest([1, 2]) AS n").fetchall() == [(1,), (2,)]
    assert read.query("FROM generate_series(1, 3) SELECT count(*)").fetchone()[0] == 3
    assert read.query("SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'marts' "
                      "AND table_name = 'community_month'").fetchone()[0] >= 10  # a table or a view
    assert read.query("PIVOT (SELECT range % 2 AS k, range AS v FROM range(10)) ON k IN (0, 1) USING sum(v)"
                      ).fetchall() == [(20, 25)]
    assert read.query("SELECT * FROM marts.community_month WHERE level = 'community'",
                      lazy=True).to_arrow_table().num_rows == len(communities)


def test_the_snapshot_has_no_quarantine_and_the_steward_reads_it_sandboxed(night, monkeypatch):
    p = paths(night)
    with analyst_read(Path(p["snapshot"])) as read:
        with pytest.raises(duckdb.CatalogException):
            read.query("SELECT count(*) FROM meta.quarantine")
    monkeypatch.setenv("UNSILO_ROLE", "steward")
    with steward_read(Path(p["working"])) as read:
        assert read.query("SELECT count(*) FROM meta.quarantine").fetchone()[0] > 0


@pytest.mark.parametrize("role", [None, "", "analyst", "Steward", "stewards"])
def test_the_working_warehouse_needs_the_steward_role(night, monkeypatch, role):
    if role is None:
        monkeypatch.delenv("UNSILO_ROLE", raising=False)
    else:
        monkeypatch.setenv("UNSILO_ROLE", role)
    with pytest.raises(Refused, match="needs the steward role"):
        steward_read(night.warehouse)


# The CLI, run as a user runs it: a refusal is one line, exit 3, no traceback, no file; answers still come.

def cli(night, tmp: Path, *args: str, role: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, UNSILO_HOME=str(night.home), UNSILO_PSEUDONYM_KEY=KEY, COLUMNS="200", TMPDIR=str(tmp))
    env.pop("UNSILO_ROLE", None)
    if role:
        env["UNSILO_ROLE"] = role
    return subprocess.run([str(UNSILO), *args], env=env, capture_output=True, text=True, timeout=120)


CLI_ESCAPES = [
    ("SELECT content FROM read_text('{key}')", "read_text"),
    ("SELECT * FROM read_parquet('{landing_glob}')", "read_parquet"),
    ("SELECT 1; ATTACH '{working}' AS w", "ATTACH"),
    ("COPY (SELECT * FROM std.person) TO '{out}'", "COPY"),
    ("INSTALL httpfs", "INSTALL"),
    ("SET enable_external_access = true", "SET"),
    ("SELECT * FROM '{landing}'", "reads a file"),
    ("WITH k AS (FROM glob('{home}/*')) SELECT * FROM k", "glob"),
]


@pytest.mark.parametrize("where", TARGETS)
@pytest.mark.parametrize("sql, message", CLI_ESCAPES, ids=[s[:30] for s, _ in CLI_ESCAPES])
def test_the_cli_refuses_in_one_line_and_exits_non_zero(night, tmp_path, where, sql, message):
    p = paths(night)
    target = tmp_path / "answer.csv"
    before = tree(night.home, tmp_path)
    args = ["query", sql.format(**p), "--format", "csv", "--output", str(target)]
    out = cli(night, tmp_path, *args, *(["--working"] if where == "working" else []),
              role="steward" if where == "working" else None)
    assert out.returncode == 3, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("refused: ") and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr + out.stdout and out.stdout == ""
    assert tree(night.home, tmp_path) == before, "a refused query left a file behind"


def test_the_cli_working_read_needs_the_role_and_answers_with_it(night, tmp_path):
    sql = "SELECT count(*) AS n FROM meta.quarantine"
    for role in (None, "analyst"):
        out = cli(night, tmp_path, "query", sql, "--working", role=role)
        assert out.returncode == 3 and "Traceback" not in out.stderr
        assert out.stderr.strip().startswith("refused: reading the working warehouse needs the steward role")
        out = cli(night, tmp_path, "tables", "--working", role=role)
        assert out.returncode == 3 and "steward role" in out.stderr
    out = cli(night, tmp_path, "query", sql, "--working", "--format", "csv", role="steward")
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.splitlines()[1]) > 0


def test_the_cli_still_answers_and_writes_only_the_output(night, tmp_path):
    target = tmp_path / "out" / "month.csv"
    target.parent.mkdir()
    before = tree(night.home)
    out = cli(night, tmp_path, "query", "SELECT community_code FROM marts.community_month WHERE level = 'community' ORDER BY 1",
              "--format", "csv", "--output", str(target))
    assert out.returncode == 0, out.stderr
    assert target.read_text(encoding="utf-8").splitlines()[1:] == sorted(night.truth["population"]["communities"])
    for sql in ("DESCRIBE std.person", "SUMMARIZE std.person", "EXPLAIN SELECT * FROM std.person", "SHOW ALL TABLES"):
        out = cli(night, tmp_path, "query", sql, "--format", "json")
        assert out.returncode == 0 and out.stdout.strip().startswith("["), (sql, out.stderr)
    assert tree(night.home) == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["month.csv", "out"]


def test_the_benchmark_runs_both_paths_and_they_agree(night):
    """bench/analyst_query.py, once: a row per query and path (it exits non-zero if the answers differ)."""
    out = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[2] / "bench" / "analyst_query.py"),
                          "--snapshot", paths(night)["snapshot"], "--repeat", "1"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 6 and sum("sandboxed" in r for r in rows) == 3


def test_a_runaway_query_is_stopped_by_the_session_limits(night, tmp_path, monkeypatch):
    runaway = "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t"
    monkeypatch.setenv("UNSILO_QUERY_TIMEOUT", "2")
    out = cli(night, tmp_path, "query", runaway)
    assert out.returncode == 1, out.stderr
    assert "stopped after UNSILO_QUERY_TIMEOUT (2 s)" in out.stderr and "Traceback" not in out.stderr
    monkeypatch.setenv("UNSILO_QUERY_MEMORY", "300MB")
    with analyst_read(Path(paths(night)["snapshot"])) as read:
        limit = read.query("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit.endswith("MiB") and float(limit.split()[0]) < 300
