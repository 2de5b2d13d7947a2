"""unsilo's night against DuckDB's own load and dlt, on the same employment export, in one run.

    .venv/bin/python bench/night_vs_peers.py --rows 1000000 --repeat 3
    .venv/bin/python bench/night_vs_peers.py --rows 1000000 10000000 --repeat 3
    .venv/bin/python bench/night_vs_peers.py --rows 2000 --repeat 1 --no-dlt      # the smoke CI runs

Contenders, each a separate process (whole-process wall time and peak RSS), run alternately in rotating order:
  (a) duckdb       CREATE TABLE AS SELECT * FROM read_csv(...)          - the floor
  (b) dlt          pyarrow read + dlt merge on the primary key (no mapping, no validation); dlt lives in its
                   own venv, bench/.venv-dlt, created on first use (it is not a dependency of unsilo)
  (c) unsilo full  extract, normalize to the standard, GX validation with the whole suite, quarantine, merge
                   into a warehouse that already holds the previous night (1% of rows changed since)
  (d) unsilo incr  the same night when the department sends only the changed 1%
Inputs are generated deterministically by bench/employment_export.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PY = sys.executable
DLT_VENV = BENCH / ".venv-dlt"
DLT_VERSION = "1.31.0"
PREV, NIGHT = "2026-06-01", "2026-06-02"
KEY = "bench-pseudonym-key"


def measure(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB and stdout of one process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {err.strip().splitlines()[-1:]}")
    return wall, usage.ru_maxrss / 1024, out.strip()


# dlt and what its contenders import: pyarrow for the CSV file, SQLAlchemy and psycopg for bench/sql_source.py
DLT_PACKAGES = [f"dlt[duckdb]=={DLT_VERSION}", "pyarrow", "sqlalchemy", "psycopg[binary]"]


def dlt_python() -> str:
    py = DLT_VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {DLT_VENV} with dlt {DLT_VERSION} (first use only)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
    if subprocess.run([str(py), "-c", "import dlt, pyarrow, sqlalchemy, psycopg"], capture_output=True).returncode:
        print(f"installing {', '.join(DLT_PACKAGES)} into {DLT_VENV}", flush=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *DLT_PACKAGES], check=True)
    return str(py)


def unsilo_env(home: Path) -> dict:
    # the drops are symlinks to exports generated beside the homes: the bench allows that folder as the root
    roots = f"employment={home.parent},health={home.parent}"
    return dict(os.environ, UNSILO_HOME=str(home), UNSILO_PSEUDONYM_KEY=KEY, GX_ANALYTICS_ENABLED="false",
                UNSILO_DEPARTMENT_ROOTS=roots)


def prepare(work: Path, rows: int) -> dict[str, Path]:
    """The three exports and a warehouse that holds the previous night."""
    work.mkdir(parents=True, exist_ok=True)
    gen = str(BENCH / "employment_export.py")
    files = {"prev": work / "prev" / "employment_20260601.csv", "full": work / "full" / "employment_20260602.csv",
             "incr": work / "incr" / "employment_20260602.csv"}
    generate_exports(gen, files, rows)
    # the previous night is loaded afresh on every run: a warehouse left by other code (another row hash, say)
    # would make every row look changed
    base = work / "base_home"
    shutil.rmtree(base, ignore_errors=True)
    (base / "drop").mkdir(parents=True)
    shutil.copy(files["prev"], base / "drop" / files["prev"].name)
    measure([PY, str(BENCH / "contenders" / "unsilo_night.py"), str(base), PREV], unsilo_env(base))
    files["base"] = base
    return files


def generate_exports(generator: str, files: dict[str, Path], rows: int) -> None:
    """The previous night's export, the next night's with 1% changed, and the changed 1% alone, written by
    ``generator`` (deterministic, so generated once per size and kept)."""
    if files["incr"].exists():
        return
    subprocess.run([PY, generator, str(files["prev"]), "--rows", str(rows)], check=True)
    subprocess.run([PY, generator, str(files["full"]), "--rows", str(rows), "--changed", "0.01"], check=True)
    subprocess.run([PY, generator, str(files["incr"]), "--rows", str(rows), "--changed", "0.01", "--only-changed"],
                   check=True)


def night_home(home: Path, files: dict, kind: str) -> Path:
    """A fresh UNSILO_HOME for one night: the previous night's warehouse and the ``kind`` export in its drop."""
    shutil.rmtree(home, ignore_errors=True)
    (home / "drop").mkdir(parents=True)
    shutil.copytree(files["base"] / "warehouse", home / "warehouse")
    os.symlink(files[kind], home / "drop" / files[kind].name)
    return home


def unsilo_run(work: Path, files: dict, kind: str) -> tuple[float, float, str]:
    home = night_home(work / f"home_{kind}", files, kind)
    return measure([PY, str(BENCH / "contenders" / "unsilo_night.py"), str(home), NIGHT], unsilo_env(home))


def run_size(rows: int, repeat: int, use_dlt: bool, work: Path) -> list[dict]:
    files = prepare(work / f"rows_{rows}", rows)
    csv_full = str(files["full"])
    contenders = {
        "(a) duckdb read_csv": lambda: measure(
            [PY, str(BENCH / "contenders" / "duckdb_read_csv.py"), csv_full, str(fresh(work / "a.duckdb"))]),
        "(c) unsilo full night": lambda: unsilo_run(work / f"rows_{rows}", files, "full"),
        "(d) unsilo incremental night": lambda: unsilo_run(work / f"rows_{rows}", files, "incr"),
    }
    if use_dlt:
        py = dlt_python()
        contenders["(b) dlt merge"] = lambda: measure(
            [py, str(BENCH / "contenders" / "dlt_merge.py"), csv_full, str(fresh(work / "b.duckdb")),
             str(fresh(work / "dlt_pipelines"))])
    results = alternate(contenders, repeat, f"rows={rows:>10,}")
    table = []
    floor = statistics.median(w for w, _, _ in results["(a) duckdb read_csv"])
    for name in sorted(results):
        walls = [w for w, _, _ in results[name]]
        med = statistics.median(walls)
        n_rows = rows // 100 if "incremental" in name else rows
        table.append({"rows": rows, "contender": name, "median_s": med, "rows_per_s": n_rows / med,
                      "peak_rss_mb": max(r for _, r, _ in results[name]), "ratio_to_duckdb": med / floor})
    return table


def alternate(contenders: dict, repeat: int, label: str, width: int = 30) -> dict[str, list[tuple[float, float, str]]]:
    """Run every contender ``repeat`` times, rotating the order between repetitions, printing each run; return the
    (wall seconds, peak RSS MB, stdout) of each run by contender."""
    results: dict[str, list] = {name: [] for name in contenders}
    names = list(contenders)
    for rep in range(repeat):
        for name in names[rep % len(names):] + names[: rep % len(names)]:
            wall, rss, out = contenders[name]()
            results[name].append((wall, rss, out))
            print(f"  {label} rep {rep + 1}/{repeat} {name:<{width}} {wall:8.2f} s  {rss:8.0f} MB  {out}", flush=True)
    return results


def fresh(path: Path) -> Path:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    return path


def print_table(rows: list[dict]) -> None:
    print()
    print(f"| {'input rows':>11} | {'contender':<30} | {'median s':>8} | {'rows/s':>11} | {'peak RSS MB':>11} | "
          f"{'x duckdb':>8} |")
    print(f"|{'-' * 13}|{'-' * 32}|{'-' * 10}|{'-' * 13}|{'-' * 13}|{'-' * 10}|")
    for r in rows:
        print(f"| {r['rows']:>11,} | {r['contender']:<30} | {r['median_s']:>8.2f} | {r['rows_per_s']:>11,.0f} | "
              f"{r['peak_rss_mb']:>11.0f} | {r['ratio_to_duckdb']:>8.2f} |")


def bench_arguments(doc: str, rows_help: str | None = None, work: str = "unsilo-bench") -> argparse.ArgumentParser:
    """The options every benchmark against the peers takes: --rows (sizes), --repeat, --no-dlt, --work."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, nargs="+", default=[1_000_000], help=rows_help)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-dlt", action="store_true", help="skip dlt (no venv of its own is created)")
    p.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / work)
    return p


def main() -> None:
    args = bench_arguments(__doc__).parse_args()
    rows = []
    for n in args.rows:
        rows += run_size(n, args.repeat, not args.no_dlt, args.work)
    print_table(rows)
    full = {r["rows"]: r for r in rows if r["contender"] == "(c) unsilo full night"}
    incr = {r["rows"]: r for r in rows if r["contender"] == "(d) unsilo incremental night"}
    for n in full:
        print(f"rows {n:,}: incremental night costs {incr[n]['median_s'] / full[n]['median_s']:.0%} of the full night")
    if len(full) > 1:
        small, large = min(full), max(full)
        print(f"peak RSS {large:,} rows / {small:,} rows: {full[large]['peak_rss_mb'] / full[small]['peak_rss_mb']:.2f}x")


if __name__ == "__main__":
    main()
