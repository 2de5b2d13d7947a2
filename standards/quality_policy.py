"""Severities and batch-level checks: set in the standard (an entity's ``quality:``), overridable per source.

Every rule has a severity:

- ``quarantine`` (row level): the rows that break it go to ``meta.quarantine``; the others load;
- ``warn``: the rows load anyway; the count is recorded in ``meta.validation_result`` and the ledger message;
- ``fail``: if any row (or the batch) breaks it, that source's load stops: warehouse unchanged, ledger ``failed``.

Defaults: every row-level rule ``quarantine``, ``unknown-reference`` and every batch-level check ``warn``. An entity
YAML (and a source YAML, which wins) may say::

    quality:
      severity: {unknown-code: warn, unknown-reference: quarantine}
      row_count: {tolerance: 0.5, nights: 7, severity: fail}   # against the median of recent successful nights
      duplicate_rate: {max: 0.05, severity: warn}              # share of rows that repeat a primary key
      freshness: {field: started_on, max_age_days: 30, severity: warn}  # newest value vs the interval's end
"""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITIES = ("quarantine", "warn", "fail")
BATCH_SEVERITIES = ("warn", "fail")

# Stable names of the batch-level checks (documented in docs/quality.md).
ROW_COUNT = "row-count"
DUPLICATE_RATE = "duplicate-rate"
FRESHNESS = "freshness"
UNKNOWN_REFERENCE = "unknown-reference"

DEFAULT_SEVERITY = {UNKNOWN_REFERENCE: "warn"}
DEFAULT_CHECKS = {
    "row_count": {"tolerance": 0.5, "nights": 7, "severity": "warn"},
    "duplicate_rate": {"max": 0.05, "severity": "warn"},
    "freshness": None,  # only where the entity or source names a field
}


@dataclass(frozen=True)
class Policy:
    severity: dict[str, str] = field(default_factory=dict)
    row_count: dict | None = None
    duplicate_rate: dict | None = None
    freshness: dict | None = None

    def of(self, rule: str) -> str:
        return self.severity.get(rule, DEFAULT_SEVERITY.get(rule, "quarantine"))


def _check(where: str, name: str, base: dict | None, override) -> dict | None:
    if override is None:
        return base
    if override is False:
        return None
    if not isinstance(override, dict):
        raise ValueError(f"{where}: quality.{name} must be a mapping (or false to turn it off), not {override!r}")
    merged = {**(base or {}), **override}
    if merged.get("severity", "warn") not in BATCH_SEVERITIES:
        raise ValueError(f"{where}: quality.{name}.severity must be warn or fail, not {merged['severity']!r}")
    merged.setdefault("severity", "warn")
    return merged


def quality_policy(entity_quality: dict | None, source_quality: dict | None = None,
                   where: str = "source") -> Policy:
    """The standard's defaults, then the entity's ``quality:``, then the source's: later wins, key by key."""
    severity: dict[str, str] = {}
    checks = dict(DEFAULT_CHECKS)
    for label, q in (("standard", entity_quality or {}), (where, source_quality or {})):
        for rule, sev in (q.get("severity") or {}).items():
            if sev not in SEVERITIES:
                raise ValueError(f"{label}: quality.severity.{rule} must be one of {', '.join(SEVERITIES)}, "
                                 f"not {sev!r}")
            severity[rule] = sev
        for name in ("row_count", "duplicate_rate", "freshness"):
            if name in q:
                checks[name] = _check(label, name, checks[name], q[name])
    if checks["freshness"] and "field" not in checks["freshness"]:
        raise ValueError(f"{where}: quality.freshness needs a field (the record timestamp to check)")
    return Policy(severity=severity, **checks)
