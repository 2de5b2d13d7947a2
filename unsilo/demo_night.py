"""``unsilo demo``: generate the department systems (``--nights`` nights of drops, default 3), run the first night of
all four departments, print a summary and how to run the later nights (a backfill, or ``unsilo night``)."""

from __future__ import annotations

import datetime as dt
import time

from rich.console import Console
from rich.table import Table

from unsilo.catalog import DEPARTMENTS
from unsilo.interval import Interval
from unsilo.settings import settings
from warehouse.schema import connect


def demo_night(people: int, seed: int, use_airflow: bool, generate_only: bool, console: Console,
               nights: int = 1) -> None:
    from unsilo.demo import NIGHT, generate

    cfg = settings()
    t0 = time.monotonic()
    reset_if_population_changed(cfg, people, seed, console)
    console.print(f"[bold]Generating[/bold] the department systems for {people} people (seed {seed}) in {cfg.home}")
    truth = generate(cfg.home, people=people, seed=seed, nights=nights)
    cfg.ensure_key_file()
    key = cfg.key_source()
    console.print(f"  pseudonym key: {key.kind} ({key.where}), outside the data root", highlight=False, soft_wrap=True)
    console.print(f"  {sum(s['rows'] for s in truth['sources'].values())} records in "
                  f"{len(truth['sources'])} sources, truth in {cfg.home / 'departments' / 'truth.json'}")
    if nights > 1:
        console.print(f"  {nights} nights delivered: {', '.join(truth['nights'])} (the first runs now)")
    if generate_only:
        return
    interval = Interval.night(NIGHT)
    if use_airflow:
        from unsilo.airflow_runner import prepare, run_dag, run_marts

        log = cfg.home / "airflow" / "demo.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("", encoding="utf-8")
        console.print(f"[bold]Airflow[/bold]: migrating metadata DB and serializing DAGs (log: {log})")
        prepare(cfg, log)
        for department in DEPARTMENTS:
            console.print(f"[bold]Airflow[/bold]: airflow dags test sync_{department} for the night {interval}")
            run_dag(f"sync_{department}", NIGHT, cfg, log)
        console.print("[bold]Airflow[/bold]: airflow dags test build_marts (scheduled on the entities' Assets)")
        run_marts(cfg, log)
    else:
        from unsilo.catalog import sources
        from unsilo.night import rebuild_marts, run_source

        for src in sources(cfg):
            console.print(f"  running {src['id']}")
            run_source(src, interval, cfg)
        rebuild_marts(cfg)
    summary(console, interval)
    console.print(f"analysts' read-only snapshot: {cfg.snapshots / 'current.duckdb'} (unsilo tables lists what is in it)")
    console.print(f"done in {time.monotonic() - t0:.0f} s. Try: unsilo query \"SELECT * FROM marts.community_month\"")
    if nights > 1:
        last = NIGHT + dt.timedelta(days=nights - 1)
        console.print(f"the later nights wait: unsilo backfill --department transport --from {NIGHT} --to {last}"
                      f" (a night already loaded loads nothing new), or unsilo night --date {NIGHT + dt.timedelta(days=1)}",
                      highlight=False, soft_wrap=True)


def reset_if_population_changed(cfg, people: int, seed: int, console: Console) -> None:
    """A different --people or --seed is a different city: start its warehouse afresh instead of mixing two."""
    import json
    import shutil

    truth = cfg.home / "departments" / "truth.json"
    if not truth.exists():
        return
    before = json.loads(truth.read_text(encoding="utf-8"))
    if (before.get("people"), before.get("seed")) == (people, seed):
        return
    console.print(f"  a different population than last time (people {before.get('people')} -> {people}, seed "
                  f"{before.get('seed')} -> {seed}): starting with an empty warehouse")
    for path in (cfg.warehouse, cfg.landing, cfg.staging):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def summary(console: Console, interval: Interval) -> None:
    cfg = settings()
    with connect(cfg.warehouse, read_only=True) as con:
        ledger = con.execute(
            """SELECT source, extracted, loaded, quarantined, unchanged, status FROM meta.ledger l
            WHERE interval_start = ? AND started_at = (SELECT max(started_at) FROM meta.ledger m
                                                     WHERE m.source = l.source AND m.interval_start = l.interval_start)
            ORDER BY source""",
            [interval.start],
        ).fetchall()
        t = Table(title=f"Night {interval}: ledger (extracted = loaded + quarantined + unchanged)")
        for c in ("source", "extracted", "loaded", "quarantined", "unchanged", "status"):
            t.add_column(c)
        for row in ledger:
            t.add_row(*map(str, row))
        console.print(t)
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'std' ORDER BY 1"
        ).fetchall()
        t = Table(title="Rows per entity (std)")
        t.add_column("entity")
        t.add_column("rows", justify="right")
        for (name,) in tables:
            t.add_row(name, str(con.execute(f"SELECT count(*) FROM std.{name}").fetchone()[0]))
        console.print(t)
        rules = con.execute(
            """SELECT rule, count(*) FROM (SELECT unnest(rules) AS rule FROM meta.quarantine WHERE interval_start = ?)
            GROUP BY rule ORDER BY rule""",
            [interval.start],
        ).fetchall()
        t = Table(title="Quarantined rows per rule")
        t.add_column("rule")
        t.add_column("rows", justify="right")
        for rule, n in rules:
            t.add_row(rule, str(n))
        console.print(t)
        # a few columns, so the table reads at 80 columns without cutting codes (blank: suppressed, small cell)
        cur = con.execute(
            """SELECT coalesce(community_code, street_code, district_code) AS code, level, residents, households,
            open_unemployment_claims AS claims, subsidised_households AS subsidised
            FROM marts.community_overview ORDER BY level = 'district', street_code, level = 'street', community_code""")
        names = [d[0] for d in cur.description]
        t = Table(title="Across departments (marts.community_overview; blank = suppressed)")
        for n in names:
            t.add_column(n, justify="right" if n not in ("code", "level") else "left", no_wrap=True)
        for row in cur.fetchall():
            t.add_row(*("" if v is None else str(v) for v in row))
        console.print(t)
