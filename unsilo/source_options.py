"""A source's connector options for one run: the YAML's, plus the incremental state the warehouse holds for it."""

from __future__ import annotations


def source_options(source: dict, saved: dict | None, full_refresh: bool = False) -> dict:
    """The connector's options; for a source the catalog loaded, its department's roots (``_roots``), which the
    connector checks every path it reads against (connectors/base.py), after the catalog's check of the YAML."""
    options = {k: v for k, v in source["connector"].items() if not str(k).startswith("_")}
    if source.get("_roots") is not None:
        options["_roots"] = list(source["_roots"])
        options["_department"] = source["department"]
    if options.get("incremental"):
        if full_refresh:
            options["_full_refresh"] = True
        else:
            options["_state"] = (saved or {}).get("cursor")
    return options
