"""A source YAML cannot reach outside its department: paths outside the root, ``..`` escapes, symlinks out, unsafe
ids and ``sql:`` expressions that read files are refused before anything runs, naming the file, the key and the
root; nothing is written to the warehouse or the landing zone."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from connectors import SourceError
from standards.entity import entity
from standards.sql_expression import SqlExpressionError, sql_expression
from standards.transform import MappingError, compile_transform
from tests.night_fixture import KEY
from unsilo.catalog import CatalogError, load_source
from unsilo.department_roots import DepartmentRootsError, configured_roots, department_roots
from unsilo.interval import Interval
from unsilo.night import run_source
from unsilo.settings import settings

UNSILO = Path(sys.executable).with_name("unsilo")
NIGHT = Interval.night(dt.date(2026, 6, 1))
STOPS = "stop_id,stop_name,stop_lat,stop_lon\nS1,Harbour,30.1,120.2\nS2,Station,30.2,120.3\n"


def stops_yaml(connector: str, source_id: str = "city_stops", fields: str = "") -> str:
    return f"""\
id: {source_id}
department: transport
entity: transit_stop
connector:
{connector}
fields:
  stop_id: stop_id
  stop_name: {fields or 'stop_name'}
  lat: stop_lat
  lon: stop_lon
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A data root whose transport department drops stops.csv in its root, the way the demo lays files out."""
    monkeypatch.setenv("UNSILO_HOME", str(tmp_path))
    monkeypatch.setenv("UNSILO_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)
    monkeypatch.delenv("UNSILO_DEPARTMENT_ROOTS", raising=False)
    drop = tmp_path / "departments" / "transport" / "drop"
    drop.mkdir(parents=True)
    (drop / "stops.csv").write_text(STOPS, encoding="utf-8")
    return tmp_path


def write(home: Path, text: str, name: str = "hostile.yaml") -> Path:
    path = home / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(home: Path, text: str) -> str:
    """The one-line error ``load_source`` gives (the YAML's first problem), after checking nothing was written."""
    with pytest.raises(CatalogError) as err:
        load_source(write(home, text), settings())
    assert not (home / "warehouse").exists() and not (home / "landing").exists()
    return str(err.value).splitlines()[0]


def test_the_root_folder_itself_loads(home):
    src = load_source(write(home, stops_yaml('  kind: csv_drop\n  folder: "{home}/departments/transport/drop"\n'
                                             '  pattern: stops.csv')), settings())
    entry = run_source(src, NIGHT, settings())
    assert entry.status == "success" and entry.loaded == 2


@pytest.mark.parametrize("connector, key, shown", [
    ("  kind: csv_drop\n  folder: /etc\n  pattern: passwd", "connector.folder", "reads /etc,"),
    ('  kind: csv_drop\n  folder: "{home}/departments/transport/drop/../../../../etc"\n  pattern: passwd',
     "connector.folder", "(which resolves to "),
    ('  kind: csv_drop\n  folder: "{home}/departments/transport/drop"\n  pattern: ../../../../etc/passwd',
     "connector.pattern", "must be a file name inside the folder, without '..'"),
    ('  kind: csv_drop\n  folder: "{home}/departments/transport/drop"\n  pattern: "../../etc/*"',
     "connector.pattern", "without '..'"),
    ('  kind: csv_drop\n  folder: "{home}/departments/transport/drop"\n  pattern: /etc/passwd',
     "connector.pattern", "without '..' or a leading '/'"),
    ('  kind: csv_drop\n  folder: "{home}/departments/transport/drop"\n  pattern: "{date.__class__}.csv"',
     "connector.pattern", "only {date} or {date:FORMAT} is allowed"),
    ('  kind: csv_drop\n  folder: "{home}/departments/{date.__class__}"\n  pattern: "x_{date:%Y%m%d}.csv"',
     "connector.folder", "only {date} or {date:FORMAT} is allowed"),
    ("  kind: gtfs\n  path: /etc\n  file: passwd", "connector.path", "reads /etc,"),
    ('  kind: gtfs\n  path: "{home}/departments/transport/drop"\n  file: ../../../../etc/passwd', "connector.file",
     "without '..'"),
    ('  kind: fhir_bundle\n  path: "{home}/departments/transport/*/../../../../etc/*"', "connector.path",
     "holds '..' after a wildcard"),
    ("  kind: fhir_bulk\n  path: /etc/passwd", "connector.path", "reads /etc/passwd,"),
    ("  kind: sql_table\n  url: sqlite:////etc/x.db\n  table: stops\n  key: stop_id\n  cursor: changed",
     "connector.url", "reads /etc/x.db,"),
    ("  kind: sql_table\n  url: sqlite:///file:/etc/x.db?uri=true\n  table: stops\n  key: stop_id\n  cursor: c",
     "connector.url", "uri=true"),
])
def test_paths_outside_the_root_are_refused_naming_file_key_and_root(home, connector, key, shown):
    message = refused(home, stops_yaml(connector))
    assert message.startswith(f"{home / 'hostile.yaml'}:5: {key}: ") or message.startswith(
        f"{home / 'hostile.yaml'}:6: {key}: ") or message.startswith(f"{home / 'hostile.yaml'}:7: {key}: ")
    assert shown in message
    if "reads" in shown:
        assert f"department transport's root ({home / 'departments' / 'transport'})" in message


def test_a_symlink_out_of_the_root_is_refused_before_anything_runs(home):
    drop = home / "departments" / "transport" / "drop"
    (drop / "passwd.csv").symlink_to("/etc/passwd")
    message = refused(home, stops_yaml('  kind: csv_drop\n  folder: "{home}/departments/transport/drop"\n'
                                       '  pattern: passwd.csv'))
    assert "connector.pattern" in message and "(which resolves to /etc/passwd)" in message
    (home / "departments" / "transport" / "feed").symlink_to("/etc")
    message = refused(home, stops_yaml('  kind: gtfs\n  path: "{home}/departments/transport/feed"\n  file: passwd'))
    assert "connector.path" in message and "(which resolves to /etc)" in message


def test_a_gtfs_folder_holding_a_symlink_out_is_refused(home):
    feed = home / "departments" / "transport" / "feed"
    feed.mkdir()
    (feed / "stops.txt").write_text(STOPS, encoding="utf-8")
    (feed / "agency.txt").symlink_to("/etc/passwd")
    message = refused(home, stops_yaml('  kind: gtfs\n  path: "{home}/departments/transport/feed"\n  file: stops.txt'))
    assert "agency.txt" in message and "/etc/passwd" in message


def test_a_symlink_laid_after_the_check_is_refused_when_read(home):
    """The connector checks each file again as it reads it: a symlink swapped in between fails the source alone,
    and nothing of it lands."""
    src = load_source(write(home, stops_yaml('  kind: csv_drop\n  folder: "{home}/departments/transport/drop"\n'
                                             '  pattern: "stops_{date:%Y%m%d}.csv"')), settings())
    (home / "departments" / "transport" / "drop" / "stops_20260601.csv").symlink_to("/etc/passwd")
    with pytest.raises(SourceError) as err:
        run_source(src, NIGHT, settings())
    assert "the csv_drop connector reads" in str(err.value) and "(which resolves to /etc/passwd)" in str(err.value)
    assert f"outside department transport's root ({home / 'departments' / 'transport'})" in str(err.value)
    assert not list((home / "landing").glob("**/*.parquet"))
    with duckdb.connect(str(home / "warehouse" / "unsilo.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM std.transit_stop").fetchone() == (0,)
        assert con.execute("SELECT status FROM meta.ledger").fetchall() == [("failed",)]


@pytest.mark.parametrize("source_id", ["../../x", "x'; DROP TABLE std.person; --", "Stops", "a/b", "stops\u200b",
                                       "_x", "x" * 65, "1stops", "stops\\n", "stops\\u0000"])
def test_unsafe_ids_are_refused(home, source_id):
    text = stops_yaml('  kind: csv_drop\n  folder: "{home}/departments/transport/drop"\n  pattern: stops.csv',
                      source_id=f'"{source_id}"')
    message = refused(home, text)
    assert message.startswith(f"{home / 'hostile.yaml'}:1: id: ") and "is not a safe source id" in message


def test_the_pseudonym_domain_cannot_carry_sql(home):
    text = stops_yaml('  kind: csv_drop\n  folder: "{home}/departments/transport/drop"\n  pattern: stops.csv',
                      fields="{from: stop_name, pseudonymize: \"person'' || getenv('HOME') || ''\"}")
    assert "fields.stop_name.pseudonymize" in refused(home, text)


HOSTILE_SQL = [
    ("(SELECT content FROM read_text('{key}'))", "a subquery"),
    ("read_text('{key}')", "read_text()"),
    ("upper(trim(coalesce(read_blob('{key}'), stop_name)))", "read_blob()"),
    ("getenv('HOME')", "getenv()"),
    ("current_setting('home_directory')", "current_setting()"),
    ("1); DROP TABLE x; --", "comment"),
    ("stop_name) FROM landing; DROP TABLE std.transit_stop; SELECT (1", "';'"),
    ("x' || '", "does not parse"),
    ("std.transit_stop.stop_name", "no other table"),
    ("other.stop_name", "no other table"),
    ("stop_name /* */ || 'x'", "comment"),
    ("stop_name\u202e", "invisible character U+202E"),
    ("\uff52\uff45\uff41\uff44_text('{key}')", "not on the allow-list"),
    ("list_transform([stop_name], x -> read_text(x))", "list_transform()"),
    ("main.upper(stop_name)", "without a schema"),
    ("count(*)", "count_star()"),
    ("lag(stop_name) OVER ()", "a window function"),
    ("EXISTS (SELECT 1)", "a subquery"),
    ("stop_name IN (SELECT name FROM glob('/etc/*'))", "a subquery"),
    ("COLUMNS('.*')", "a star"),
    ("$1", "a query parameter"),
    ("__unsilo_json_1", "internal column"),
]


@pytest.mark.parametrize("expr, construct", HOSTILE_SQL)
def test_hostile_sql_expressions_are_refused_naming_the_field_and_construct(home, expr, construct):
    key = home / "secrets" / "pseudonym.key"
    text = stops_yaml('  kind: csv_drop\n  folder: "{home}/departments/transport/drop"\n  pattern: stops.csv',
                      fields="{sql: " + _quoted(expr.format(key=key)) + "}")
    message = refused(home, text)
    assert message.startswith(f"{home / 'hostile.yaml'}:10: fields.stop_name.sql: the sql expression is refused")
    assert construct in message


def _quoted(expr: str) -> str:
    """A YAML double-quoted scalar holding ``expr`` exactly."""
    return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) > 0x7e or c in '"\\' else c for c in expr) + '"'


@pytest.mark.parametrize("expr", [
    "coalesce(NULLIF(stop_name, ''), stop_id)", "upper(\"stop_name\")", "CASE WHEN stop_lat::DOUBLE > 30 THEN 'n' END",
    "regexp_replace(stop_name, '[^a-z]', '', 'g')", "split_part(stop_name, ';', 2)", "strftime(try_strptime("
    "stop_id, '%Y%m%d'), '%Y')", "json_extract_string(stop_name, '$.a') || ' -- not a comment'",
])
def test_ordinary_expressions_pass(expr):
    assert sql_expression(expr, ["stop_id", "stop_name", "stop_lat"]) == expr


def test_the_transform_checks_the_expression_again_against_the_landed_columns():
    """A source dict that never went through the catalog is still refused where the SQL is compiled."""
    source = {"id": "s", "fields": {"stop_id": "stop_id", "stop_name": {"sql": "read_text('/etc/passwd')"}}}
    with pytest.raises(MappingError, match=r"field 'stop_name': the sql expression is refused: it calls read_text"):
        compile_transform(source, entity("transit_stop"), ["stop_id", "stop_name"], b"k", dt.date(2026, 6, 2))
    source["fields"]["stop_name"] = {"sql": "upper(stop_nam)"}
    with pytest.raises(MappingError, match=r"'stop_nam', which is not a raw column"):
        compile_transform(source, entity("transit_stop"), ["stop_id", "stop_name"], b"k", dt.date(2026, 6, 2))
    with pytest.raises(SqlExpressionError):
        sql_expression("stop_name", ["stop_id"])


def test_the_cli_refuses_the_key_file_reader_and_writes_nothing(home):
    key = home / "secrets" / "pseudonym.key"
    key.parent.mkdir()
    key.write_text("secret-key-material\n", encoding="ascii")
    path = write(home, stops_yaml('  kind: csv_drop\n  folder: "{home}/departments/transport/drop"\n'
                                  '  pattern: stops.csv', fields='{sql: "read_text(\'' + str(key) + '\')"}'))
    env = dict(os.environ, UNSILO_HOME=str(home), UNSILO_PSEUDONYM_KEY=KEY)
    env.pop("UNSILO_DEPARTMENT_ROOTS", None)
    out = subprocess.run([str(UNSILO), "sync", str(path), "--start", "2026-06-01"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1
    assert f"{path}:10: fields.stop_name.sql: the sql expression is refused: it calls read_text()" in out.stderr
    assert "secret-key-material" not in out.stdout + out.stderr
    assert not (home / "warehouse").exists() and not (home / "landing").exists()


def test_configured_roots(home, monkeypatch):
    monkeypatch.setenv("UNSILO_DEPARTMENT_ROOTS", f"transport={{home}}/departments/transport,transport={home}/x")
    assert department_roots("transport", home) == [str(home / "departments" / "transport"), str(home / "x")]
    assert department_roots("health", home) == [str(home / "departments" / "health")]  # the default stays
    for bad in ("transport", "transport=relative/path", "Transport=/x", "../x=/x"):
        with pytest.raises(DepartmentRootsError, match="UNSILO_DEPARTMENT_ROOTS"):
            configured_roots(home, bad)
    elsewhere = home.parent / f"{home.name}-elsewhere"
    elsewhere.mkdir()
    (elsewhere / "stops.csv").write_text(STOPS, encoding="utf-8")
    text = stops_yaml(f'  kind: csv_drop\n  folder: "{elsewhere}"\n  pattern: stops.csv')
    assert "connector.folder" in refused(home, text)
    monkeypatch.setenv("UNSILO_DEPARTMENT_ROOTS", f"transport={elsewhere}")
    assert load_source(write(home, text), settings())["connector"]["folder"] == str(elsewhere)


def test_a_bundle_folder_holding_a_symlink_out_is_refused(home):
    bundles = home / "departments" / "health" / "bundles"
    bundles.mkdir(parents=True)
    (bundles / "a.json").write_text('{"resourceType": "Patient", "id": "p1"}', encoding="utf-8")
    (bundles / "b.json").symlink_to("/etc/passwd")
    text = """\
id: clinic_patients
department: health
entity: person
connector: {kind: fhir_bundle, path: "{home}/departments/health/bundles"}
fields:
  person_key: {json: "$.identifier[0].value", pseudonymize: person}
  sex_code: {json: "$.gender"}
  birth_date: {json: "$.birthDate"}
"""
    message = refused(home, text)
    assert "connector.path" in message and "b.json (which resolves to /etc/passwd)" in message


@pytest.mark.parametrize("kind, options", [
    ("csv_drop", {"folder": "/etc", "pattern": "passwd"}),
    ("gtfs", {"path": "/etc", "file": "passwd"}),
    ("fhir_bulk", {"path": "/etc/passwd"}),
    ("fhir_bundle", {"path": "/etc/*"}),
    ("sql_table", {"url": "sqlite:////etc/x.db", "table": "t", "key": "k", "cursor": "c"}),
])
def test_each_connector_checks_what_it_reads_against_the_roots_it_is_handed(tmp_path, kind, options):
    """Below the catalog: a connector handed its department's roots refuses a path outside them as it reads."""
    from connectors import connector

    conn = connector("s", kind, {"kind": kind, **options, "_roots": [str(tmp_path)], "_department": "transport"})
    with pytest.raises(SourceError, match=rf"source s: .*reads /etc.*outside department transport's root \({tmp_path}\)"):
        list(conn.read(dt.date(2026, 6, 1), dt.date(2026, 6, 2)))
