"""``unsilo demo`` without Airflow: the summary it prints, and a new population starting a fresh warehouse."""

from __future__ import annotations

import io

import duckdb
from rich.console import Console

from tests.night_fixture import night_env
from unsilo.demo_night import demo_night


def test_demo_prints_the_summary_and_a_new_population_starts_afresh(tmp_path, monkeypatch):
    night_env(monkeypatch, tmp_path)
    out = io.StringIO()
    console = Console(file=out, width=200)
    demo_night(people=80, seed=1, use_airflow=False, generate_only=False, console=console)
    text = out.getvalue()
    for title in ("ledger", "Rows per entity", "Quarantined rows per rule", "marts.community_overview"):
        assert title in text
    demo_night(people=90, seed=1, use_airflow=False, generate_only=False, console=console)
    assert "starting with an empty warehouse" in out.getvalue()
    con = duckdb.connect(str(tmp_path / "warehouse" / "unsilo.duckdb"), read_only=True)
    assert con.execute("SELECT count(DISTINCT run_id) FROM meta.ledger").fetchone()[0] == 15  # one night only
    assert con.execute("SELECT sum(loaded) FROM meta.ledger").fetchone()[0] > 0
    con.close()


def test_generate_only_writes_no_warehouse(tmp_path, monkeypatch):
    night_env(monkeypatch, tmp_path)
    demo_night(people=50, seed=2, use_airflow=False, generate_only=True, console=Console(file=io.StringIO()))
    assert (tmp_path / "departments" / "truth.json").exists()
    assert not (tmp_path / "warehouse").exists()


