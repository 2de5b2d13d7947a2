"""Peak memory of one source's night on hostile inputs: is it set by the batch size, not by the input?

    .venv/bin/python bench/bounded_memory.py                  # the issue's sizes: 1M all-bad rows, 5M duplicate keys
    .venv/bin/python bench/bounded_memory.py --rows 20000     # a smaller scale (the smoke test's)
    .venv/bin/python bench/bounded_memory.py --case all-bad   # one case

Each case runs ``bench/contenders/unsilo_night.py`` (extract, normalize, validate, quarantine, load, ledger) in a
fresh process and a fresh UNSILO_HOME, and prints one row: the case, rows extracted, peak RSS of that process
(``wait4``'s ``ru_maxrss``), wall seconds and how it ended. Cases:

- ``all-bad``: ``--rows`` employment rows (default 1M), every one with an industry code outside the code list, so
  every row goes to quarantine;
- ``dup-keys``: 5 x ``--rows`` rows (default 5M) with one and the same registration number: all but one are
  ``duplicate-key`` rejects;
- ``big-field``: a drop of a few rows, one of whose employer names is 50 MB (``--field-mb``): that row is
  quarantined as ``field-too-large``, the others load;
- ``zip-bomb``: a GTFS zip of well under 1 MB whose ``stops.txt`` inflates to 600 MB (scaled with ``--rows``):
  refused before it is inflated, naming the file and the limit;
- ``deep-bundle``: a FHIR Bundle nested 10,000 deep beside a valid one: the deep file is rejected on its own and
  the valid one loads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
NIGHT = "2026-06-02"
KEY = "bench-pseudonym-key"
CASES = ("all-bad", "dup-keys", "big-field", "zip-bomb", "deep-bundle")
# one valid employment row of bench/employment_export.py's layout (the ID's check character is right)
ROW = {"registration_no": "JY0000000001", "id_number": "330106198001010013", "name": "王伟", "sex": "男",
       "registered_on": "2020-01-01", "ended_on": "", "employer": "杭州1号有限公司", "industry": "C",
       "occupation": "2", "employment_form": "全日制", "community_code": "330106001001", "monthly_wage": "5000",
       "contract_type": "固定期限", "phone": "13000000000", "updated_at": "2026-06-01 20:00:00"}


def employment_csv(path: Path, rows: int, **override) -> None:
    """``rows`` copies of :data:`ROW` with ``override`` (a column's value, or ``"unique"``: a numbered key)."""
    cols = {}
    for k, v in ROW.items():
        v = override.get(k, v)
        if v == "unique":
            cols[k] = pc.binary_join_element_wise("JY", pc.cast(pa.array(range(rows), pa.int64()), pa.string()), "")
        else:
            cols[k] = pa.repeat(pa.scalar(v, pa.string()), rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(pa.table(cols), path)


def employment_source(home: Path) -> Path:
    text = (BENCH / "sources" / "bench_employment.yaml").read_text(encoding="utf-8")
    out = home / "bench_employment.yaml"
    out.write_text(text, encoding="utf-8")
    return out


def case_all_bad(home: Path, rows: int, args) -> Path:
    employment_csv(home / "drop" / "employment_20260602.csv", rows, registration_no="unique", industry="ZZ")
    return employment_source(home)


def case_dup_keys(home: Path, rows: int, args) -> Path:
    employment_csv(home / "drop" / "employment_20260602.csv", rows * 5)
    return employment_source(home)


def case_big_field(home: Path, rows: int, args) -> Path:
    path = home / "drop" / "employment_20260602.csv"
    employment_csv(path, 3, registration_no="unique")
    lines = path.read_bytes().splitlines(keepends=True)
    big = ROW["employer"].encode() + b"x" * (args.field_mb * 1024 * 1024)
    lines[2] = lines[2].replace(ROW["employer"].encode(), big)
    path.write_bytes(b"".join(lines))
    return employment_source(home)


def case_zip_bomb(home: Path, rows: int, args) -> Path:
    feed = home / "departments" / "transport" / "gtfs.zip"
    feed.parent.mkdir(parents=True)
    size = max(rows * 600, 1_000_000)  # 600 MB at the default 1M rows
    block = b"0" * (1 << 20)
    with zipfile.ZipFile(feed, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in (("agency.txt", "agency_name,agency_url,agency_timezone\nA,http://a,Asia/Shanghai\n"),
                           ("routes.txt", "route_id,route_type\nr1,3\n"),
                           ("trips.txt", "route_id,service_id,trip_id\n"),
                           ("stop_times.txt", "trip_id,stop_id,stop_sequence\n"),
                           ("calendar.txt", "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
                                            "start_date,end_date\n")):
            z.writestr(name, text)
        with z.open("stops.txt", "w", force_zip64=True) as f:
            f.write(b"stop_id,stop_name,stop_lat,stop_lon,zone_id\ns1,")
            left = size
            while left > 0:
                f.write(block[:min(left, len(block))])
                left -= len(block)
            f.write(b",30.0,120.0,330106001001\n")
    out = home / "transport_stops.yaml"
    out.write_text((REPO / "sources" / "transport_stops.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return out


def case_deep_bundle(home: Path, rows: int, args) -> Path:
    folder = home / "departments" / "health" / "bundles"
    folder.mkdir(parents=True)
    depth = 10_000
    (folder / "deep.json").write_text('{"resourceType":"Bundle","type":"collection","entry":[{"resource":'
                                      '{"resourceType":"Patient","id":"p0","extension":' + "[" * depth + "]" * depth
                                      + "}}]}", encoding="utf-8")
    patient = {"resourceType": "Patient", "id": "p1", "identifier": [{"value": ROW["id_number"]}],
               "gender": "male", "birthDate": "1980-01-01"}
    (folder / "valid.json").write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                                   "entry": [{"resource": patient}]}), encoding="utf-8")
    out = home / "health_patient_bundles.yaml"
    text = (REPO / "sources" / "health_patient.yaml").read_text(encoding="utf-8")
    text = text.replace("id: health_patient", "id: bench_patient_bundles")
    text = text.replace("kind: fhir_bulk", "kind: fhir_bundle")
    text = text.replace('path: "{home}/departments/health/bulk/{date:%Y-%m-%d}/Patient.ndjson"',
                        'path: "{home}/departments/health/bundles"\n  resource_type: Patient')
    out.write_text(text, encoding="utf-8")
    return out


BUILD = {"all-bad": case_all_bad, "dup-keys": case_dup_keys, "big-field": case_big_field,
         "zip-bomb": case_zip_bomb, "deep-bundle": case_deep_bundle}


def run(case: str, work: Path, rows: int, args) -> dict:
    home = work / case
    # the inputs are made in a process of their own: a child forked from a process holding them would count them
    # in its peak RSS (5M generated rows: 1.1 GB before the night even starts)
    made = subprocess.run([sys.executable, __file__, "--build", case, "--rows", str(rows), "--field-mb",
                           str(args.field_mb), "--work", str(work)], capture_output=True, text=True, cwd=REPO)
    if made.returncode:
        raise SystemExit(made.stderr[-3000:])
    yaml = Path(made.stdout.strip().splitlines()[-1])
    env = dict(os.environ, UNSILO_HOME=str(home), UNSILO_PSEUDONYM_KEY=KEY, GX_ANALYTICS_ENABLED="false",
               PYTHONPATH=str(REPO), UNSILO_DEPARTMENT_ROOTS=f"employment={home},health={home},transport={home}")
    cmd = [sys.executable, str(BENCH / "contenders" / "unsilo_night.py"), str(home), NIGHT, str(yaml)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    out, err = proc.communicate()  # stdout/stderr are small: the night prints one line
    status, wall, usage = proc.returncode, time.perf_counter() - t0, _child_peak_mb()
    counts = out.strip().split()[-4:] if proc.returncode == 0 else []
    lines = [line for line in err.strip().splitlines() if line.strip()]
    return {"case": case, "rows": int(counts[0]) if counts else 0, "peak_mb": usage, "wall": wall,
            "rc": status, "counts": [int(c) for c in counts], "error": lines[-1] if status and lines else "",
            "home": home}


def _child_peak_mb() -> float:
    """Peak RSS of the one child just reaped: RUSAGE_CHILDREN's maximum only grows, so each case runs in a fresh
    interpreter (see :func:`main`) and the value is that child's."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="rows of the all-bad case (dup-keys: 5x)")
    p.add_argument("--field-mb", type=int, default=50, help="size of the big field in MB")
    p.add_argument("--case", choices=CASES, action="append", help="run only these cases (default: all)")
    p.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "unsilo-bench-bounded")
    p.add_argument("--json", action="store_true", help="print one JSON object per case instead of the table")
    p.add_argument("--one", choices=CASES, help=argparse.SUPPRESS)  # internal: run one case in this process
    p.add_argument("--build", choices=CASES, help=argparse.SUPPRESS)  # internal: make one case's inputs
    args = p.parse_args()
    if args.build:
        home = args.work / args.build
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        print(BUILD[args.build](home, args.rows, args))
        return
    if args.one:
        r = run(args.one, args.work, args.rows, args)
        r["home"] = str(r["home"])
        print(json.dumps(r))
        return
    cases = args.case or list(CASES)
    if not args.json:
        print(f"rows {args.rows:,} (dup-keys {args.rows * 5:,}), field {args.field_mb} MB, {dt.date.today()}")
        print("| case | rows | peak RSS MB | wall s | outcome |")
        print("|---|---:|---:|---:|---|")
    for case in cases:
        # one interpreter per case, so RUSAGE_CHILDREN's peak is that case's alone
        argv = [sys.executable, __file__, "--one", case, "--rows", str(args.rows), "--field-mb", str(args.field_mb),
                "--work", str(args.work)]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO)
        if done.returncode:
            raise SystemExit(done.stderr[-3000:])
        r = json.loads(done.stdout.strip().splitlines()[-1])
        if args.json:
            print(json.dumps(r), flush=True)
            continue
        # a refusal as the night reports it, the case's folder left out of the path
        error = r["error"].split("Error: ", 1)[-1].replace(r["home"] + "/", "")
        outcome = ("extracted/loaded/quarantined/unchanged " + "/".join(map(str, r["counts"]))) if r["rc"] == 0 \
            else f"failed: {error[:240]}"
        print(f"| {case} | {r['rows']:,} | {r['peak_mb']:.0f} | {r['wall']:.1f} | {outcome} |", flush=True)


if __name__ == "__main__":
    main()
