"""The garbage collector's pause around a batch: off inside, back as it was after, also
when batches overlap in several threads or the body fails."""

import gc
import threading
from collections.abc import Iterator

import pytest

from portal.collector import collector_paused


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
