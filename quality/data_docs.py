"""A Great Expectations Data Docs site for one run: the suite and its validation result, as static HTML."""

from __future__ import annotations

import shutil
from pathlib import Path


def data_docs(context, directory: Path) -> Path:
    """Build the site of everything validated in ``context`` under ``directory``; return its ``index.html``.

    GX copies ~4 MB of styles, fonts and images into every site; sites that sit side by side (one per run under
    ``quality/``) share one copy: ``<directory>/static`` becomes a link to ``../static``.
    """
    directory.mkdir(parents=True, exist_ok=True)
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
