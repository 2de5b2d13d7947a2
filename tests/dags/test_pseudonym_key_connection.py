"""The pseudonym key from the Airflow Connection ``unsilo_pseudonym_key`` kept in Airflow's metadata database:
a task gets it through ``dags/unsilo_connections.py``, computes keys with it, and never logs it; files stay
owner-only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from standards import gb11643
from standards.pseudonym import hmac_sql
from tests.night_fixture import generated_night
from unsilo.airflow_runner import airflow_env, prepare, run_dag
from unsilo.demo import NIGHT
from unsilo.settings import KEY_CONN_ENV, KEY_ENV, KEY_FILE_ENV, settings

pytestmark = pytest.mark.airflow

PASSWORD = "Unsilo-Key-From-A-Connection-4b9e"


def test_a_connection_in_the_metadata_database_keys_the_night(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        night = generated_night(tmp_path_factory, mp, people=60)
        for var in (KEY_ENV, KEY_FILE_ENV, KEY_CONN_ENV):
            mp.delenv(var, raising=False)
        mp.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))  # no default key to fall back on
        cfg = settings()
        log = night.home / "airflow.log"
        prepare(cfg, log)
        added = subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), "connections", "add", "unsilo_pseudonym_key",
             "--conn-type", "generic", "--conn-password", PASSWORD],
            env=airflow_env(cfg), capture_output=True, text=True, timeout=300)
        assert added.returncode == 0, added.stderr[-2000:]
        run_dag("sync_employment", NIGHT, cfg, log)
        landing = night.home / "landing" / "employment_registration"
        with duckdb.connect(str(night.warehouse), read_only=True) as con:
            key = hmac_sql(PASSWORD.encode(), "person", gb11643.normalized_sql("NULLIF(trim(身份证号), '')"))
            spells, keyed = con.execute(
                f"""SELECT count(*), count(*) FILTER (WHERE person_key IN
                    (SELECT {key} FROM read_parquet('{landing}/*.parquet'))) FROM std.employment_spell""").fetchone()
        assert spells > 0 and keyed == spells
        logs = [log, *(night.home / "airflow" / "logs").rglob("*.log")]
        assert [str(p) for p in logs if PASSWORD in p.read_text(encoding="utf-8", errors="replace")] == []
        task_logs = night.home / "airflow" / "logs"
        opened = [str(p) for p in task_logs.rglob("*") if not p.is_symlink() and os.stat(p).st_mode & 0o077]
        assert opened == []
        assert stat.S_IMODE(os.stat(landing).st_mode) == 0o700
