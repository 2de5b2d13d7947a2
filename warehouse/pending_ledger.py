"""Ledger rows of steps that do not write the warehouse, kept as files until the next writer commits them.

Only the load step (and the marts' rebuild) opens the warehouse read-write. When extract or validate fails, its
``failed`` ledger row is written as ``<warehouse>.pending-ledger/<run_id>.json``; the next read-write open of the
warehouse (:func:`warehouse.schema.connect`: a load, the marts, the CLI's night) inserts every pending row and removes
its file. A row inserted twice (a crash between the commit and the removal) is ignored the second time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb


def pending_dir(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".pending-ledger")


def pending_ledger(warehouse: Path, row: dict) -> Path:
    """Keep one ledger row (``LedgerEntry.as_dict()``) for the next writer; return its file."""
    folder = pending_dir(warehouse)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    out = folder / f"{row['run_id']}.json"
    tmp = out.with_suffix(".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(row, f)
    tmp.replace(out)
    return out


def commit_pending(con: duckdb.DuckDBPyConnection, warehouse: Path) -> int:
    """Insert the pending ledger rows through the writer's connection ``con``; return how many files there were."""
    files = sorted(pending_dir(warehouse).glob("*.json"))
    for path in files:
        row = json.loads(path.read_text(encoding="utf-8"))
        cols = ", ".join(row)
        con.execute(f"INSERT OR IGNORE INTO meta.ledger ({cols}) VALUES ({', '.join('?' for _ in row)})",
                    list(row.values()))
        path.unlink()
    return len(files)
