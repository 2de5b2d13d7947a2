"""Run as a script under Airflow's environment: parse the dags folder into a DagBag and report, as JSON, how long it
took, the import errors, each DAG's tags, owners and retries, and every file or socket touched during the parse."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from airflow.dag_processing.dagbag import BundleDagBag  # import Airflow before watching: its own start-up I/O is not ours

touched: list[str] = []


def watch(event: str, args: tuple) -> None:
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        touched.append(os.path.abspath(os.fsdecode(args[0])))
    elif event in ("socket.connect", "sqlite3.connect", "subprocess.Popen"):
        touched.append(f"{event}:{args!r}")


sys.addaudithook(watch)
t0 = time.monotonic()
bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=Path(sys.argv[1]))  # as the dag processor parses a bundle
elapsed = time.monotonic() - t0
print(json.dumps({
    "seconds": elapsed,
    "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "dags": {
        dag_id: {
            "tags": sorted(dag.tags),
            "owners": sorted({t.owner for t in dag.tasks}),
            "retries": sorted({t.retries for t in dag.tasks}),
            "tasks": len(dag.tasks),
        }
        for dag_id, dag in bag.dags.items()
    },
    "touched": sorted(set(touched)),
}))
