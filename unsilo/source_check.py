"""Check a source YAML before anything runs for it: its schema, its names, and its confinement to the department.

What a YAML may say is declared once: the top-level keys (:data:`TOP`), the forms of a field mapping
(:data:`FIELD`), a source's ``quality`` overrides (:data:`QUALITY`) and, per connector kind, the options the
connector class declares (``OPTIONS`` in ``connectors/<kind>.py``). From these :func:`source_schema` builds the JSON
Schema published as ``sources/source.schema.json`` for editors (``unsilo sources schema`` rewrites it; a test keeps
it current), and :func:`check_text` checks a YAML against them, naming the file, the line and the key of each
problem with the nearest valid name: unknown or misspelled keys, wrong types, unknown departments, entities, entity
fields, connector kinds and code-list systems, an unsafe id, a ``sql:`` expression that is not one allowed scalar
expression (standards/sql_expression.py), and every path the source would read outside its department's root
(unsilo/department_roots.py).

At run time the connector options are read from the published schema, not by importing every connector module
(a CSV night does not import SQLAlchemy and httpx to check the housing YAMLs).
"""

from __future__ import annotations

import datetime as dt
import difflib
import glob
import json
import os
import re
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePath

import yaml

from connectors.base import Option, inside, outside_roots, sqlite_file
from standards.entity import entities
from standards.sql_expression import SqlExpressionError, sql_expression
from unsilo.department_roots import (
    DEPARTMENT_NAME, DepartmentRootsError, configured_roots, department_roots, placeholders,
)
from unsilo.interval import SCHEDULES, schedule_cron
from unsilo.settings import REPO, Settings

SCHEMA_PATH = REPO / "sources" / "source.schema.json"
SCHEMA_ID = "https://unsilo.example.org/source.schema.json"
#: the departments unsilo ships; a new one is known once UNSILO_DEPARTMENT_ROOTS gives it a root
DEPARTMENTS = ("health", "employment", "housing", "transport")
#: a source id names files (landing/<id>/...) and is written into SQL literals: nothing else gets through
SOURCE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
PSEUDONYM_DOMAINS = ("person", "household", "address")
SAMPLE_DAY = dt.date(2026, 6, 1)  # what a {date:...} template is checked with

TOP: tuple[Option, ...] = (
    Option("id", ("string",), "unique source id: a lower-case letter, then letters, digits or _ (at most 64); it "
           "names the landing files and the ledger rows", required=True),
    Option("department", ("string",), "the department whose system is read (health, employment, housing, "
           "transport, or one with a root in UNSILO_DEPARTMENT_ROOTS); its paths stay inside its root",
           required=True),
    Option("entity", ("string",), "the entity of the standard the records become (standards/entities/)",
           required=True),
    Option("description", ("string",), "what the source is, for the catalog and the DAG's tooltip"),
    Option("schedule", ("string",), "when Airflow runs the source, on the city's clock (UNSILO_TIMEZONE): daily "
           "(midnight, the day that ended), weekly (Monday midnight, the week that ended), hourly, or a cron "
           "expression of five fields; one DAG per department and schedule (docs/night.md)", "daily"),
    Option("codelist_system", ("string",), "which crosswalks of standards/codelists/*.crosswalk.csv apply"),
    Option("columns", ("array",), "the raw columns expected; schema drift is checked against them", items="string"),
    Option("tolerate_new_columns", ("boolean",), "true: columns the YAML does not know are let through (noted)",
           False),
    Option("connector", ("object",), "the connector kind and its options", required=True),
    Option("fields", ("object",), "entity field -> raw column name, or a mapping with one of from, json, sql, "
           "value", required=True),
    Option("quality", ("object",), "severity and batch-check overrides for this source (docs/quality.md)"),
    Option("allow_empty", ("boolean",), "true: a night with no rows is normal (else its status is empty)", False),
    Option("allow_missing", ("boolean",), "true: a night without a drop is normal (else its status is missing)",
           False),
    Option("expected_rows", ("integer",), "a night with fewer rows is suspect and loads nothing"),
    Option("suspect_below", ("number",), "a night with fewer rows than this share of the median of the last 7 "
           "successful nights is suspect and loads nothing; 0 turns it off", 0.5),
    Option("landing_keep_nights", ("integer",), "nights of landing Parquet (raw records) kept for replay; older "
           "ones are removed at the end of a night (default UNSILO_LANDING_KEEP_NIGHTS, 7)"),
    Option("max_field_bytes", ("integer",), "a raw field longer than this many bytes is quarantined as "
           "field-too-large (default UNSILO_MAX_FIELD_BYTES, else 1 MB)"),
)
FIELD: tuple[Option, ...] = (
    Option("from", ("string",), "a raw column"),
    Option("json", ("string",), "a JSON path into the column resource (or column)"),
    Option("column", ("string",), "the raw column a json path reads (default resource)"),
    Option("sql", ("string",), "one DuckDB scalar expression over the raw columns (allow-listed functions)"),
    Option("value", ("string", "number", "boolean"), "a constant"),
    Option("pseudonymize", ("string",), "replace the value by its keyed HMAC in this domain",
           enum=PSEUDONYM_DOMAINS),
    Option("formats", ("array",), "date formats tried in order (strptime)", items="string"),
    Option("true_values", ("array",), "raw values read as true", items="string"),
    Option("false_values", ("array",), "raw values read as false", items="string"),
    Option("codelist_system", ("string",), "this field's crosswalk system (wins over the source's)"),
)
RAW_VALUE = ("from", "json", "sql", "value")
QUALITY: tuple[Option, ...] = (
    Option("severity", ("object",), "rule name -> quarantine, warn or fail"),
    Option("row_count", ("object", "boolean"), "tolerance, nights, severity; false turns it off"),
    Option("duplicate_rate", ("object", "boolean"), "max, severity; false turns it off"),
    Option("freshness", ("object", "boolean"), "field, max_age_days, severity; false turns it off"),
)
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the whole catalog is checked several times a night
YAML_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "null": "null"}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key}: {self.message}" if self.key else \
            f"{self.file}:{self.line}: {self.message}"


# --- the schema ------------------------------------------------------------------------------------------------


def _declared_kinds() -> dict[str, tuple[Option, ...]]:
    from connectors import KINDS, kind_options

    return {kind: kind_options(kind) for kind in sorted(KINDS)}


def _object(options: tuple[Option, ...], extra: dict | None = None) -> dict:
    props = {}
    for o in options:
        props[o.name] = o.schema()
        if o.path:
            props[o.name]["x-unsilo-path"] = o.path
    out = {"type": "object", "additionalProperties": False, "properties": {**props, **(extra or {})}}
    required = [o.name for o in options if o.required]
    if required:
        out["required"] = required
    return out


def source_schema() -> dict:
    """The JSON Schema of a source YAML, from :data:`TOP`, :data:`FIELD`, :data:`QUALITY`, the connector kinds'
    declared options and the standard's entities (their field names per entity)."""
    kinds = _declared_kinds()
    defs: dict = {}
    for kind, options in kinds.items():
        defs[f"connector_{kind}"] = _object(options, {"kind": {"const": kind, "description": options[0].doc}})
    defs["connector"] = {"type": "object", "required": ["kind"],
                         "properties": {"kind": {"enum": sorted(kinds)}},
                         "allOf": [{"if": {"properties": {"kind": {"const": k}}},
                                    "then": {"$ref": f"#/$defs/connector_{k}"}} for k in sorted(kinds)]}
    field_object = _object(FIELD)
    field_object["oneOf"] = [{"required": [k]} for k in RAW_VALUE]
    defs["field"] = {"oneOf": [{"type": "string", "description": "a raw column"}, field_object]}
    schema = _object(TOP)
    props = schema["properties"]
    props["id"]["pattern"] = SOURCE_ID.pattern
    props["department"]["pattern"] = DEPARTMENT_NAME.pattern
    props["department"]["examples"] = list(DEPARTMENTS)
    props["schedule"]["examples"] = [*SCHEDULES, "30 2 * * *"]
    props["entity"]["enum"] = sorted(entities())
    props["codelist_system"]["enum"] = _crosswalk_systems()
    props["connector"] = {"$ref": "#/$defs/connector", "description": props["connector"]["description"]}
    props["fields"]["additionalProperties"] = {"$ref": "#/$defs/field"}
    props["quality"] = {**_object(QUALITY), "description": props["quality"]["description"]}
    schema["allOf"] = [
        {"if": {"properties": {"entity": {"const": name}}, "required": ["entity"]},
         "then": {"properties": {"fields": {"propertyNames": {"enum": [f.name for f in e.fields]}}}}}
        for name, e in sorted(entities().items())
    ]
    schema["$defs"] = defs
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "unsilo source YAML",
            "description": "One departmental source: sources/<id>.yaml. Generated by `unsilo sources schema` from "
                           "unsilo/source_check.py and the connectors' OPTIONS; do not edit by hand.",
            **schema}


def schema_text() -> str:
    return json.dumps(source_schema(), ensure_ascii=False, indent=1) + "\n"


@cache
def published_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _option(name: str, prop: dict, required: bool) -> Option:
    types = prop.get("type", "string")
    return Option(name, tuple(types) if isinstance(types, list) else (types,), prop.get("description", ""),
                  prop.get("default"), required, prop.get("x-unsilo-path", ""), tuple(prop.get("enum", ())),
                  (prop.get("items") or {}).get("type", ""), prop.get("pattern", ""))


@cache
def kind_options() -> dict[str, dict[str, Option]]:
    """Connector kind -> its options, from the published schema (the declarations when the file is missing)."""
    if not SCHEMA_PATH.exists():
        return {k: {o.name: o for o in opts} for k, opts in _declared_kinds().items()}
    defs = published_schema()["$defs"]
    out = {}
    for name, d in defs.items():
        if name.startswith("connector_"):
            required = set(d.get("required", ()))
            out[name.removeprefix("connector_")] = {
                k: _option(k, p, k in required) for k, p in d["properties"].items() if k != "kind"
            } | {"kind": Option("kind", ("string",), "", required=True)}
    return out


# --- the checks --------------------------------------------------------------------------------------------------


def nearest(word: str, names) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``names``, else the list of names (when short)."""
    names = sorted(set(names))
    match = difflib.get_close_matches(str(word), names, n=1, cutoff=0.6)
    if match:
        return f" (did you mean {match[0]!r}?)"
    return f" (known: {', '.join(names)})" if len(names) <= 20 else ""


def known_departments(settings: Settings) -> list[str]:
    try:
        configured = configured_roots(settings.home)
    except DepartmentRootsError:
        configured = {}
    return sorted(set(DEPARTMENTS) | set(configured))


def _crosswalk_systems() -> list[str]:
    from standards.codelists import codelists_dir

    systems = set(DEPARTMENTS) | {"fhir"}
    for path in codelists_dir().glob("*.crosswalk.csv"):
        with path.open(encoding="utf-8") as f:
            systems |= {line.split(",", 1)[0] for line in list(f)[1:] if line.strip()}
    return sorted(systems)


@cache
def codelist_systems() -> frozenset[str]:
    """The systems the crosswalks know (and the departments'): from the published schema, or from the code lists
    themselves under ``UNSILO_CODELISTS`` (a steward's copy) or without the schema."""
    if SCHEMA_PATH.exists() and not os.environ.get("UNSILO_CODELISTS"):
        return frozenset(published_schema()["properties"]["codelist_system"]["enum"])
    return frozenset(_crosswalk_systems())


class _Checker:
    def __init__(self, file: str, loader):
        self.file = file
        self.loader = loader
        self.problems: list[Problem] = []

    def add(self, node: yaml.Node | None, key: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(Problem(self.file, line, key, message))

    def value(self, node: yaml.Node):
        return self.loader.construct_object(node, deep=True)

    @staticmethod
    def json_type(node: yaml.Node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "object"
        if isinstance(node, yaml.SequenceNode):
            return "array"
        return YAML_TYPES.get(node.tag.rsplit(":", 1)[-1], "string")

    def mapping(self, node: yaml.Node, where: str, spec: dict[str, Option], what: str) -> dict[str, tuple]:
        """Key -> (key node, value node) of a mapping checked against ``spec``: unknown, repeated and missing keys
        and wrong types are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.add(node, where, f"must be a mapping ({what}), not a {self.json_type(node)}")
            return {}
        out: dict[str, tuple] = {}
        for key_node, value_node in node.value:
            key = str(self.value(key_node))
            path = f"{where}.{key}" if where else key
            if key in out:
                self.add(key_node, path, f"is given twice (line {out[key][0].start_mark.line + 1} too)")
                continue
            out[key] = (key_node, value_node)
            if key not in spec:
                self.add(key_node, path, f"unknown key in {what}{nearest(key, spec)}")
                continue
            self.typed(value_node, path, spec[key])
        for name, opt in spec.items():
            if opt.required and name not in out:
                self.add(node, f"{where}.{name}" if where else name, f"is required in {what} and missing")
        return out

    def typed(self, node: yaml.Node, path: str, opt: Option) -> bool:
        got = self.json_type(node)
        types = set(opt.types) | ({"integer"} if "number" in opt.types else set())
        if got not in types:
            self.add(node, path, f"must be {' or '.join(opt.types)}, not {got}")
            return False
        if opt.enum and got == "string" and self.value(node) not in opt.enum:
            self.add(node, path, f"{self.value(node)!r} is not one of {', '.join(opt.enum)}"
                                 f"{nearest(self.value(node), opt.enum)}")
            return False
        if opt.pattern and got == "string" and not re.fullmatch(opt.pattern, str(self.value(node))):
            self.add(node, path, f"{self.value(node)!r} does not match {opt.pattern}")
            return False
        if got == "array" and opt.items:
            for item in node.value:
                if self.json_type(item) != opt.items:
                    self.add(item, path, f"holds a {self.json_type(item)}; every item must be a {opt.items}")
                    return False
        return True

    def string(self, items: dict, key: str) -> str | None:
        if key in items and self.json_type(items[key][1]) == "string":
            return self.value(items[key][1])
        return None


def _template(value: str) -> str:
    """``value`` with ``{date}``/``{date:FMT}`` filled in with a sample day; ValueError for any other field."""
    for _, field, spec, conversion in string.Formatter().parse(value):
        if field is not None and (field != "date" or conversion):
            raise ValueError(f"holds the placeholder {{{field}}}: only {{date}} or {{date:FORMAT}} is allowed")
    return value.format(date=SAMPLE_DAY)


def resolved_options(options: dict, home: Path) -> dict:
    """The connector options as a run uses them: placeholders filled, ``url`` from ``url_env`` when that is set
    (credentials live in the environment / Airflow Connections, never in YAML)."""
    out = {k: placeholders(v, home) if isinstance(v, str) else v for k, v in options.items()}
    env = out.pop("url_env", None)
    if env and os.environ.get(env):
        out["url"] = os.environ[env]
    return out


def _confinement(c: _Checker, department: str, kind: str, options: dict, nodes: dict, settings: Settings) -> None:
    """Every path option of the kind, after placeholders, inside the department's roots."""
    try:
        roots = department_roots(department, settings.home)
    except DepartmentRootsError as exc:
        c.add(None, "department", str(exc))
        return
    spec = kind_options().get(kind, {})
    resolved = resolved_options(options, settings.home)
    base = None  # the folder or feed that a ``name`` option is inside
    for name, opt in spec.items():
        if opt.path in ("folder", "feed") and isinstance(resolved.get(name), str):
            base = resolved[name]
    refused = False
    for name, opt in spec.items():
        value = resolved.get(name)
        if not opt.path or not isinstance(value, str):
            continue
        node = nodes.get(name, (None, None))[1]
        key = f"connector.{name}"
        what = f"connector option {name!r}"
        try:
            text = _template(value)
            text = sqlite_file(text) if opt.path == "sqlite_url" else text
        except ValueError as exc:
            c.add(node, key, str(exc))
            refused = True
            continue
        if opt.path == "sqlite_url":
            if text is None:
                continue
        if opt.path == "name":
            parts = PurePath(text).parts
            if PurePath(text).is_absolute() or ".." in parts or "\\" in text:
                c.add(node, key, f"{text!r} must be a file name inside the folder, without '..' or a leading '/'")
                continue
            if base is None or refused:
                continue  # the folder's own problem is reported already
            text = os.path.join(_template(base), text)
        wild = [text.index(ch) for ch in "*?[" if ch in text]
        if wild and ".." in PurePath(text[min(wild):]).parts:
            c.add(node, key, f"{text!r} holds '..' after a wildcard: name the files inside the root directly")
            continue
        paths = [text]
        if wild and opt.path in ("glob", "name"):
            paths = [os.path.dirname(text[:min(wild)]) or "."] + sorted(glob.glob(text))
        elif opt.path in ("feed", "glob") and os.path.isdir(text):  # every file the connector would read in it
            paths += [os.path.join(text, e) for e in sorted(os.listdir(text))]
        for p in paths:
            if not inside(p, roots):
                c.add(node, key, outside_roots(what, p, roots, department))
                refused = True
                break


def check_text(text: str, file: str, settings: Settings) -> list[Problem]:
    """Every problem of one source YAML's text, each naming ``file``, its line and the key."""
    return checked(text, file, settings)[0]


def checked(text: str, file: str, settings: Settings) -> tuple[list[Problem], dict | None]:
    """The problems of one source YAML's text and, when there are none, the YAML's content."""
    loader = Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [Problem(file, mark.line + 1 if mark else 1, "", f"is not valid YAML: {getattr(exc, 'problem', exc)}")
                ], None
    if root is None:
        return [Problem(file, 1, "", "is empty; a source YAML needs id, department, entity, connector and fields")
                ], None
    c = _Checker(file, loader)
    top = c.mapping(root, "", {o.name: o for o in TOP}, "a source YAML")

    source_id = c.string(top, "id")
    if source_id is not None and not SOURCE_ID.fullmatch(source_id):
        c.add(top["id"][1], "id", f"{source_id!r} is not a safe source id: a lower-case letter, then lower-case "
                                  f"letters, digits or _ (at most 64); it names files and SQL literals")
    department = c.string(top, "department")
    departments = known_departments(settings)
    if department is not None and department not in departments:
        c.add(top["department"][1], "department", f"unknown department {department!r}{nearest(department, departments)}"
              f"; a new department needs its root in UNSILO_DEPARTMENT_ROOTS")
        department = None
    schedule = c.string(top, "schedule")
    if schedule is not None:
        try:
            schedule_cron(schedule)
        except ValueError as exc:
            c.add(top["schedule"][1], "schedule", f"{exc}{nearest(schedule, SCHEDULES)}")
    entity_name = c.string(top, "entity")
    ent = entities().get(entity_name) if entity_name is not None else None
    if entity_name is not None and ent is None:
        c.add(top["entity"][1], "entity", f"unknown entity {entity_name!r}{nearest(entity_name, entities())} "
                                          f"(standards/entities/)")
    system = c.string(top, "codelist_system")
    if system is not None and system not in codelist_systems():
        c.add(top["codelist_system"][1], "codelist_system",
              f"unknown code-list system {system!r}{nearest(system, codelist_systems())}")

    kind = None
    options: dict = {}
    option_nodes: dict = {}
    if "connector" in top:
        node = top["connector"][1]
        kinds = kind_options()
        if isinstance(node, yaml.MappingNode):
            raw = {str(c.value(k)): (k, v) for k, v in node.value}
            kind_node = raw.get("kind", (None, None))[1]
            kind = c.value(kind_node) if kind_node is not None else None
            if kind_node is None:
                c.add(node, "connector.kind", f"is required (one of {', '.join(sorted(kinds))})")
            elif kind not in kinds:
                c.add(kind_node, "connector.kind", f"unknown connector kind {kind!r}{nearest(kind, kinds)}")
                kind = None
        if kind is not None:
            option_nodes = c.mapping(node, "connector", kinds[kind], f"the options of connector kind {kind}")
            options = {k: c.value(v) for k, (_, v) in option_nodes.items()}

    if "fields" in top:
        _fields(c, *top["fields"], ent)
    if "quality" in top:
        checks = c.mapping(top["quality"][1], "quality", {o.name: o for o in QUALITY}, "a source's quality overrides")
        fresh = checks.get("freshness", (None, None))[1]
        if ent is not None and isinstance(fresh, yaml.MappingNode):
            for k, v in fresh.value:
                if c.value(k) == "field" and c.value(v) not in [f.name for f in ent.fields]:
                    c.add(v, "quality.freshness.field", f"entity {ent.name} has no field {c.value(v)!r}"
                                                        f"{nearest(c.value(v), [f.name for f in ent.fields])}")

    if department is not None and kind is not None:
        _confinement(c, department, kind, options, option_nodes, settings)
    if c.problems:
        return sorted(c.problems, key=lambda p: p.line), None
    return [], loader.construct_document(root)


def _fields(c: _Checker, fields_key: yaml.Node, node: yaml.Node, ent) -> None:
    if not isinstance(node, yaml.MappingNode):
        c.add(node, "fields", "must be a mapping of entity field -> raw column or mapping")
        return
    spec = {o.name: o for o in FIELD}
    names = [f.name for f in ent.fields] if ent is not None else None
    mapped = set()
    for key_node, value_node in node.value:
        name = str(c.value(key_node))
        path = f"fields.{name}"
        mapped.add(name)
        if names is not None and name not in names:
            c.add(key_node, path, f"entity {ent.name} has no field {name!r}{nearest(name, names)}")
        if c.json_type(value_node) == "string":
            continue
        items = c.mapping(value_node, path, spec, "a field mapping (a raw column name, or a mapping)")
        if not items:
            continue
        given = [k for k in RAW_VALUE if k in items]
        if len(given) != 1:
            c.add(value_node, path, f"needs exactly one of {', '.join(RAW_VALUE)}"
                                    + (f", not {' and '.join(given)}" if given else ""))
        if "column" in items and "json" not in items:
            c.add(items["column"][0], f"{path}.column", "only goes with json")
        sql = c.string(items, "sql")
        if sql is not None:
            try:
                sql_expression(sql)
            except SqlExpressionError as exc:
                c.add(items["sql"][1], f"{path}.sql", f"the sql expression is refused: {exc}")
        system = c.string(items, "codelist_system")
        if system is not None and system not in codelist_systems():
            c.add(items["codelist_system"][1], f"{path}.codelist_system",
                  f"unknown code-list system {system!r}{nearest(system, codelist_systems())}")
    if ent is not None:
        for f in ent.fields:
            if f.required and f.name not in mapped:
                c.add(fields_key, f"fields.{f.name}", f"the required field {f.name!r} of entity {ent.name} is not "
                                                    f"mapped")


def check_file(path: Path, settings: Settings) -> tuple[list[Problem], dict | None]:
    """:func:`checked` for the YAML at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(str(path), 1, "", f"cannot be read: {exc}")], None
    return checked(text, str(path), settings)


def check_paths(paths: list[Path], settings: Settings) -> list[Problem]:
    """The problems of every YAML under ``paths`` (files, or folders whose ``*.yaml`` are checked), and ids given
    twice among them."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        files.extend(sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")) if p.is_dir() else [p])
    problems: list[Problem] = []
    ids: dict[str, Path] = {}
    for f in files:
        found, content = check_file(f, settings)
        problems += found
        sid = (content or {}).get("id")
        if isinstance(sid, str) and sid in ids and ids[sid].parent == f.parent:
            problems.append(Problem(str(f), 1, "id", f"{sid!r} is also the id of {ids[sid]}: ids are unique"))
        ids.setdefault(sid, f) if isinstance(sid, str) else None
    return problems
