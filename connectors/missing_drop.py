"""The error of a nightly drop that is not there: the run records it as its own ledger status, ``missing``."""

from __future__ import annotations

from connectors.base import SourceError


class MissingDrop(SourceError):
    """A file the source expects for a night of the interval is not in the department's folder."""
