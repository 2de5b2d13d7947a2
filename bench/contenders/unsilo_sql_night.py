"""Contenders (c) and (d) of bench/sql_source.py: unsilo's night for the PostgreSQL employment register: extract
through the sql_table connector, normalize to the standard, Great Expectations validation with the entity's whole
suite, quarantine, merge into the warehouse, ledger. ``--full-refresh`` reads the whole table (the full night);
without it the night reads from the cursor the last load saved (the incremental night).

    python bench/contenders/unsilo_sql_night.py HOME DAY [--full-refresh]     (UNSILO_BENCH_SQL_URL: the table's DB)
"""

import datetime as dt
import os
import sys
from pathlib import Path

from unsilo.catalog import load_source
from unsilo.interval import Interval
from unsilo.night import run_source
from unsilo.settings import settings

home, day = sys.argv[1], dt.date.fromisoformat(sys.argv[2])
os.environ["UNSILO_HOME"] = home
cfg = settings()
yaml = Path(__file__).resolve().parents[1] / "sources" / "bench_employment_sql.yaml"
entry = run_source(load_source(yaml, cfg), Interval.night(day), cfg, full_refresh="--full-refresh" in sys.argv[3:])
print(entry.extracted, entry.loaded, entry.quarantined, entry.unchanged)
