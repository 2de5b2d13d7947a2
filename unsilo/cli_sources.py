"""``unsilo sources``: list the catalog; ``sources check [PATHS...]`` checks source YAMLs before anything runs;
``sources schema`` writes the JSON Schema editors validate them with (sources/source.schema.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from unsilo.cli import UsageError, app, console

sources_app = typer.Typer(help="The source catalog: list it, check YAMLs, write the JSON Schema.",
                          invoke_without_command=True, no_args_is_help=False)
app.add_typer(sources_app, name="sources")


@sources_app.callback(invoke_without_command=True)
def list_sources(ctx: typer.Context, department: Optional[str] = typer.Option(None)):
    """List the source catalog (with no subcommand)."""
    if ctx.invoked_subcommand:
        return
    from unsilo.catalog import sources
    from unsilo.settings import settings

    from unsilo.cli_tables import cli_table
    from unsilo.interval import DEFAULT_SCHEDULE

    console.print(cli_table(
        ("id", "department", "entity", "connector", "schedule"),
        ((s["id"], s["department"], s["entity"], s["connector"]["kind"], s.get("schedule") or DEFAULT_SCHEDULE)
         for s in sources(settings(), department)), title="sources"))


@sources_app.command("check")
def check(paths: Optional[list[Path]] = typer.Argument(
        None, help="Source YAMLs or folders (default: the catalog and sources/examples).")):
    """Check source YAMLs: keys, types, names, ids, sql expressions and paths inside the department's root.
    Every problem is listed as FILE:LINE: KEY: what is wrong; the exit status is 1 when there is one."""
    from unsilo.settings import REPO, settings
    from unsilo.source_check import check_paths

    cfg = settings()
    targets = list(paths or [cfg.sources_dir] + ([REPO / "sources" / "examples"]
                                                 if (REPO / "sources" / "examples").is_dir() else []))
    problems = check_paths(targets, cfg)
    for p in problems:
        console.print(str(p), highlight=False, soft_wrap=True, markup=False)
    if problems:
        raise UsageError(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in source YAMLs (listed above)")
    console.print(f"source YAMLs OK: {', '.join(str(t) for t in targets)}", highlight=False, soft_wrap=True)


@sources_app.command("schema")
def schema(check_only: bool = typer.Option(False, "--check", help="Fail if the published schema is out of date.")):
    """Write sources/source.schema.json from the declared keys and the connectors' OPTIONS."""
    from unsilo.source_check import SCHEMA_PATH, schema_text

    text = schema_text()
    if check_only:
        if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text(encoding="utf-8") != text:
            raise UsageError(f"{SCHEMA_PATH} is out of date: run `unsilo sources schema`")
        console.print(f"{SCHEMA_PATH} is up to date", highlight=False)
        return
    SCHEMA_PATH.write_text(text, encoding="utf-8")
    console.print(f"wrote {SCHEMA_PATH}", highlight=False)
