"""unsilo's night for the FHIR NDJSON connector against DuckDB's own load and dlt, on one Patient export, in one run.

    .venv/bin/python bench/fhir_ndjson.py --rows 1000000 --repeat 3
    .venv/bin/python bench/fhir_ndjson.py --rows 100000 1000000 --repeat 2       # RSS flat with size?
    .venv/bin/python bench/fhir_ndjson.py --rows 300 --repeat 1 --no-dlt          # the smoke CI runs

Input: a FHIR R4 Bulk Data export of N Patient resources (bench/patient_export.py, deterministic), the next night's
export with 1% of the patients moved, and that night's incremental export (only the changed 1%, as ``_since`` gives).
unsilo reads them with sources/health_patient.yaml (fhir_bulk -> the standard's person entity, SCD2 history).
Contenders, each a separate process (whole-process wall time and peak RSS), run alternately in rotating order:
  (a) duckdb read_json     CREATE TABLE AS SELECT * FROM read_json(...): every resource parsed into typed nested
                           columns - the floor
  (a2) duckdb ndjson_obj   the same with read_ndjson_objects (each line's JSON text as one value), for reference
  (b) dlt merge            pyarrow's NDJSON reader + dlt merge on the resource id into an empty DuckDB file (no
                           mapping, no validation, no previous night): dlt's fastest path (json-parsed dicts through
                           dlt's normalizer, nested lists as child tables, took 37x longer and 12 GB at 100k records);
                           dlt lives in its own venv, bench/.venv-dlt, created on first use
  (c) unsilo full night    extract (fhir_bulk), normalize to the standard, GX validation with the whole suite,
                           quarantine, SCD2 merge into a warehouse that already holds the previous night
  (d) unsilo incremental   the same night when the export holds only the changed 1%
records/s is input records (FHIR resources) per second: N for (a)-(c), the changed records for (d).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
from pathlib import Path

from bench.night_vs_peers import (
    NIGHT, PREV, alternate, bench_arguments, dlt_python, fresh, generate_exports, measure, print_table, unsilo_env,
)

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PY = sys.executable
SOURCE = REPO / "sources" / "health_patient.yaml"
FLOOR = "(a) duckdb read_json"


def bulk_file(home: Path, day: str) -> Path:
    """Where sources/health_patient.yaml reads a night's export under UNSILO_HOME."""
    return home / "departments" / "health" / "bulk" / day / "Patient.ndjson"


def records(path: Path) -> int:
    with path.open("rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 24), b""))


def prepare(work: Path, rows: int) -> dict[str, Path]:
    """The three exports (generated once per size: they are deterministic) and a warehouse that holds the previous
    night."""
    work.mkdir(parents=True, exist_ok=True)
    gen = str(BENCH / "patient_export.py")
    files = {kind: work / kind / "Patient.ndjson" for kind in ("prev", "full", "incr")}
    generate_exports(gen, files, rows)
    # the previous night is loaded afresh on every run: a warehouse left by other code (another row hash, say)
    # would make every patient look changed
    base = work / "base_home"
    shutil.rmtree(base, ignore_errors=True)
    bulk_file(base, PREV).parent.mkdir(parents=True)
    os.symlink(files["prev"], bulk_file(base, PREV))
    measure([PY, str(BENCH / "contenders" / "unsilo_night.py"), str(base), PREV, str(SOURCE)], unsilo_env(base))
    files["base"] = base
    return files


def unsilo_run(work: Path, files: dict, kind: str) -> tuple[float, float, str]:
    home = work / f"home_{kind}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(files["base"] / "warehouse", home / "warehouse")
    bulk_file(home, NIGHT).parent.mkdir(parents=True)
    os.symlink(files[kind], bulk_file(home, NIGHT))
    return measure([PY, str(BENCH / "contenders" / "unsilo_night.py"), str(home), NIGHT, str(SOURCE)],
                   unsilo_env(home))


def run_size(rows: int, repeat: int, use_dlt: bool, work: Path) -> list[dict]:
    size = work / f"fhir_rows_{rows}"
    files = prepare(size, rows)
    full = str(files["full"])
    duckdb_read = str(BENCH / "contenders" / "duckdb_read_ndjson.py")
    contenders = {
        FLOOR: lambda: measure([PY, duckdb_read, full, str(fresh(work / "a.duckdb")), "read_json"]),
        "(a2) duckdb ndjson_objects": lambda: measure(
            [PY, duckdb_read, full, str(fresh(work / "a.duckdb")), "read_ndjson_objects"]),
        "(c) unsilo full night": lambda: unsilo_run(size, files, "full"),
        "(d) unsilo incremental night": lambda: unsilo_run(size, files, "incr"),
    }
    if use_dlt:
        py = dlt_python()
        contenders["(b) dlt merge"] = lambda: measure(
            [py, str(BENCH / "contenders" / "dlt_ndjson_merge.py"), full, str(fresh(work / "b.duckdb")),
             str(fresh(work / "dlt_pipelines")), "arrow"])
    counts = {name: records(files["incr"] if "incremental" in name else files["full"]) for name in contenders}
    results = alternate(contenders, repeat, f"records={rows:>10,}", width=32)
    table = []
    floor = statistics.median(w for w, _, _ in results[FLOOR])
    for name in sorted(results):
        med = statistics.median(w for w, _, _ in results[name])
        table.append({"rows": rows, "contender": name, "median_s": med, "rows_per_s": counts[name] / med,
                      "peak_rss_mb": max(r for _, r, _ in results[name]), "ratio_to_duckdb": med / floor})
    return table


def summary(rows: list[dict]) -> list[str]:
    """The issue's targets, one line each: full night <= 5x the floor and faster than dlt, RSS < 1 GB and flat,
    incremental <= 15% of the full night."""
    out = []
    by = {(r["rows"], r["contender"]): r for r in rows}
    sizes = sorted({r["rows"] for r in rows})
    for n in sizes:
        full, incr = by[(n, "(c) unsilo full night")], by[(n, "(d) unsilo incremental night")]
        line = (f"records {n:,}: full night {full['ratio_to_duckdb']:.2f}x the DuckDB floor (target <= 5), "
                f"peak RSS {full['peak_rss_mb']:.0f} MB (target < 1024), incremental night "
                f"{incr['median_s'] / full['median_s']:.0%} of the full night (target <= 15%)")
        if (n, "(b) dlt merge") in by:
            line += f", dlt / unsilo {by[(n, '(b) dlt merge')]['median_s'] / full['median_s']:.2f} (target > 1)"
        out.append(line)
    if len(sizes) > 1:
        small, large = by[(sizes[0], "(c) unsilo full night")], by[(sizes[-1], "(c) unsilo full night")]
        out.append(f"peak RSS {sizes[-1]:,} / {sizes[0]:,} records: "
                   f"{large['peak_rss_mb'] / small['peak_rss_mb']:.2f}x (flat: about 1)")
    return out


def main() -> None:
    args = bench_arguments(__doc__, "Patient resources per export").parse_args()
    rows = []
    for n in args.rows:
        rows += run_size(n, args.repeat, not args.no_dlt, args.work)
    print_table(rows)
    print("(input rows = FHIR resources in the export; rows/s = records/s)")
    for line in summary(rows):
        print(line)


if __name__ == "__main__":
    main()
