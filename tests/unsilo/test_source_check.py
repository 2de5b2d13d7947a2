"""A source YAML is checked before anything runs for it: misspelled keys, wrong types and unknown names are errors
naming the file, the line and the key with the nearest valid name; the published JSON Schema is current and
accepts exactly what the check accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import unavailable
from unsilo.catalog import CatalogError, load_source
from unsilo.settings import REPO, settings
from unsilo.source_check import SCHEMA_PATH, check_paths, check_text, schema_text

UNSILO = Path(sys.executable).with_name("unsilo")
REAL = REPO.parent / "shared" / "data" / "real"
#: the roots a steward allows to run the examples in sources/examples next to the demo (docs/sources.md)
EXAMPLE_ROOTS = ",".join(f"{d}={{home}}/departments/{d},{d}={REAL / d}" for d in ("health", "housing", "transport"))

GOOD = """\
id: city_lines
department: housing
entity: tenancy
codelist_system: housing
tolerate_new_columns: false
connector:
  kind: sql_table
  url: "sqlite:///{home}/departments/housing/housing.db"
  table: tenancies
  key: tenancy_id
  cursor: updated_at
  incremental: true
  lookback: 600
fields:
  tenancy_id: tenancy_id
  household_key: {from: household_id, pseudonymize: household}
  address_key: {from: unit_id, pseudonymize: address}
  started_on: {from: start_date, formats: ["%Y-%m-%d"]}
  status_code: status
"""


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSILO_HOME", str(tmp_path))
    monkeypatch.delenv("UNSILO_DEPARTMENT_ROOTS", raising=False)
    monkeypatch.delenv("UNSILO_WAREHOUSE", raising=False)
    return settings()


def problems(text: str, cfg) -> list[str]:
    return [str(p) for p in check_text(text, "s.yaml", cfg)]


def test_a_good_yaml_has_no_problem(cfg):
    assert problems(GOOD, cfg) == []


@pytest.mark.parametrize("old, new, line, key, hint", [
    ("codelist_system: housing", "codelist_sytem: housing", 4, "codelist_sytem", "codelist_system"),
    ("tolerate_new_columns: false", "tolerate_new_colums: false", 5, "tolerate_new_colums", "tolerate_new_columns"),
    ("  lookback: 600", "  lookbak: 600", 13, "connector.lookbak", "lookback"),
    ("  incremental: true", "  incremental_: true", 12, "connector.incremental_", "incremental"),
    ("{from: household_id, pseudonymize: household}", "{from: household_id, pseudonymise: household}", 16,
     "fields.household_key.pseudonymise", "pseudonymize"),
    ("{from: start_date, formats:", "{from: start_date, format:", 18, "fields.started_on.format", "formats"),
])
def test_a_misspelled_key_names_file_line_and_the_nearest_key(cfg, old, new, line, key, hint):
    assert old in GOOD
    got = problems(GOOD.replace(old, new), cfg)
    assert got == [f"s.yaml:{line}: {key}: unknown key in " + got[0].split(" unknown key in ", 1)[1]]
    assert f"(did you mean {hint!r}?)" in got[0]


@pytest.mark.parametrize("old, new, line, key, message", [
    ("tolerate_new_columns: false", "tolerate_new_columns: yes please", 5, "tolerate_new_columns",
     "must be boolean, not string"),
    ("  lookback: 600", "  lookback: an hour", 13, "connector.lookback", "must be number, not string"),
    ("  incremental: true", "  incremental: [true]", 12, "connector.incremental", "must be boolean, not array"),
    ("codelist_system: housing", "codelist_system: housng", 4, "codelist_system",
     "unknown code-list system 'housng' (did you mean 'housing'?)"),
    ("department: housing", "department: housng", 2, "department",
     "unknown department 'housng' (did you mean 'housing'?)"),
    ("entity: tenancy", "entity: tenancyy", 3, "entity", "unknown entity 'tenancyy' (did you mean 'tenancy'?)"),
    ("  kind: sql_table", "  kind: sql_tabel", 7, "connector.kind",
     "unknown connector kind 'sql_tabel' (did you mean 'sql_table'?)"),
    ("  status_code: status", "  status_cod: status", 19, "fields.status_cod",
     "entity tenancy has no field 'status_cod' (did you mean 'status_code'?)"),
    ("pseudonymize: household}", "pseudonymize: househld}", 16, "fields.household_key.pseudonymize",
     "'househld' is not one of person, household, address (did you mean 'household'?)"),
    ("  tenancy_id: tenancy_id\n", "  tenancy_id: {from: tenancy_id, value: x}\n", 15, "fields.tenancy_id",
     "needs exactly one of from, json, sql, value, not from and value"),
    ("  table: tenancies", "  table: \"tenancies; DROP TABLE t\"", 9, "connector.table",
     "does not match ^[A-Za-z_][A-Za-z0-9_]*$"),
    ("  table: tenancies", "  url_env: UNSILO_PSEUDONYM_KEY\n  table: tenancies", 9, "connector.url_env",
     "does not match ^[A-Z][A-Z0-9_]*_URL$"),
    ("  status_code: status\n", "  status_code: status\nquality: {freshness: {field: started_onn}}\n", 20,
     "quality.freshness.field", "entity tenancy has no field 'started_onn' (did you mean 'started_on'?)"),
])
def test_wrong_types_and_unknown_names(cfg, old, new, line, key, message):
    assert old in GOOD
    got = problems(GOOD.replace(old, new), cfg)
    assert any(p.startswith(f"s.yaml:{line}: {key}: ") and message in p for p in got), got


def test_every_problem_is_listed_and_missing_keys_named(cfg):
    text = GOOD.replace("codelist_system", "codelist_sytem").replace("entity: tenancy\n", "").replace(
        "  lookback", "  lookbak")
    got = problems(text, cfg)
    assert any("entity: is required" in p for p in got)
    assert sum("unknown key" in p for p in got) == 2
    unmapped = problems(GOOD.replace("  tenancy_id: tenancy_id\n", ""), cfg)
    assert unmapped == ["s.yaml:14: fields.tenancy_id: the required field 'tenancy_id' of entity tenancy is not mapped"]


def test_a_key_given_twice_is_a_problem(cfg):
    got = problems(GOOD + "tolerate_new_columns: true\n", cfg)
    assert got == ["s.yaml:20: tolerate_new_columns: is given twice (line 5 too)"]


def test_the_catalog_refuses_a_misspelled_yaml_before_anything_runs(cfg, tmp_path):
    path = tmp_path / "lines.yaml"
    path.write_text(GOOD.replace("codelist_system", "codelist_sytem"), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_source(path, cfg)
    assert str(err.value).startswith(f"{path}:4: codelist_sytem: unknown key")
    assert "'codelist_system'" in str(err.value)
    assert not (tmp_path / "warehouse").exists() and not (tmp_path / "landing").exists()


def test_every_repo_source_and_example_passes(cfg, monkeypatch):
    if not REAL.is_dir():
        unavailable(f"real data folder ../shared/data/real is absent (looked in {REAL})")
    monkeypatch.setenv("UNSILO_DEPARTMENT_ROOTS", EXAMPLE_ROOTS)
    assert check_paths([REPO / "sources", REPO / "sources" / "examples"], cfg) == []
    monkeypatch.setenv("UNSILO_DEPARTMENT_ROOTS", f"employment={cfg.home}")  # the benchmark's drop
    assert check_paths([REPO / "bench" / "sources"], cfg) == []


def test_the_published_schema_is_current():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), "run `unsilo sources schema`"


def test_the_schema_accepts_the_repo_sources_and_refuses_the_misspelled_ones():
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    for path in sorted((REPO / "sources").glob("**/*.yaml")):
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
        assert errors == [], path
    good = yaml.safe_load(GOOD)
    assert list(validator.iter_errors(good)) == []
    for bad in (GOOD.replace("codelist_system", "codelist_sytem"), GOOD.replace("  lookback", "  lookbak"),
                GOOD.replace("tolerate_new_columns: false", "tolerate_new_colums: false"),
                GOOD.replace("entity: tenancy", "entity: tenancyy"), GOOD.replace("sql_table", "sql_tabel"),
                GOOD.replace("status_code: status", "status_cod: status"), GOOD.replace("id: city_lines", "id: ../x"),
                GOOD.replace("lookback: 600", "lookback: soon")):
        assert list(validator.iter_errors(yaml.safe_load(bad))), bad


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, UNSILO_HOME=str(home), COLUMNS="300")
    env.pop("UNSILO_DEPARTMENT_ROOTS", None)
    return subprocess.run([str(UNSILO), *args], env=env, capture_output=True, text=True, timeout=120)


def test_sources_check_lists_every_problem_and_exits_non_zero(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD.replace("codelist_system", "codelist_sytem"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD.replace("id: city_lines", "id: other").replace("  lookback", "  lookbak"),
                                     encoding="utf-8")
    (tmp_path / "c.yaml").write_text(GOOD.replace("id: city_lines", "id: third"), encoding="utf-8")
    out = run_cli(tmp_path, "sources", "check", str(tmp_path))
    assert out.returncode == 1
    assert f"{tmp_path / 'a.yaml'}:4: codelist_sytem: unknown key" in out.stdout
    assert f"{tmp_path / 'b.yaml'}:13: connector.lookbak: unknown key" in out.stdout
    assert "c.yaml" not in out.stdout and "2 problems" in out.stderr
    ok = run_cli(tmp_path, "sources", "check", str(tmp_path / "c.yaml"))
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_night_for_a_misspelled_department_fails_naming_the_nearest(tmp_path):
    out = run_cli(tmp_path, "night", "--department", "helth")
    assert out.returncode == 1
    assert "no department 'helth'" in out.stderr and "did you mean 'health'?" in out.stderr
    assert not (tmp_path / "warehouse").exists()
