"""A Great Expectations Data Docs site for one run: the suite and its validation result, as static HTML.

The site shows rules and counts, never values: GX renders the unexpected values of a failing expectation (its
``partial_unexpected_list`` and friends), so every stored result is stripped to its counts before the site is built.
The failing rows themselves are in quarantine, where stewards read them (``unsilo quarantine list``).
"""

from __future__ import annotations

import shutil
from numbers import Number
from pathlib import Path

from standards.redact import scrub

# what of an expectation's result the site may show: counts and shares, and a numeric observed value (a row count)
COUNTS = {"element_count", "unexpected_count", "unexpected_percent", "unexpected_percent_total",
          "unexpected_percent_nonmissing", "missing_count", "missing_percent"}


def data_docs(context, directory: Path) -> Path:
    """Build the site of everything validated in ``context`` under ``directory``; return its ``index.html``.

    GX copies ~4 MB of styles, fonts and images into every site; sites that sit side by side (one per run under
    ``quality/``) share one copy: ``<directory>/static`` becomes a link to ``../static``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    without_values(context)
    context.add_data_docs_site(
        "unsilo",
        {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(directory)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    context.build_data_docs(site_names=["unsilo"])
    static, shared = directory / "static", directory.parent / "static"
    if static.is_dir() and not static.is_symlink():
        if shared.is_dir():
            shutil.rmtree(static)
        else:
            static.replace(shared)
        static.symlink_to(Path("..") / "static")
    return directory / "index.html"


def without_values(context) -> None:
    """Strip every stored validation result of ``context`` down to its counts (and a scrubbed exception text)."""
    store = context.validation_results_store
    for key in store.list_keys():
        suite_result = store.get(key)
        for r in suite_result.results:
            r.result = counts_only(r.result)
            info = r.exception_info or {}
            if info.get("exception_message"):
                info["exception_message"] = scrub(info["exception_message"])
                info["exception_traceback"] = None
        store.set(key, suite_result)


def counts_only(result: dict | None) -> dict:
    out = {k: v for k, v in (result or {}).items() if k in COUNTS}
    observed = (result or {}).get("observed_value")
    if isinstance(observed, Number) and not isinstance(observed, bool):
        out["observed_value"] = observed
    return out
