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
    pii: str | None = None
    id_scheme: str | None = None
    after: str | None = None
    references: str | None = None  # "entity.field" of a shared dimension this key must exist in

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]


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
        pii=raw.get("pii"),
        id_scheme=raw.get("id_scheme"),
        after=raw.get("after"),
        references=raw.get("references"),
    )


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
