"""Faults injected from outside product code into an ``unsilo`` process and its children (tests only).

A test puts this folder first on ``PYTHONPATH`` and sets ``UNSILO_TEST_FAULT=<source id>:<fault>``; every Python
process started with that environment (the CLI, the night's forkserver and so its children) imports this module at
start-up and wraps ``unsilo.night.normalize`` so that, for that source only, normalizing

- ``kill``: kills its own process with SIGKILL (what the out-of-memory killer does);
- ``abort``: aborts in native code (SIGABRT);
- ``recursion``: recurses without end (a RecursionError, as a deeply nested file gives a parser).

Without the variable nothing is imported or changed.
"""

from __future__ import annotations

import os

FAULT = os.environ.get("UNSILO_TEST_FAULT")


def _recurse(n: int) -> int:
    return _recurse(n + 1) + 1


def _install(target: str, fault: str) -> None:
    import signal

    import unsilo.night as night

    normalize = night.normalize

    def faulty(source, *args, **kwargs):
        if source["id"] == target:
            if fault == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            elif fault == "abort":
                os.abort()
            elif fault == "recursion":
                _recurse(0)
        return normalize(source, *args, **kwargs)

    night.normalize = faulty


if FAULT:
    _install(*FAULT.split(":", 1))
