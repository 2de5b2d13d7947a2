"""``unsilo key``: the pseudonym key (stewards only): ``init``, ``check``, ``rotate`` (unsilo/key_rotation.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from unsilo.cli import UsageError, app, console

key_app = typer.Typer(help="The pseudonym key (stewards only, UNSILO_ROLE=steward): create, check, rotate.",
                      no_args_is_help=True)
app.add_typer(key_app, name="key")

#: The steward role, as the analysts' sandbox checks it (warehouse/analyst_read.py): the deployment sets it for
#: stewards' accounts only.
ROLE_VARIABLE, STEWARD = "UNSILO_ROLE", "steward"


def _steward(what: str) -> None:
    if os.environ.get(ROLE_VARIABLE) != STEWARD:
        raise UsageError(f"unsilo key {what} needs the steward role ({ROLE_VARIABLE}=steward, set by the deployment "
                         "for stewards' accounts only; docs/deploy.md)")


@key_app.command("init")
def init():
    """Create the embedded default key (0600, in the config folder) unless a key is provided or exists."""
    from unsilo.settings import settings

    _steward("init")
    cfg = settings()
    cfg.ensure_key_file()
    source = cfg.key_source()
    console.print(f"key: {source.kind} ({source.where}), a chain of {len(source.keys)}", highlight=False,
                  soft_wrap=True)


@key_app.command("check")
def check(
    write_to: Optional[Path] = typer.Option(None, "--write-to", help="The file an earlier rotate --write-to named."),
):
    """Finish or undo an interrupted rotation; say where the key comes from and whether it matches the warehouse."""
    from unsilo.key_rotation import KeyRotationError
    from unsilo.key_rotation import check as run_check
    from unsilo.settings import settings

    _steward("check")
    try:
        console.print(run_check(settings(), write_to), highlight=False, soft_wrap=True)
    except KeyRotationError as exc:
        raise UsageError(str(exc).replace("\n", "; ")) from None


@key_app.command("rotate")
def rotate(
    write_to: Optional[Path] = typer.Option(
        None, "--write-to", help="Where to write the new chain when the key comes from the environment or an Airflow "
                                 "Connection (outside the data root); the deployment then puts it in its secret."),
):
    """Append a new key to the chain and re-derive every pseudonymous key of the warehouse in one transaction,
    history included; then republish the analysts' snapshot. Pause the nightly DAGs first."""
    from unsilo.key_rotation import KeyRotationError
    from unsilo.key_rotation import rotate as run_rotate
    from unsilo.settings import settings

    _steward("rotate")
    try:
        done = run_rotate(settings(), write_to)
    except KeyRotationError as exc:
        raise UsageError(str(exc)) from None
    console.print(f"re-keyed {sum(done.rows.values())} rows in {len(done.rows)} tables in one transaction; "
                  f"the key is now a chain of {done.chain_length} in {done.target}", highlight=False, soft_wrap=True)
    if done.source.path is None:
        console.print(f"put the content of {done.target} in {done.source.where} before the next night, then delete "
                      "the file", highlight=False, soft_wrap=True)
