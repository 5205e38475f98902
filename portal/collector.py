"""Python's cyclic garbage collector held off while a batch builds its working set.

A batch of 1,000 records allocates some millions of objects that live until its answer:
parsed records, matching keys, model instances, rows read. The collector's generations
fill up again and again while they pile up, and each collection walks what survived
the last, none of it garbage yet. Reference counting still frees everything acyclic at
once; whatever cycles a batch leaves are collected once the collector runs again, at its
usual thresholds, after the batch.

The collector is process-wide, so the pause is counted: with several threads in a batch
at once it resumes when the last one leaves, and a collector that was already off (a
caller's choice) is left off.

A server process also freezes what it loaded at start (:func:`freeze_loaded`): the
project's modules, Django's, the matcher's nickname and name tables. Some 130,000
objects, and a full collection walked every one of them each time, about 70 ms, paid by
whichever request happened to trigger it."""

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


def freeze_loaded() -> int:
    """Collect once, then move every object the process holds into the collector's
    permanent generation, which no later collection walks; return how many that is.

    For a process that has loaded what it will keep for its lifetime (modules, URL
    patterns, reference tables) and is about to serve: the objects stay alive and are
    freed by reference counting as ever, only never examined for cycles again."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
