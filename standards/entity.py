"""The standard's entities, loaded from ``standards/entities/*.yaml`` (Frictionless Table Schema plus our keys)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

ENTITIES_DIR = Path(__file__).parent / "entities"

#: Frictionless field type -> DuckDB column type.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
}

#: Disclosure classes (docs/privacy-deidentification.md): what the analysts' snapshot does with a field.
#: ``direct``: identifies a person or a department's record by itself: never leaves the working warehouse.
#: ``quasi``: identifies in combination (birth date, sex, place, dates of events): generalized as declared.
#: ``pseudonym``: a keyed pseudonymous join key (person_key, household_key, address_key): kept, so analysts join.
#: ``sensitive``: what analysts study (codes, amounts, values): kept; never part of an equivalence class.
#: ``public``: not about a person (stops, routes, communities, code-list values): kept.
DISCLOSURE_CLASSES = ("direct", "quasi", "pseudonym", "sensitive", "public")
#: Generalizations a quasi-identifier may declare, finest first, with the field types each applies to. A field
#: declares one or a list (a hierarchy, finest first): the snapshot uses the first that reaches k
#: (warehouse/deidentify.py). ``keep``: unchanged; ``month``/``quarter``/``year``: a date truncated to its first
#: day; ``N-year-band``: a birth date to a band of birth years, the oldest (90 and over) top-coded into one;
#: ``street``: a 12-digit community code to its street's code (first 9 digits); ``drop``: left out.
GENERALIZATIONS = {
    "keep": ("string", "integer", "number", "boolean", "date", "datetime"),
    "month": ("date", "datetime"),
    "quarter": ("date", "datetime"),
    "year": ("date", "datetime"),
    "5-year-band": ("date",),
    "10-year-band": ("date",),
    "20-year-band": ("date",),
    "street": ("string",),
    "drop": ("string", "integer", "number", "boolean", "date", "datetime"),
}

#: ``merge``: one row per key, upserted. ``scd2``: every version kept (type-2 slowly changing dimension).
HISTORY_KINDS = ("merge", "scd2")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    description: str = ""
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    codelist: str | None = None
    disclosure: str = ""
    generalize: tuple[str, ...] = ()  # quasi only: the hierarchy, finest first
    id_scheme: str | None = None
    after: str | None = None
    references: str | None = None  # "entity.field" of a shared dimension this key must exist in

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]


#: The disclosure of the columns every stored table adds (standards/ddl.py): lineage, and an scd2 table's versions.
#: ``_run_id`` and ``_extracted_at`` date a record's arrival, ``_row_hash`` is an unkeyed hash of its business
#: columns (exact birth date included: guessable by trying candidates), so all three stay with the stewards.
_DATES = ("month", "quarter", "year", "drop")
LINEAGE_FIELDS = (
    Field("_source", "string", "The source that loaded the record.", disclosure="public"),
    Field("_run_id", "string", disclosure="quasi", generalize=("drop",)),
    Field("_extracted_at", "datetime", disclosure="quasi", generalize=("drop",)),
    Field("_row_hash", "string", disclosure="quasi", generalize=("drop",)),
)
VERSION_FIELDS = (
    Field("valid_from", "date", disclosure="quasi", generalize=_DATES),
    Field("valid_to", "date", disclosure="quasi", generalize=_DATES),
    Field("is_current", "boolean", disclosure="public"),
)


@dataclass(frozen=True)
class Entity:
    name: str
    title: str
    description: str
    department: str
    history: str
    primary_key: tuple[str, ...]
    fields: tuple[Field, ...] = field(default_factory=tuple)
    quality: dict = field(default_factory=dict, hash=False, compare=False)  # severities, batch checks

    @property
    def table(self) -> str:
        """What analysts query: the table (``merge``) or the view of current versions (``scd2``)."""
        return f"std.{self.name}"

    @property
    def history_table(self) -> str:
        """Where an ``scd2`` entity keeps every version (``valid_from``, ``valid_to``, ``is_current``)."""
        return f"std.{self.name}_history"

    @property
    def stored_table(self) -> str:
        """The table the load writes."""
        return self.history_table if self.history == "scd2" else self.table

    def stored_fields(self, history: bool) -> tuple[Field, ...]:
        """Every column of the stored table (``history``: the scd2 history table) with its disclosure."""
        return self.fields + LINEAGE_FIELDS + (VERSION_FIELDS if history else ())

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"entity {self.name!r} has no field {name!r}")


def _field(raw: dict, entity: str) -> Field:
    unknown_type = raw.get("type", "string") not in DUCKDB_TYPES
    if unknown_type:
        raise ValueError(f"standards/entities/{entity}.yaml: field {raw['name']!r} has unknown type {raw['type']!r}")
    constraints = raw.get("constraints") or {}
    return Field(
        name=raw["name"],
        type=raw.get("type", "string"),
        description=raw.get("description", ""),
        required=bool(constraints.get("required", False)),
        minimum=constraints.get("minimum"),
        maximum=constraints.get("maximum"),
        pattern=constraints.get("pattern"),
        codelist=raw.get("codelist"),
        disclosure=raw.get("disclosure", ""),
        generalize=_generalize(raw, entity),
        id_scheme=raw.get("id_scheme"),
        after=raw.get("after"),
        references=raw.get("references"),
    )


def _generalize(raw: dict, entity: str) -> tuple[str, ...]:
    """Check the field's disclosure class and generalization; an error names the entity file and the field."""
    where = f"standards/entities/{entity}.yaml: field {raw['name']!r}"
    cls, gen = raw.get("disclosure"), raw.get("generalize")
    if cls is None:
        raise ValueError(f"{where} declares no disclosure class: add disclosure: one of "
                         f"{', '.join(DISCLOSURE_CLASSES)}")
    if cls not in DISCLOSURE_CLASSES:
        raise ValueError(f"{where} has unknown disclosure class {cls!r}: use one of {', '.join(DISCLOSURE_CLASSES)}")
    if cls != "quasi":
        if gen is not None:
            raise ValueError(f"{where}: only a quasi-identifier declares generalize (it is {cls})")
        return ()
    levels = tuple([gen] if isinstance(gen, str) else gen or ())
    if not levels:
        raise ValueError(f"{where}: a quasi-identifier declares generalize: one or a list of "
                         f"{', '.join(GENERALIZATIONS)}")
    kind = raw.get("type", "string")
    for level in levels:
        if level not in GENERALIZATIONS:
            raise ValueError(f"{where} has unknown generalization {level!r}: use {', '.join(GENERALIZATIONS)}")
        if kind not in GENERALIZATIONS[level]:
            raise ValueError(f"{where}: generalization {level!r} does not apply to a {kind} field")
    if "drop" in levels[:-1]:
        raise ValueError(f"{where}: drop can only be the last (coarsest) generalization")
    return levels


def load_entity(path: Path) -> Entity:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    fields = tuple(_field(f, raw["name"]) for f in raw["fields"])
    entity = Entity(
        name=raw["name"],
        title=raw.get("title", raw["name"]),
        description=raw.get("description", ""),
        department=raw.get("department", "shared"),
        history=raw.get("history", "merge"),
        primary_key=tuple(raw["primaryKey"]),
        fields=fields,
        quality=raw.get("quality") or {},
    )
    if entity.history not in HISTORY_KINDS:
        raise ValueError(f"{path}: history {entity.history!r} is not one of {', '.join(HISTORY_KINDS)}")
    names = {f.name for f in fields}
    for key in entity.primary_key:
        if key not in names:
            raise ValueError(f"{path}: primaryKey {key!r} is not a field")
    return entity


@cache
def entities() -> dict[str, Entity]:
    """Every entity of the standard, by name, in file-name order."""
    return {e.name: e for e in (load_entity(p) for p in sorted(ENTITIES_DIR.glob("*.yaml")))}


def entity(name: str) -> Entity:
    try:
        return entities()[name]
    except KeyError:
        raise KeyError(f"the standard has no entity {name!r} (see standards/entities/)") from None
