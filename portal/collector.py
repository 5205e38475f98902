"""Python's cyclic garbage collector held off while a batch builds its working set.

A batch of 1,000 records allocates some millions of objects that live until its answer:
parsed records, matching keys, model instances, rows read. The collector's generations
fill up again and again while they pile up, and each collection walks what survived
the last, none of it garbage yet. Reference counting still frees everything acyclic at
once; whatever cycles a batch leaves are collected once the collector runs again, at its
usual thresholds, after the batch.

The collector is process-wide, so the pause is counted: with several threads in a batch
at once it resumes when the last one leaves, and a collector that was already off (a
caller's choice) is left off."""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_resume = False  # whether the first holder found the collector running


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with the cyclic garbage collector off (see the module docstring)."""
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()
