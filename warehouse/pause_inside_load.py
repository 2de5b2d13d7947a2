"""A test hook: ``UNSILO_LOAD_PAUSE=<seconds>`` makes the load stop inside its open transaction, after the merge.

Tests use it to kill a load process mid-load (SIGKILL) and check that the warehouse is left as it was. It prints
one line to stderr first, so the test knows the transaction is open. Unset (the default), it does nothing.
"""

from __future__ import annotations

import os
import sys
import time

PAUSE_VARIABLE = "UNSILO_LOAD_PAUSE"
PAUSED_MESSAGE = "unsilo: load paused inside its transaction"


def pause_inside_load() -> None:
    seconds = float(os.environ.get(PAUSE_VARIABLE) or 0)
    if seconds > 0:
        print(PAUSED_MESSAGE, file=sys.stderr, flush=True)
        time.sleep(seconds)
