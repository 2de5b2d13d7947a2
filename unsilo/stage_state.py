"""What extract and validate need from the warehouse, read once, read-only, and handed on beside the landing file.

Only the load step opens the warehouse read-write (docs/night.md, "Who writes when"). Extract needs the source's
saved state (its cursor, the columns of its last load: schema drift's baseline) and recent nights' row counts from
the ledger (the suspect rule, unsilo/night_status.py); validate needs those counts too (its row-count rule) and the keys of the shared dimensions that reference rules check against. Extract reads all
of it in one read-only open (waiting while a load holds the file: DuckDB refuses a read-only open of a file another
process writes) and leaves ``staging/<source>/<interval>.state.json`` plus one Parquet file of keys per reference;
the handoff (Airflow's XCom) carries the JSON's path, so validate opens no warehouse at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from standards.entity import entity
from standards.quality_policy import quality_policy
from standards.transform import quote_ident, quote_literal
from unsilo.interval import Interval
from unsilo.settings import Settings
from warehouse.schema import connect
from warehouse.state import read_state

#: How many recent successful nights' row counts are handed on at least: the suspect rule
#: (unsilo/night_status.py) takes the median of the last 7, the row-count rule of the quality policy its ``nights``.
RECENT_NIGHTS = 7


def state_path(settings: Settings, source_id: str, interval: Interval) -> Path:
    return settings.staging / source_id / f"{interval.slug}.state.json"


def stage_state(source: dict, interval: Interval, settings: Settings) -> Path:
    """Read the source's state from the warehouse read-only and write it to :func:`state_path`; return the path.
    Without a warehouse yet (the first night) the state is empty: no cursor, no counts, no known keys."""
    ent = entity(source["entity"])
    policy = quality_policy(ent.quality, source.get("quality"), where=f"sources/{source['id']}.yaml")
    nights = max(int(policy.row_count.get("nights", RECENT_NIGHTS)) if policy.row_count else 0, RECENT_NIGHTS)
    refs = [f for f in ent.fields if f.references]
    out = state_path(settings, source["id"], interval)
    out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    state: dict = {"saved": None, "recent_counts": [], "reference_keys": {}}
    keys = {f.name: out.with_name(f"{interval.slug}.ref.{f.name}.parquet") for f in refs}
    if settings.warehouse.exists():
        with connect(settings.warehouse, read_only=True) as con:
            state["saved"] = read_state(con, source["id"])
            state["recent_counts"] = [r[0] for r in con.execute(
                """SELECT arg_max(extracted, finished_at) FROM meta.ledger
                WHERE source = ? AND status = 'success' AND interval_start < ? AND extracted > 0
                GROUP BY interval_start ORDER BY interval_start DESC LIMIT ?""",
                [source["id"], interval.start, nights]).fetchall()]
            for f in refs:
                target_entity, target_field = f.references.split(".", 1)
                con.execute(f"COPY (SELECT {quote_ident(target_field)} AS k FROM {entity(target_entity).table}) "
                            f"TO {quote_literal(str(keys[f.name]))} (FORMAT parquet)")
    else:
        for path in keys.values():
            pq.write_table(pa.table({"k": pa.array([], pa.string())}), path)
    state["reference_keys"] = {name: str(path) for name, path in keys.items()}
    tmp = out.with_suffix(".json.part")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    tmp.replace(out)
    return out


def read_stage_state(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
