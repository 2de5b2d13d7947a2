"""A source's connector options for one run: the YAML's, plus the incremental state the warehouse holds for it."""

from __future__ import annotations

from unsilo.settings import Settings
from warehouse.schema import connect
from warehouse.state import read_state


def source_options(source: dict, settings: Settings, full_refresh: bool = False) -> dict:
    options = dict(source["connector"])
    if options.get("incremental"):
        if full_refresh:
            options["_full_refresh"] = True
        else:
            with connect(settings.warehouse) as con:
                options["_state"] = read_state(con, source["id"])
    return options
