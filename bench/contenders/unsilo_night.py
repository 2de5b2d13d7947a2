"""Contender (c): unsilo's full night for one source: extract, normalize to the standard, Great Expectations
validation with the entity's whole suite, quarantine, merge into the warehouse, ledger.

    unsilo_night.py HOME DAY [SOURCE_YAML]      (default: bench/sources/bench_employment.yaml)"""

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
default = Path(__file__).resolve().parents[1] / "sources" / "bench_employment.yaml"
yaml = Path(sys.argv[3]) if len(sys.argv) > 3 else default
entry = run_source(load_source(yaml, cfg), Interval.night(day), cfg)
print(entry.extracted, entry.loaded, entry.quarantined, entry.unchanged)
