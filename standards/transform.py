"""Compile a source's field mapping into one vectorized DuckDB SELECT that normalizes raw records to an entity.

The SELECT reads a relation named ``landing`` (raw string columns plus ``_source``, ``_source_row``,
``_extracted_at``, ``_ordinal``) and yields the entity's typed fields, the lineage columns, the boolean check columns
that :mod:`standards.rules` expects, ``_dup_rank`` and ``_row_hash``. Steps: take the raw value (a column, a JSON path
or an SQL expression), blank -> NULL, crosswalk department codes, parse dates in the department's formats, cast,
pseudonymize identifiers with a keyed HMAC. No Python runs per row.
"""

from __future__ import annotations

import datetime as dt

from standards import gb11643
from standards.codelists import crosswalk
from standards.entity import Entity, Field
from standards.pseudonym import hmac_sql
from standards.rejects import RESERVED, max_field_bytes, reject_checks, within_limit
from standards.rules import DUP_RANK, OK_ENCODING, TYPED, ok_column
from standards.sql_expression import SqlExpressionError, sql_expression

META_COLUMNS = ("_source", "_source_row", "_extracted_at", "_ordinal")
DEFAULT_DATE_FORMATS = ("%Y-%m-%d",)
EARLIEST = "1900-01-01"


class MappingError(ValueError):
    """A source YAML's mapping does not fit its entity or its raw columns."""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


class JsonPaths:
    """The JSON paths a mapping reads. Each becomes a column of a subquery under the mapping, all paths of one raw
    column extracted by one ``json_extract_string`` call: one JSON parse per row and read, where a ``CASE WHEN
    json_valid(..) THEN json_extract_string(..) END`` per use made 13 json_valid and 13 json_extract_string calls per
    row for the person entity (DuckDB does not share a repeated expression inside CASE branches)."""

    def __init__(self) -> None:
        self.aliases: dict[tuple[str, str], str] = {}

    def column(self, raw_column: str, path: str) -> str:
        alias = self.aliases.setdefault((raw_column, path), f"__unsilo_json_{len(self.aliases) + 1}")
        return quote_ident(alias)

    def relation(self, source: str) -> str:
        """``source`` plus one column per path: the path's string value, NULL where the text is not JSON (try()
        turns the parse error into NULL, as ``json_valid`` did; a malformed path still fails when binding)."""
        if not self.aliases:
            return source
        by_column: dict[str, list[tuple[str, str]]] = {}
        for (raw_column, path), alias in self.aliases.items():
            by_column.setdefault(raw_column, []).append((path, alias))
        lists, items = [], []
        for n, (raw_column, pairs) in enumerate(by_column.items(), start=1):
            paths = ", ".join(quote_literal(path) for path, _ in pairs)
            lists.append(f"try(json_extract_string({quote_ident(raw_column)}, [{paths}])) AS __unsilo_json_list_{n}")
            items += [f"__unsilo_json_list_{n}[{i}] AS {quote_ident(alias)}"
                      for i, (_, alias) in enumerate(pairs, start=1)]
        return f"(SELECT *, {', '.join(items)} FROM (SELECT *, {', '.join(lists)} FROM {source}))"


def _raw_expr(source_id: str, name: str, spec: dict, columns: set[str], json_paths: JsonPaths) -> str:
    if "from" in spec:
        col = spec["from"]
        if col not in columns:
            raise MappingError(
                f"source {source_id}: field {name!r} maps from raw column {col!r}, which the source does not have "
                f"(it has: {', '.join(sorted(columns - set(META_COLUMNS)))}); fix sources/{source_id}.yaml"
            )
        return quote_ident(col)
    if "json" in spec:
        # a line that is not JSON yields NULLs (and so required-missing), never an error that stops the batch
        return json_paths.column(spec.get("column", "resource"), spec["json"])
    if "sql" in spec:
        try:  # the source YAML's check refused it already; checked again against the columns that landed
            return f"({sql_expression(spec['sql'], columns)})"
        except SqlExpressionError as exc:
            raise MappingError(f"source {source_id}: field {name!r}: the sql expression is refused: {exc}") from None
    if "value" in spec:
        return quote_literal(spec["value"])
    raise MappingError(f"source {source_id}: field {name!r} needs one of from, json, sql or value")


def _crosswalked(expr: str, f: Field, system: str | None) -> str:
    if not (f.codelist and system):
        return expr
    pairs = crosswalk(f.codelist, system)
    if not pairs:
        return expr
    whens = " ".join(f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in sorted(pairs.items()))
    # unmapped department codes pass through unchanged, so the code-list rule names them as unknown-code
    return f"CASE {expr} {whens} ELSE {expr} END"


def _boolean(expr: str, spec: dict) -> str:
    true_values = spec.get("true_values", ["true", "1", "yes", "y", "t"])
    false_values = spec.get("false_values", ["false", "0", "no", "n", "f"])
    t = ", ".join(quote_literal(v) for v in true_values)
    fl = ", ".join(quote_literal(v) for v in false_values)
    return f"CASE WHEN lower({expr}) IN ({t.lower()}) THEN true WHEN lower({expr}) IN ({fl.lower()}) THEN false END"


def compile_transform(
    source: dict,
    entity: Entity,
    columns: list[str],
    key: bytes,
    interval_end: dt.date,
) -> str:
    """The normalizing SELECT for ``source`` (a parsed source YAML) over relation ``landing`` with ``columns``."""
    source_id = source["id"]
    mapping: dict = source.get("fields") or {}
    system = source.get("codelist_system")
    colset = set(columns)
    unknown = set(mapping) - {f.name for f in entity.fields}
    if unknown:
        raise MappingError(
            f"source {source_id}: sources/{source_id}.yaml maps fields the entity {entity.name} does not have: "
            f"{', '.join(sorted(unknown))}"
        )
    select: list[str] = []
    checks: list[str] = []
    key_exprs: dict[str, str] = {}  # per field, an expression over landing that is equal where the field is equal
    prepared: list[str] = []  # IDs cleaned once before the rest of the mapping refers to them
    json_paths = JsonPaths()
    end_literal = quote_literal(interval_end.isoformat())
    field_limit = max_field_bytes(source.get("max_field_bytes"))
    for f in entity.fields:
        spec = mapping.get(f.name)
        if spec is None:
            if f.required:
                raise MappingError(f"source {source_id}: required field {f.name!r} of {entity.name} is not mapped")
            select.append(f"CAST(NULL AS {f.duckdb_type}) AS {quote_ident(f.name)}")
            continue
        if isinstance(spec, str):
            spec = {"from": spec}
        raw = _raw_expr(source_id, f.name, spec, colset, json_paths)
        # a value over the field limit is the field-too-large rule's (its row is quarantined): not carried on, so
        # no later step (the row hash's to_json asked 512 MiB for one 50 MB value) sizes itself by it
        text = within_limit(raw, f"NULLIF(trim(CAST({raw} AS VARCHAR)), '')", field_limit)
        text = _crosswalked(text, f, spec.get("codelist_system", system))
        if f.type in TYPED and f.required:
            checks.append(f"({text} IS NOT NULL) AS {ok_column('present', f.name)}")
        if "pseudonymize" in spec:
            if f.id_scheme == "gb11643":
                # the check refers to the cleaned ID ~20 times, inside CASE branches, where DuckDB evaluates a
                # repeated expression each time: clean it once, one level down (~9% of the whole query)
                clean = quote_ident(f"__unsilo_id_{f.name}")
                number = quote_ident(f"__unsilo_idnum_{f.name}")
                key_exprs[f.name] = gb11643.normalized_sql(text)
                prepared.append(f"{key_exprs[f.name]} AS {clean}")
                prepared.append(f"{gb11643.number_sql(clean)} AS {number}")  # DuckDB: an alias of the same SELECT
                text = clean
                checks.append(f"coalesce({gb11643.valid_sql(text, number)}, true) AS {ok_column('id', f.name)}")
            value = hmac_sql(key, spec["pseudonymize"], text)
            key_exprs.setdefault(f.name, text)  # the HMAC is one-to-one: partition by its input, not a second HMAC
        elif f.type == "date":
            formats = spec.get("formats", list(DEFAULT_DATE_FORMATS))
            fmt_list = "[" + ", ".join(quote_literal(x) for x in formats) + "]"
            value = f"CAST(try_strptime({text}, {fmt_list}) AS DATE)"
            checks.append(
                f"({text} IS NULL OR coalesce({value} >= DATE {quote_literal(EARLIEST)} "
                f"AND {value} < DATE {end_literal}, false)) AS {ok_column('date', f.name)}"
            )
        elif f.type == "datetime":
            value = f"CAST(try_cast({text} AS TIMESTAMPTZ) AS TIMESTAMP)"
            checks.append(
                f"({text} IS NULL OR coalesce({value} >= TIMESTAMP {quote_literal(EARLIEST)} "
                f"AND {value} < CAST(DATE {end_literal} AS TIMESTAMP), false)) AS {ok_column('date', f.name)}"
            )
        elif f.type == "boolean":
            value = _boolean(text, spec)
            checks.append(f"({text} IS NULL OR {value} IS NOT NULL) AS {ok_column('type', f.name)}")
        elif f.type in ("integer", "number"):
            value = f"TRY_CAST({text} AS {f.duckdb_type})"
            checks.append(f"({text} IS NULL OR {value} IS NOT NULL) AS {ok_column('type', f.name)}")
        else:
            value = text
        select.append(f"{value} AS {quote_ident(f.name)}")
        key_exprs.setdefault(f.name, value)

    raw_text = [c for c in columns if c not in META_COLUMNS and c not in RESERVED]
    if raw_text:
        bad = " OR ".join(f"coalesce(contains(CAST({quote_ident(c)} AS VARCHAR), '\ufffd'), false)" for c in raw_text)
        checks.append(f"NOT ({bad}) AS {OK_ENCODING}")
    else:
        checks.append(f"true AS {OK_ENCODING}")
    checks.extend(reject_checks(colset, field_limit))

    fields = [f.name for f in entity.fields]
    pk = ", ".join(key_exprs.get(k, "NULL") for k in entity.primary_key)
    hash_struct = ", ".join(f"{quote_ident(n)} := {quote_ident(n)}" for n in fields)
    return (
        f"WITH landing_ids AS (\n  SELECT *{''.join(', ' + p for p in prepared)}\n"
        f"  FROM {json_paths.relation('landing')}\n),\n"
        "mapped AS (\n  SELECT\n    "
        + ",\n    ".join(select + checks)
        + ",\n    _source, _source_row, _extracted_at, _ordinal\n  FROM landing_ids\n),\n"
        # duplicate keys: a window over (key, _ordinal) alone, keeping only the repeats, joined back by _ordinal;
        # a window over the whole mapped row carries every column through its sort (~6% of the query)
        f"repeats AS (\n  SELECT _ordinal, row_number() OVER (PARTITION BY {pk} ORDER BY _ordinal) AS {DUP_RANK}\n"
        # landing, not landing_ids: a CTE read twice is materialized
        f"  FROM {json_paths.relation('landing')} QUALIFY {DUP_RANK} > 1\n)\n"
        f"SELECT mapped.*,\n  coalesce(repeats.{DUP_RANK}, 1) AS {DUP_RANK},\n"
        f"  md5(to_json(struct_pack({hash_struct}))) AS _row_hash\nFROM mapped LEFT JOIN repeats USING (_ordinal)"
    )
