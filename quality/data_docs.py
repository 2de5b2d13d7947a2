"""A Great Expectations Data Docs site for one run: the suite and its validation result, as static HTML.

The site shows rules and counts, never values: GX renders the unexpected values of a failing expectation (its
``partial_unexpected_list`` and friends), so every stored result is stripped to its counts before the site is built.
The failing rows themselves are in quarantine, where stewards read them (``unsilo quarantine list``).

The site works offline: GX's templates link Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega and GX's logos
from nine CDNs; every page is rewritten to use a small stylesheet and script shipped in
``quality/data_docs_assets/`` (self-written), and no ``http(s)://`` address is left in it. Each expectation carries
unsilo's rule name (``id-check-digit``, ``unknown-code``, ... as docs/quality.md names them) beside GX's expectation.
"""

from __future__ import annotations

import os
import re
import shutil
from numbers import Number
from pathlib import Path

from standards.redact import scrub

ASSETS = Path(__file__).with_name("data_docs_assets")
#: what of GX's ``static`` folder the pages use once rewritten (~40 KB of its ~4 MB)
USED_STATIC = {"images/logo-long.png", "images/favicon.ico"}
EXTERNAL_LINK = re.compile(r"""<link\b[^>]*\bhref=["']https?://[^>]*>\s*""", re.I)
EXTERNAL_SCRIPT = re.compile(r"""<script\b[^>]*\bsrc=["']https?://[^>]*>\s*</script>\s*""", re.I)
GX_LOGO = re.compile(r"""https://great-expectations-web-assets[^"')\s]*?/(logo-long|full_logo_dark)\.png[^"')\s]*""")
XMLNS = re.compile(r"""\s+xmlns(:\w+)?=["']https?://[^"']*["']""")
LINK_HREF = re.compile(r"""\bhref=["']https?://[^"']*["']""")
STATIC_REF = re.compile(r"""(["'(])(?:\.\./)*static/""")  # GX gets the depth of some wrong (the favicon)
ANY_URL = re.compile(r"""https?://[^\s"'<>)]*""")

# what of an expectation's result the site may show: counts and shares, and a numeric observed value (a row count)
COUNTS = {"element_count", "unexpected_count", "unexpected_percent", "unexpected_percent_total",
          "unexpected_percent_nonmissing", "missing_count", "missing_percent"}


def data_docs(context, directory: Path) -> Path:
    """Build the site of everything validated in ``context`` under ``directory``; return its ``index.html``.

    GX copies ~4 MB of styles, fonts and images into every site; sites that sit side by side (one per run under
    ``quality/``) share one copy: ``<directory>/static`` becomes a link to ``../static``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with_rule_names(context)
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
    offline(directory)
    return directory / "index.html"


def offline(directory: Path) -> None:
    """Rewrite the site under ``directory`` to need no network: unsilo's stylesheet and script instead of the CDNs',
    GX's logo from the site's own ``static/images``, outside links made plain text, GX's unused static files
    (fonts, styles, images whose metadata name their makers' sites) dropped."""
    static = (directory / "static").resolve()
    for f in [f for f in static.rglob("*") if f.is_file()]:  # GX's fonts, styles and images no page uses
        if f.relative_to(static).as_posix() not in USED_STATIC:
            f.unlink()
    for d in sorted((d for d in static.rglob("*") if d.is_dir()), key=lambda d: len(d.parts), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    assets = static / "unsilo"
    assets.mkdir(parents=True, exist_ok=True)
    for f in ASSETS.iterdir():
        shutil.copyfile(f, assets / f.name)
    for page in directory.rglob("*.html"):
        if (directory / "static") in page.parents:
            continue
        up = Path(os.path.relpath(directory / "static", page.parent)).as_posix()
        html = page.read_text(encoding="utf-8")
        html = EXTERNAL_SCRIPT.sub("", EXTERNAL_LINK.sub("", html))
        html = GX_LOGO.sub(lambda m: f"{up}/images/logo-long.png", html)
        html = LINK_HREF.sub("", XMLNS.sub("", html))
        html = ANY_URL.sub("", html)  # an address in text or a script: nothing may reach out
        html = STATIC_REF.sub(lambda m: f"{m.group(1)}{up}/", html)
        ours = (f'<link rel="stylesheet" href="{up}/unsilo/data_docs.css">\n'
                f'<script src="{up}/unsilo/data_docs.js"></script>\n')
        html = html.replace("</head>", ours + "</head>", 1) if "</head>" in html else ours + html
        page.write_text(html, encoding="utf-8")


def rule_note(meta: dict | None) -> str | None:
    """The note GX renders under an expectation: unsilo's rule name (docs/quality.md), field and severity."""
    meta = meta or {}
    if not meta.get("rule"):
        return None
    where = f" on {meta['field']}" if meta.get("field") else ""
    return f"unsilo rule: {meta['rule']}{where} ({meta.get('severity', 'quarantine')})"


def with_rule_names(context) -> None:
    """Each expectation of each suite and stored result carries unsilo's rule name as its GX ``notes``."""
    for suite in context.suites.all():
        for e in suite.expectations:
            e.notes = rule_note(e.meta) or e.notes
        suite.save()
    store = context.validation_results_store
    for key in store.list_keys():
        suite_result = store.get(key)
        for r in suite_result.results:
            config = r.expectation_config
            note = rule_note(config.meta) if config is not None else None
            if note:  # GX renders a result by its description when there is one: its name, then unsilo's rule
                config.description = f"{config.type}: {note}"
        store.set(key, suite_result)


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
