"""``unsilo backfill``: run a date range of nights for a department or a source, with a progress bar, resumably."""

from __future__ import annotations

from typing import Optional

import typer

from unsilo.cli import UsageError, _date, app, console


@app.command()
def backfill(
    department: Optional[str] = typer.Option(None, help="Every source of this department."),
    source: Optional[str] = typer.Option(None, help="Only this source (an id, e.g. transport_ridership)."),
    start: str = typer.Option(..., "--from", help="The first night (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--to", help="The last night, included (YYYY-MM-DD)."),
    reprocess: bool = typer.Option(False, "--reprocess", help="Run nights already loaded successfully again."),
):
    """Run the nightly intervals from --from to --to in this process; nights already loaded are skipped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from unsilo.backfill import backfill as run_backfill
    from unsilo.backfill import plan
    from unsilo.catalog import DEPARTMENTS, sources
    from unsilo.catalog import source as find_source
    from unsilo.settings import settings

    if (department is None) == (source is None):
        raise UsageError("give exactly one of --department D or --source S")
    if department is not None and department not in DEPARTMENTS:
        raise UsageError(f"unknown department {department!r} (known: {', '.join(DEPARTMENTS)})")
    first, last = _date(start, "--from"), _date(end, "--to")
    if last < first:
        raise UsageError(f"--to {last} is before --from {first}")
    cfg = settings()
    chosen = sources(cfg, department) if department else [find_source(source, cfg)]
    steps, skipped = plan(chosen, first, last, cfg, reprocess)
    console.print(f"{len(steps)} source-nights to run, {len(skipped)} already loaded (skipped"
                  f"{'' if not skipped else '; --reprocess runs them again'})")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        bar = progress.add_task("backfill", total=len(steps))

        def advance(step, status):
            mark = "" if status == "success" else " [red]failed[/red]"
            progress.update(bar, advance=1, description=f"{step.source['id']} {step.interval.start}{mark}")

        result = run_backfill(chosen, first, last, cfg, reprocess, on_step=advance)
    console.print(f"ran {len(result.ran)}, skipped {len(result.skipped)}, failed {len(result.failed)}")
    if result.failed:
        listed = "; ".join(f"{s.source['id']} {s.interval.start}: {msg}" for s, msg in result.failed)
        raise UsageError(f"{len(result.failed)} source-nights failed (run the same command again to retry "
                         f"them): {listed}")
