"""``unsilo try SOURCE.yaml``: a dry run of one source for one interval, into a scratch warehouse.

The source YAML is checked by the catalog first (a refused YAML stops here, before anything is created). Then the
night's own steps (unsilo/night.py ``extract_step`` and ``transform_step``) run with settings whose data root is a
temporary folder (owner-only, outside the data root, removed afterwards unless ``keep``). The scratch warehouse is
seeded, read-only from the real one, with what those steps read: the source's saved state (its drift baseline and
cursor), its recent ledger rows (row-count rules) and the shared dimensions its references check against. What
would load is then counted against the real warehouse, opened read-only: nothing under the data root (warehouse,
snapshot, landing files, the drift baseline in ``meta.source_state``) is written.

The report names fields, types, rules, counts and row positions; never a cell value.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

import duckdb

from standards.entity import Entity, entity
from standards.redact import message_of, scrub, shown_header
from standards.transform import quote_ident, quote_literal
from unsilo.catalog import source as find_source
from unsilo.interval import Interval
from unsilo.night import extract_step, source_columns, transform_step
from unsilo.schema_drift import raw_columns
from unsilo.settings import Settings
from unsilo.validate import import_validator_in_background, verdicts_path
from warehouse.schema import connect

FIRST_REJECTS = 10


class TryError(RuntimeError):
    """The dry run cannot start (its scratch folder would be inside the data root)."""


def try_source(ref: str, interval: Interval, settings: Settings, keep: bool = False) -> dict:
    """Run ``ref`` (a source id or YAML path) for ``interval`` into a scratch warehouse; return the report."""
    src = find_source(ref, settings)  # the checker refuses a bad or hostile YAML here, before anything runs
    scratch = Path(tempfile.mkdtemp(prefix=f"unsilo-try-{src['id']}-"))  # mode 0700
    try:
        if scratch.resolve() == settings.home or settings.home in scratch.resolve().parents:
            raise TryError(f"the scratch folder {scratch} is inside the data root {settings.home}: set TMPDIR to a "
                           "folder outside it")
        dry = dataclasses.replace(settings, home=scratch, warehouse=scratch / "warehouse" / "unsilo.duckdb")
        _seed(src, settings.warehouse, dry)
        report = _run(src, interval, settings, dry)
        report["scratch"] = str(scratch) if keep else None
        return report
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)


def _run(src: dict, interval: Interval, real: Settings, dry: Settings) -> dict:
    ent = entity(src["entity"])
    report: dict = {
        "source": src["id"], "yaml": src.get("path"), "entity": ent.name, "history": ent.history,
        "interval": {"start": interval.start.isoformat(), "end": interval.end.isoformat()},
        "status": "would_load", "failed_step": None, "message": None, "extracted": 0, "columns": [],
        "unmapped_columns": [], "mapping": _mapping(src, ent),
        "would_load": {"rows": 0, "new": 0, "changed": 0, "unchanged": 0,
                       "against": str(real.warehouse) if real.warehouse.exists() else None},
        "quarantine": {"rows": 0, "by_rule": {}, "by_check": {}}, "warnings": [], "failures": [],
        "first_rejects": [],
    }
    import_validator_in_background()
    known = source_columns(src)
    try:
        handoff = extract_step(src, interval, dry)
    except Exception as exc:  # the step recorded it in the scratch ledger; tell it here
        return {**report, "status": "failed", "failed_step": "extract", "message": message_of(exc, known)}
    report["extracted"] = handoff["extracted"]
    columns = raw_columns(handoff.get("columns") or [])
    report["columns"] = shown_header(columns, known)
    report["unmapped_columns"] = [s for c, s in zip(columns, report["columns"]) if c not in known]
    if not handoff["extracted"]:
        return {**report, "status": "empty", "message": "the source delivered no rows for this interval"}
    try:
        handoff = transform_step(src, handoff, dry)
    except Exception as exc:
        report.update(status="failed", failed_step="normalize_validate", message=message_of(exc, known))
    normalized = dry.staging / src["id"] / f"{interval.slug}.normalized.parquet"
    verdicts = verdicts_path(dry, src["id"], interval)
    if normalized.exists():
        _field_counts(report["mapping"], normalized)
    if verdicts.exists():
        _quarantine(report, verdicts, Path(handoff["landing"]))
    report["warnings"] = list(handoff.get("warnings") or [])
    if report["status"] == "failed":
        return report
    _would_load(report, ent, normalized, verdicts, interval, real)
    if report["quarantine"]["rows"] == report["extracted"]:
        report.update(status="all_quarantined",
                      message="every row would be quarantined: the mapping or the file is probably wrong")
    return report


def _mapping(src: dict, ent: Entity) -> list[dict]:
    """Each field of the entity: where the YAML takes it from, its type and disclosure class."""
    out = []
    mapping = src.get("fields") or {}
    for f in ent.fields:
        spec = mapping.get(f.name)
        spec = {"from": spec} if isinstance(spec, str) else spec or {}
        if "from" in spec:
            origin = f"column {spec['from']}"
        elif "json" in spec:
            origin = f"json {spec['json']} of {spec.get('column', 'resource')}"
        elif "sql" in spec:
            origin = f"sql {spec['sql']}"
        elif "value" in spec:
            origin = "constant"
        else:
            origin = None
        steps = []
        if spec.get("pseudonymize"):
            steps.append(f"pseudonymize {spec['pseudonymize']}")
        system = spec.get("codelist_system", src.get("codelist_system"))
        if f.codelist and system and origin:
            steps.append(f"crosswalk {system} -> {f.codelist}")
        if spec.get("formats"):
            steps.append("formats " + ", ".join(spec["formats"]))
        out.append({"field": f.name, "source": origin, "type": f"{f.type} ({f.duckdb_type})",
                    "disclosure": f.disclosure, "required": f.required, "steps": steps,
                    "non_null": None, "null_share": None})
    return out


def _field_counts(mapping: list[dict], normalized: Path) -> None:
    """Non-null counts and null shares per field, one vectorized pass over the normalized rows."""
    counts = ", ".join(f"count({quote_ident(m['field'])})" for m in mapping)
    with duckdb.connect() as con:
        row = con.execute(f"SELECT count(*), {counts} FROM read_parquet({quote_literal(str(normalized))})").fetchone()
    total = row[0]
    for m, n in zip(mapping, row[1:]):
        m["non_null"] = n
        m["null_share"] = round(1 - n / total, 4) if total else None


def _quarantine(report: dict, verdicts: Path, landing: Path) -> None:
    """Rows per rule and per check (rule:field), and the first rejects by row position and rule."""
    v, lp = quote_literal(str(verdicts)), quote_literal(str(landing))
    with duckdb.connect() as con:
        report["quarantine"]["rows"] = con.execute(f"SELECT count(*) FROM read_parquet({v})").fetchone()[0]
        for key, col in (("by_rule", "rules"), ("by_check", "checks")):
            report["quarantine"][key] = dict(con.execute(
                f"SELECT r, count(*) FROM (SELECT unnest({col}) AS r FROM read_parquet({v})) GROUP BY r "
                "ORDER BY 2 DESC, 1").fetchall())
        first = con.execute(
            f"""SELECT v._ordinal, l._source_row, v.rules, v.checks FROM read_parquet({v}) v
            JOIN read_parquet({lp}) l USING (_ordinal) ORDER BY v._ordinal LIMIT {FIRST_REJECTS}""").fetchall()
    report["first_rejects"] = [{"row": o + 1, "source_row": scrub(r), "rules": list(rules), "checks": list(checks)}
                               for o, r, rules, checks in first]


def _would_load(report: dict, ent: Entity, normalized: Path, verdicts: Path, interval: Interval,
                real: Settings) -> None:
    """Valid rows split into new, changed and unchanged against the real warehouse (read-only), as the load's merge
    (warehouse/load.py) or type-2 history (warehouse/merge_history.py) would decide; all new without a warehouse."""
    staged = (f"SELECT n.* FROM read_parquet({quote_literal(str(normalized))}) n "
              f"ANTI JOIN read_parquet({quote_literal(str(verdicts))}) v ON v._ordinal = n._ordinal")
    out = report["would_load"]
    if not real.warehouse.exists():
        with duckdb.connect() as con:
            out["rows"] = out["new"] = con.execute(f"SELECT count(*) FROM ({staged})").fetchone()[0]
        return
    types = {f.name: f.duckdb_type for f in ent.fields}
    keys = [quote_ident(k) for k in ent.primary_key]
    typed = ", ".join(f"CAST(s.{k} AS {types[name]}) AS {k}" for k, name in zip(keys, ent.primary_key))
    on = " AND ".join(f"t.{k} = s.{k}" for k in keys)
    if ent.history == "scd2":
        night = f"DATE {quote_literal(interval.start.isoformat())}"
        target = (f"(SELECT * FROM {ent.history_table} WHERE valid_from <= {night} "
                  f"AND (valid_to IS NULL OR valid_to > {night}))")
    else:
        target = ent.table
    with connect(real.warehouse, read_only=True) as con:
        rows, new, unchanged = con.execute(
            f"""SELECT count(*), count(*) FILTER (t._row_hash IS NULL),
                       count(*) FILTER (t._row_hash = s._row_hash)
            FROM (SELECT {typed}, s._row_hash FROM ({staged}) s) s
            LEFT JOIN (SELECT {', '.join(keys)}, _row_hash FROM {target}) t ON {on}""").fetchone()
    out.update(rows=rows, new=new, unchanged=unchanged, changed=rows - new - unchanged)


def _seed(src: dict, real: Path, dry: Settings) -> None:
    """Copy into the scratch warehouse what the night's steps read of the real one: the source's saved state and
    ledger rows, and the shared dimensions its references check against. The real warehouse is opened read-only."""
    scratch = connect(dry.warehouse)  # creates the scratch warehouse and its schemas
    scratch.close()
    if not real.exists():
        return
    seed = dry.home / "seed"
    seed.mkdir(mode=0o700)
    sid = quote_literal(src["id"])
    wanted = {"meta.source_state": f"WHERE source = {sid}", "meta.ledger": f"WHERE source = {sid}"}
    for f in entity(src["entity"]).fields:
        if f.references:
            wanted[entity(f.references.split(".", 1)[0]).stored_table] = ""
    copied = []
    with connect(real, read_only=True) as con:
        tables = {f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
        for i, (table, where) in enumerate(wanted.items()):
            if table in tables:
                out = seed / f"{i}.parquet"
                con.execute(f"COPY (SELECT * FROM {table} {where}) TO {quote_literal(str(out))} (FORMAT parquet)")
                copied.append((table, out))
    with connect(dry.warehouse) as con:
        from warehouse.state import DDL

        con.execute(DDL)
        for table, out in copied:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet({quote_literal(str(out))})")
