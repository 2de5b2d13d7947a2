"""What validation needs beyond the batch: the source's quality policy, recent nights' row counts from the ledger,
and the keys of shared dimensions that reference rules (``unknown-reference``) check against.

A reference (``references: household.household_key`` on a field) resolves when the key is in the warehouse's
``std.household`` or in the same night's normalized batch of any source of that entity (so the order in which a
night's sources run does not matter, and a household quarantined for another defect still exists as a reference).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from standards.entity import Entity, entity
from standards.quality_policy import Policy, quality_policy
from standards.rules import ok_column
from standards.transform import quote_ident, quote_literal
from unsilo.interval import Interval
from unsilo.settings import Settings
from unsilo.stage_state import read_stage_state, stage_state


@dataclass
class QualityInputs:
    policy: Policy
    recent_counts: list[int] = field(default_factory=list)
    view_sql: str | None = None  # the batch with reference check columns, when the entity has references


def quality_inputs(source: dict, ent: Entity, normalized: Path, interval: Interval, settings: Settings,
                   warehouse_state: Path | None = None) -> QualityInputs:
    """``warehouse_state``: what extract read from the warehouse (unsilo/stage_state.py); without it (a replay),
    it is read here, read-only."""
    policy = quality_policy(ent.quality, source.get("quality"), where=f"sources/{source['id']}.yaml")
    state = read_stage_state(warehouse_state or stage_state(source, interval, settings))
    counts = state["recent_counts"] if policy.row_count else []
    columns = []
    for f in ent.fields:
        if not f.references:
            continue
        target_entity, target_field = f.references.split(".", 1)
        target = entity(target_entity)
        known = f"SELECT k FROM read_parquet({quote_literal(state['reference_keys'][f.name])})"
        tonight = _same_night(settings, target.name, interval)
        if tonight:
            listed = ", ".join(quote_literal(str(p)) for p in tonight)
            known += (f" UNION ALL SELECT {quote_ident(target_field)} "
                      f"FROM read_parquet([{listed}], union_by_name=true)")
        col = quote_ident(f.name)
        columns.append(f"(n.{col} IS NULL OR n.{col} IN (SELECT k FROM ({known}) WHERE k IS NOT NULL)) "
                       f"AS {quote_ident(ok_column('ref', f.name))}")
    view = None
    if columns:
        view = f"SELECT n.*, {', '.join(columns)} FROM read_parquet({quote_literal(str(normalized))}) n"
    return QualityInputs(policy=policy, recent_counts=counts, view_sql=view)


def _same_night(settings: Settings, entity_name: str, interval: Interval) -> list[Path]:
    from unsilo.catalog import sources

    out = []
    for s in sources(settings):
        if s["entity"] == entity_name:
            p = settings.staging / s["id"] / f"{interval.slug}.normalized.parquet"
            if p.exists():
                out.append(p)
    return out
