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


def source_options(source: dict, saved: dict | None, full_refresh: bool = False, settings: Settings | None = None
                   ) -> dict:
    """The connector's options; with the source's department, its roots (``_roots``), which the connector checks
    every path it reads against (connectors/base.py), after the catalog's check of the YAML."""
    options = {k: v for k, v in source["connector"].items() if not str(k).startswith("_")}
    if source.get("department"):
        from unsilo.department_roots import department_roots
        from unsilo.settings import settings as current

        options["_roots"] = department_roots(source["department"], (settings or current()).home)
        options["_department"] = source["department"]
    if options.get("incremental"):
        if full_refresh:
            options["_full_refresh"] = True
        else:
            options["_state"] = (saved or {}).get("cursor")
    return options
