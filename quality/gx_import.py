"""The one place Great Expectations is imported, with analytics off and two heavy dependencies deferred.

``import great_expectations`` imports every expectation class, and a few of those import ``scipy.stats`` (the
KL-divergence and distribution expectations) and ``altair`` (distribution charts) at module level although only
their ``validate`` or render methods use them. Neither is used by the standard's suites, yet together they were
~1.5 s of the ~4 s import here, paid by every night and every Airflow task. During the import they are loaded with
:class:`importlib.util.LazyLoader`: the module object exists at once and runs its code on first attribute access,
so an expectation that does need scipy still gets it, only later.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

DEFERRED = ("scipy.stats", "altair")


class _DeferredFinder(importlib.abc.MetaPathFinder):
    """Finds the modules in ``names`` through the other finders and wraps their loader in a LazyLoader."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names

    def find_spec(self, name, path, target=None):
        if name not in self.names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


def _import_gx():
    finder = _DeferredFinder(DEFERRED)
    sys.meta_path.insert(0, finder)
    try:
        import great_expectations
    finally:
        sys.meta_path.remove(finder)
    return great_expectations


gx = _import_gx()
