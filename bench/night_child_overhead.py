"""What running each source of ``unsilo night`` in its own process costs (unsilo/night_isolated.py).

    .venv/bin/python bench/night_child_overhead.py --children 15

Measures, in a fresh process: the forkserver's first start with the pipeline and Great Expectations preloaded (paid
once per night, while the first child waits), then the round trip of a child that does nothing (start, import of
the night module, a pipe message, exit, join), for the forkserver and, to compare, for a spawned interpreter. The
demo's night has 15 sources: the per-source cost times 15 is what isolation adds to a night.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def child(send) -> None:
    import unsilo.night  # noqa: F401 - what a source's child needs first

    send.send("ok")
    send.close()


def round_trip(ctx) -> float:
    t0 = time.perf_counter()
    receive, send = ctx.Pipe(duplex=False)
    p = ctx.Process(target=child, args=(send,))
    p.start()
    send.close()
    receive.recv()
    p.join()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=15)
    args = parser.parse_args()
    from unsilo.night_isolated import PRELOAD

    out = {}
    fs = multiprocessing.get_context("forkserver")
    fs.set_forkserver_preload(PRELOAD)
    out["forkserver_first_child_s"] = round(round_trip(fs), 3)  # starts the server and preloads
    times = [round_trip(fs) for _ in range(args.children)]
    out["forkserver_child_median_s"] = round(statistics.median(times), 3)
    out["forkserver_children_total_s"] = round(sum(times), 3)
    sp = multiprocessing.get_context("spawn")
    times = [round_trip(sp) for _ in range(min(args.children, 5))]
    out["spawn_child_median_s"] = round(statistics.median(times), 3)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
