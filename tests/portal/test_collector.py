"""The garbage collector's pause around a batch: off inside, back as it was after, also
when batches overlap in several threads or the body fails. And a server process's
freeze of what it loaded at start."""

import gc
import os
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.collector import collector_paused, freeze_loaded

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def collector_running() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_failing_batch_still_turns_it_back_on() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("bad batch")
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_batches_resume_it_when_the_last_one_leaves() -> None:
    first_inside, second_done, seen = threading.Event(), threading.Event(), []

    def second() -> None:
        first_inside.wait()
        with collector_paused():
            pass
        seen.append(gc.isenabled())  # the first batch is still running
        second_done.set()

    worker = threading.Thread(target=second)
    worker.start()
    with collector_paused():
        first_inside.set()
        second_done.wait(timeout=5)
        assert not gc.isenabled()
    worker.join()
    assert seen == [False]
    assert gc.isenabled()


def test_freezing_collects_the_garbage_first_and_keeps_the_rest() -> None:
    class Node:
        def __init__(self) -> None:
            self.other: Node | None = None

    kept = Node()
    cycle_a, cycle_b = Node(), Node()
    cycle_a.other, cycle_b.other = cycle_b, cycle_a
    gone = weakref.ref(cycle_a)
    del cycle_a, cycle_b  # unreachable: only the collector can free them
    try:
        frozen = freeze_loaded()
        # (Not compared with gc.get_freeze_count(): another thread of the test process may
        # free a frozen object meanwhile.)
        assert frozen > 0
        assert gone() is None  # collected, not frozen for good
        assert kept.other is None  # what was alive is untouched
        # Frozen: in no generation any later collection walks.
        assert not any(tracked is kept for tracked in gc.get_objects())
    finally:
        gc.unfreeze()


def test_a_web_worker_freezes_the_application_it_loaded() -> None:
    """What gunicorn's worker does on start: import cjis.wsgi. The URL patterns and the
    views are loaded then, and what was loaded no longer costs a full collection."""
    script = (
        "import gc, sys, cjis.wsgi\n"
        "frozen = gc.get_freeze_count()\n"
        "assert 'obts.views' in sys.modules\n"
        "print(frozen, len(gc.get_objects()))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cjis.settings"}
    result = subprocess.run(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    frozen, tracked = (int(n) for n in result.stdout.split())
    assert frozen > 50_000  # the project, Django, the matcher's tables
    assert tracked < frozen // 10  # what a full collection still walks
