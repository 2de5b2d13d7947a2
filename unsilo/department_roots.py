"""Where each department's sources may read: every path a source names resolves inside its department's root.

``UNSILO_DEPARTMENT_ROOTS`` configures them: comma-separated ``department=path`` entries, a department named more
than once has several roots, and ``{home}`` (``UNSILO_HOME``) and ``{repo}`` (this repository) may be used::

    UNSILO_DEPARTMENT_ROOTS="health=/srv/health,employment=/srv/hr-drop,transport={home}/departments/transport,transport=/work/shared/data/real/transport"

A department not named there keeps the default root ``<UNSILO_HOME>/departments/<department>``, where ``unsilo
demo`` writes each department's files. Roots and paths are compared after ``os.path.realpath`` (symlinks resolved,
``..`` folded), so a symlink inside a root that points out of it, an absolute path elsewhere and a ``..`` escape are
all outside. A name in :data:`DEPARTMENT_NAME` form only: department names become DAG ids and folder names.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ENV = "UNSILO_DEPARTMENT_ROOTS"
DEPARTMENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class DepartmentRootsError(ValueError):
    """``UNSILO_DEPARTMENT_ROOTS`` cannot be read; the message names the entry and the fix."""


def placeholders(value: str, home: Path) -> str:
    """``{home}`` is UNSILO_HOME; ``{repo}`` this repository (the examples read ``{repo}/../shared/data/real``)."""
    from unsilo.settings import REPO

    return value.replace("{home}", str(home)).replace("{repo}", str(REPO))


def configured_roots(home: Path, env: str | None = None) -> dict[str, list[str]]:
    """The roots ``UNSILO_DEPARTMENT_ROOTS`` names, by department, each resolved (``os.path.realpath``)."""
    text = os.environ.get(ENV, "") if env is None else env
    out: dict[str, list[str]] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        department, sep, path = (p.strip() for p in entry.partition("="))
        if not sep or not path or not DEPARTMENT_NAME.fullmatch(department):
            raise DepartmentRootsError(
                f"{ENV}: entry {entry!r} is not department=path (a department is lower-case letters, digits and _)")
        path = placeholders(path, home)
        if not os.path.isabs(path):
            raise DepartmentRootsError(f"{ENV}: the root of {department} must be an absolute path, not {path!r}")
        out.setdefault(department, []).append(os.path.realpath(path))
    return out


def department_roots(department: str, home: Path) -> list[str]:
    """The resolved roots of ``department``: the configured ones, else ``<home>/departments/<department>``."""
    return configured_roots(home).get(department) or [os.path.realpath(Path(home) / "departments" / department)]
