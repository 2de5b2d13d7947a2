"""A source's connector options for one run: the YAML's, plus the incremental state the warehouse holds for it."""

from __future__ import annotations

from unsilo.settings import Settings
from warehouse.schema import connect
from warehouse.state import read_state


def saved_state(source: dict, settings: Settings) -> dict | None:
    """What the last successful load of the source saved (its cursor, its columns), or None."""
    if not settings.warehouse.exists():
        return None
    with connect(settings.warehouse) as con:
        return read_state(con, source["id"])


def source_options(source: dict, saved: dict | None, full_refresh: bool = False) -> dict:
    options = dict(source["connector"])
    if options.get("incremental"):
        if full_refresh:
            options["_full_refresh"] = True
        else:
            options["_state"] = (saved or {}).get("cursor")
    return options
