"""One writer: only the load step (and the marts' rebuild) opens the warehouse read-write.

DuckDB lets a process open a file read-only beside other readers, but not while another process writes it, and it
refuses a writer while any other process has the file open. So: extract runs to the end while another process holds
the file read-only (a read-write open would fail there at once, with ``UNSILO_LOCK_WAIT=0``), and validate runs to the
end while another process holds the file read-write (validate opens no warehouse: extract handed it the state).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.night_fixture import generated_night
from unsilo.catalog import source, sources
from unsilo.night import extract_step, run_source
from unsilo.settings import settings
from warehouse.load import LedgerEntry
from warehouse.pending_ledger import pending_dir, pending_ledger
from warehouse.schema import connect

REPO = Path(__file__).resolve().parents[2]
HOUSING = ("housing_communities", "housing_addresses", "housing_units", "housing_households", "housing_tenancies",
           "housing_subsidies")

STEP = """
import datetime as dt, json, sys
from unsilo.catalog import source
from unsilo.interval import Interval
from unsilo.night import extract_step, load_step, transform_step
from unsilo.settings import settings
cfg = settings()
step, source_id, arg = sys.argv[1:4]
src = source(source_id, cfg)
if step == "extract":
    out = extract_step(src, Interval.night(dt.date.fromisoformat(arg)), cfg)
elif step == "validate":
    out = transform_step(src, json.loads(arg), cfg)
else:
    out = load_step(src, json.loads(arg), cfg).as_dict()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        n = generated_night(tmp_path_factory, mp)
        cfg = settings()
        n.entries = [run_source(s, n.interval, cfg) for s in sources(cfg) if s["id"] in HOUSING]
        yield n


def step(name: str, source_id: str, arg: str) -> subprocess.CompletedProcess:
    """Run one step in its own process, which may not wait for a lock (``UNSILO_LOCK_WAIT=0``)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), UNSILO_LOCK_WAIT="0")
    return subprocess.run([sys.executable, "-c", STEP, name, source_id, arg], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)


@contextmanager
def held(warehouse: Path, read_only: bool):
    """Another process holding the warehouse open (read-only: no one may write; read-write: it is the writer)."""
    script = (f"import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only={read_only}); "
              "print('open', flush=True); time.sleep(600)")
    holder = subprocess.Popen([sys.executable, "-c", script, str(warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        yield holder
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_extract_and_validate_run_while_another_process_holds_the_file_and_only_load_needs_the_writer(night):
    assert {e.status for e in night.entries} == {"success"}
    with held(night.warehouse, read_only=True):
        extracted = step("extract", "housing_tenancies", night.interval.start.isoformat())
        assert extracted.returncode == 0, extracted.stderr[-2000:]
        handoff = json.loads(extracted.stdout.splitlines()[-1])
        assert handoff["extracted"] > 0 and Path(handoff["warehouse_state"]).exists()
        state = json.loads(Path(handoff["warehouse_state"]).read_text(encoding="utf-8"))
        assert state["saved"]["columns"]  # the baseline of the last load, read read-only
        validated = step("validate", "housing_tenancies", json.dumps(handoff))
        assert validated.returncode == 0, validated.stderr[-2000:]
        handoff = json.loads(validated.stdout.splitlines()[-1])
        # the reader blocks every writer: the load, which needs the writer's lock, fails at once
        loaded = step("load", "housing_tenancies", json.dumps(handoff))
        assert loaded.returncode != 0 and "lock" in loaded.stderr.lower()
    loaded = step("load", "housing_tenancies", json.dumps(handoff))
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    with night.connect() as con:  # the failed attempt's row, kept while it could not write, went in with the load
        statuses = con.execute("SELECT status, message FROM meta.ledger WHERE starts_with(run_id, ?) "
                               "ORDER BY finished_at", [handoff["run_id"]]).fetchall()
    assert [s for s, _ in statuses] == ["failed", "success"] and statuses[0][1].startswith("load: ")
    assert not list(pending_dir(night.warehouse).glob("*.json"))


def test_validate_opens_no_warehouse_while_a_load_writes_it(night):
    extracted = step("extract", "housing_subsidies", night.interval.start.isoformat())
    assert extracted.returncode == 0, extracted.stderr[-2000:]
    handoff = json.loads(extracted.stdout.splitlines()[-1])
    with held(night.warehouse, read_only=False):
        validated = step("validate", "housing_subsidies", json.dumps(handoff))
        assert validated.returncode == 0, validated.stderr[-2000:]
        assert json.loads(validated.stdout.splitlines()[-1])["verdicts"]
        # the writer blocks readers too: extract waits for it (here, with no wait, it fails)
        assert step("extract", "housing_subsidies", night.interval.start.isoformat()).returncode != 0


DRIFT_ROWS = "SELECT count(*) FROM meta.ledger WHERE run_id LIKE 'housing_units__drift_test%'"


def test_a_failed_extract_leaves_its_row_for_the_next_writer(night):
    cfg = settings()
    drifted = {**source("housing_units", cfg), "columns": ["no_such_column"]}
    with pytest.raises(Exception, match="columns changed"):
        extract_step(drifted, night.interval, cfg, run_id="housing_units__drift_test")
    [waiting] = pending_dir(night.warehouse).glob("housing_units__drift_test__failed_*.json")
    assert waiting.exists() and oct(waiting.stat().st_mode & 0o777) == "0o600"
    with night.connect() as con:
        assert con.execute(DRIFT_ROWS).fetchone()[0] == 0
    with connect(night.warehouse) as con:  # the next writer commits it
        row = con.execute(DRIFT_ROWS.replace("count(*)", "status, message")).fetchall()
    assert row and row[0][0] == "failed" and row[0][1].startswith("extract: ") and not waiting.exists()
    # a row committed but whose file survived (a crash between the two) is not inserted twice
    entry = LedgerEntry(**{**dict(zip(("run_id", "source", "department", "entity"),
                                      (waiting.stem, "housing_units", "housing", "housing_unit"))),
                           "interval_start": night.interval.start, "interval_end": night.interval.end,
                           "started_at": night.entries[0].started_at, "finished_at": night.entries[0].finished_at,
                           "status": "failed", "message": "extract: again"})
    pending_ledger(night.warehouse, entry.as_dict())
    with connect(night.warehouse) as con:
        assert con.execute(DRIFT_ROWS).fetchone()[0] == 1


def _pools(path: Path) -> dict[str, bool]:
    """Each ``@task`` function of a DAG file: whether it runs in the warehouse pool."""
    out = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef):
            for d in node.decorator_list:
                if isinstance(d, ast.Call) and getattr(d.func, "id", None) == "task":
                    out[node.name] = any(k.arg == "pool" and getattr(k.value, "id", None) == "WAREHOUSE_POOL"
                                         for k in d.keywords)
                elif getattr(d, "id", None) == "task":
                    out[node.name] = False
    return out


def test_the_one_slot_pool_guards_exactly_the_writers():
    assert _pools(REPO / "dags" / "unsilo_department_dag.py") == {"extract": False, "normalize_validate": False,
                                                                  "load": True}
    assert _pools(REPO / "dags" / "build_marts.py") == {"rebuild": True}


def test_no_test_hook_is_left_in_product_code():
    product = [p for d in ("unsilo", "warehouse", "quality", "connectors", "standards", "dags")
               for p in (REPO / d).rglob("*.py")]
    assert product
    for p in product:
        text = p.read_text(encoding="utf-8")
        assert "UNSILO_LOAD_PAUSE" not in text and "UNSILO_REKEY_PAUSE" not in text, p
    assert not (REPO / "warehouse" / "pause_inside_load.py").exists()
