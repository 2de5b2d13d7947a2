"""Act on the rules whose severity is not ``quarantine``: ``fail`` stops the source's load, ``warn`` is noted."""

from __future__ import annotations

from unsilo.validate import Validated
from warehouse.load import LedgerEntry


class BatchFailed(RuntimeError):
    """A rule of severity ``fail`` was broken: the source's load stops, the warehouse is unchanged."""


def stop_or_warn(entry: LedgerEntry, validated: Validated) -> None:
    if validated.failures:
        raise BatchFailed(
            f"source {entry.source}: validation failed, load stopped (severity fail): {'; '.join(validated.failures)}"
            f" - fix the data or the rule's severity in sources/{entry.source}.yaml (quality:), then re-run"
        )
    if validated.warnings:
        entry.message = "warn: " + "; ".join(validated.warnings)
