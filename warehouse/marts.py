"""Marts: SQL files in ``warehouse/marts/``, rebuilt after loads.

Each file creates one view (``CREATE OR REPLACE VIEW <schema>.<name>``) and starts with a header comment: the
first paragraph describes the mart, then ``-- columns:`` and one ``--   name: description`` line per column. The
description feeds ``unsilo tables``, the snapshot's comments and the data dictionary. ``UNSILO_MIN_CELL``
(default 5) is the smallest number of persons a community cell may show; smaller cells are suppressed (NULL):
a mart writes ``${UNSILO_MIN_CELL}`` where the number goes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

MARTS_DIR = Path(__file__).parent / "marts"
#: Written in a mart's SQL where the smallest cell size goes; replaced by ``UNSILO_MIN_CELL`` at build time.
MIN_CELL = "${UNSILO_MIN_CELL}"
CREATES = re.compile(r"CREATE\s+OR\s+REPLACE\s+(?:VIEW|TABLE)\s+([a-z_]+)\.([a-z_0-9]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Mart:
    name: str
    path: Path
    description: str
    columns: dict[str, str]

    @property
    def schema(self) -> str:
        return self.name.split(".")[0]


def read_mart(path: Path) -> Mart:
    text = path.read_text(encoding="utf-8")
    found = CREATES.search(text)
    if not found:
        raise ValueError(f"{path}: a mart file must CREATE OR REPLACE VIEW <schema>.<name>")
    header = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        header.append(line[2:].strip())
    about, columns, in_columns = [], {}, False
    for line in header:
        if line.lower() == "columns:":
            in_columns = True
        elif in_columns and ":" in line:
            name, doc = line.split(":", 1)
            columns[name.strip()] = doc.strip()
        elif not in_columns and line:
            about.append(line)
    if not about:
        raise ValueError(f"{path}: start the file with a comment that describes the mart")
    return Mart(f"{found.group(1)}.{found.group(2)}", path, " ".join(about), columns)


def marts() -> list[Mart]:
    return [read_mart(p) for p in sorted(MARTS_DIR.glob("*.sql"))]


def min_cell() -> int:
    return int(os.environ.get("UNSILO_MIN_CELL", "5"))


def build_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    built = []
    for m in marts():
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {m.schema}")
        con.execute(m.path.read_text(encoding="utf-8").replace(MIN_CELL, str(min_cell())))
        built.append(m.name)
    return built
