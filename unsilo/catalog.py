"""The source catalog: one YAML per departmental source in ``sources/``."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from standards.entity import entity
from unsilo.settings import REPO, Settings

DEPARTMENTS = ("health", "employment", "housing", "transport")


class CatalogError(ValueError):
    """A source id or source YAML that cannot be used; the message names the file and the fix."""


def _resolve(value, home: Path):
    """``{home}`` is UNSILO_HOME; ``{repo}`` this repository (the examples read ``{repo}/../shared/data/real``)."""
    if isinstance(value, str):
        return value.replace("{home}", str(home)).replace("{repo}", str(REPO))
    return value


def load_source(path: Path, settings: Settings) -> dict:
    try:
        source = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read source YAML: {exc}") from None
    for key in ("id", "department", "entity", "connector"):
        if key not in (source or {}):
            raise CatalogError(f"{path}: source YAML lacks the key {key!r}")
    try:
        entity(source["entity"])
    except KeyError as exc:
        raise CatalogError(f"{path}: {exc.args[0]}") from None
    options = {k: _resolve(v, settings.home) for k, v in source["connector"].items()}
    env = options.pop("url_env", None)
    if env and os.environ.get(env):  # credentials live in the environment / Airflow Connections, never in YAML
        options["url"] = os.environ[env]
    source["connector"] = options
    source["path"] = str(path)
    return source


def source_paths(settings: Settings) -> list[Path]:
    return sorted(settings.sources_dir.glob("*.yaml"))


def sources(settings: Settings, department: str | None = None) -> list[dict]:
    out = [load_source(p, settings) for p in source_paths(settings)]
    return [s for s in out if department is None or s["department"] == department]


def source(ref: str, settings: Settings) -> dict:
    """A source by id (``housing_tenancies``) or by path to its YAML."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml"):
        if not path.exists():
            raise CatalogError(f"no source YAML at {path}")
        return load_source(path, settings)
    candidate = settings.sources_dir / f"{ref}.yaml"
    if not candidate.exists():
        known = ", ".join(p.stem for p in source_paths(settings))
        raise CatalogError(f"no source {ref!r} in {settings.sources_dir} (known: {known})")
    return load_source(candidate, settings)
