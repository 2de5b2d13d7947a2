"""Where a night's time and memory go: unsilo's night for the benchmark's employment export, stage by stage.

    .venv/bin/python bench/night_stages.py --rows 1000000            # the full night (1% changed since the last)
    .venv/bin/python bench/night_stages.py --rows 1000000 --kind incr  # the night that sends only the changed 1%

Uses the inputs and the previous night's warehouse of ``night_vs_peers.py`` (made first when missing), runs
extract, normalize, validate and load in one fresh process as ``run_source`` does (Great Expectations imported in
the background from the start), and prints one row per stage: wall seconds, CPU seconds of the whole process
during the stage (both cores count: above the wall time means both were busy) and peak RSS so far. Validate's
time includes waiting for the Great Expectations import.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

STAGES_SCRIPT = r"""
import datetime as dt, json, os, resource, sys, time
from pathlib import Path

def now():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), r.ru_utime + r.ru_stime, r.ru_maxrss / 1024

marks = [("start", *now())]
from unsilo import night
from unsilo.catalog import load_source
from unsilo.extract import Landed
from unsilo.interval import Interval
from unsilo.settings import settings
from unsilo.validate import import_validator_in_background
cfg = settings()
source = load_source(Path(sys.argv[1]), cfg)
interval = Interval.night(dt.date.fromisoformat(sys.argv[2]))
marks.append(("imports", *now()))
import_validator_in_background()
handoff = night.extract_step(source, interval, cfg)
marks.append(("extract", *now()))
landed = Landed(path=Path(handoff["landing"]), rows=handoff["extracted"], columns=handoff["columns"])
normalized = night.normalize(source, landed, interval, cfg)
marks.append(("normalize", *now()))
validated = night.validate(source, normalized, interval, cfg, run_id=handoff["run_id"])
expectations = night.expectations_path(validated.path)
expectations.write_text(json.dumps(validated.expectations), encoding="utf-8")
marks.append(("validate", *now()))
handoff.update(normalized=str(normalized.path), verdicts=str(validated.path), failed_rows=validated.failed_rows,
               expectations=str(expectations), warnings=validated.warnings)
entry = night.load_step(source, handoff, cfg)
marks.append(("load", *now()))
print(json.dumps({"marks": marks, "counts": [entry.extracted, entry.loaded, entry.quarantined, entry.unchanged]}))
"""


def stages(home: Path, day: str, source_yaml: Path, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", STAGES_SCRIPT, str(source_yaml), day], env=env, capture_output=True,
                         text=True, cwd=BENCH.parent)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_stages(result: dict) -> None:
    marks = result["marks"]
    print("| stage | wall s | CPU s | peak RSS MB |")
    print("|---|---:|---:|---:|")
    for (_, t0, c0, _), (name, t1, c1, rss) in zip(marks, marks[1:]):
        print(f"| {name} | {t1 - t0:.2f} | {c1 - c0:.2f} | {rss:.0f} |")
    print(f"| **night** | {marks[-1][1] - marks[0][1]:.2f} | {marks[-1][2] - marks[0][2]:.2f} | {marks[-1][3]:.0f} |")
    print("extracted, loaded, quarantined, unchanged:", *result["counts"])


def main() -> None:
    from bench.night_vs_peers import NIGHT, night_home, prepare, unsilo_env

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--kind", choices=("full", "incr"), default="full")
    p.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "unsilo-bench")
    args = p.parse_args()
    work = args.work / f"rows_{args.rows}"
    files = prepare(work, args.rows)
    home = night_home(work / f"stages_{args.kind}", files, args.kind)
    result = stages(home, NIGHT, BENCH / "sources" / "bench_employment.yaml", unsilo_env(home))
    print(f"rows {args.rows:,}, {args.kind} night")
    print_stages(result)


if __name__ == "__main__":
    main()
