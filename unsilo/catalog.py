"""The source catalog: one YAML per departmental source in ``sources/``.

Each YAML is checked before anything runs for it (unsilo/source_check.py): schema, names, a safe id, ``sql:``
expressions and confinement to its department's root. A YAML with a problem is refused with every problem listed.
"""

from __future__ import annotations

from pathlib import Path

from unsilo.department_roots import department_roots
from unsilo.settings import Settings
from unsilo.source_check import DEPARTMENTS, check_file, nearest, resolved_options

__all__ = ["DEPARTMENTS", "CatalogError", "load_source", "source", "source_paths", "sources"]


class CatalogError(ValueError):
    """A source id or source YAML that cannot be used; the message names the file and the fix."""


def load_source(path: Path, settings: Settings) -> dict:
    problems, source = check_file(path, settings)
    if problems:
        more = f" (and {len(problems) - 1} more: run `unsilo sources check {path}`)" if len(problems) > 1 else ""
        raise CatalogError(f"{problems[0]}{more}\n" + "\n".join(str(p) for p in problems[1:]))
    source["connector"] = resolved_options(source["connector"], settings.home)
    source["path"] = str(path)
    source["_roots"] = department_roots(source["department"], settings.home)  # the connector checks each read too
    return source


def source_paths(settings: Settings) -> list[Path]:
    return sorted(settings.sources_dir.glob("*.yaml"))


def sources(settings: Settings, department: str | None = None) -> list[dict]:
    out = [load_source(p, settings) for p in source_paths(settings)]
    if department is not None:
        known = sorted({s["department"] for s in out} | set(DEPARTMENTS))
        if department not in known:
            raise CatalogError(f"no department {department!r} in the catalog {settings.sources_dir}"
                               f"{nearest(department, known)}")
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
        known = [p.stem for p in source_paths(settings)]
        raise CatalogError(f"no source {ref!r} in {settings.sources_dir}{nearest(ref, known)}")
    return load_source(candidate, settings)
