"""A Celery worker keeps its database connection from one task to the next, closing it
only where Django would close a web thread's between requests (cjis/celery.py).

The signals are sent here as the worker sends them around each task, with Celery's own
Django fixup beside ours, so what is tested is what a worker process does. PostgreSQL
only: the embedded SQLite test database is in memory and never really closed."""

import time
from collections.abc import Iterator

import pytest
from celery.fixups.django import DjangoWorkerFixup  # type: ignore[attr-defined]  # not in the stubs
from celery.signals import task_postrun, task_prerun
from django.db import connection, transaction

from ciss.tasks import sweep_pending_deliveries
from cjis.celery import app

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="an in-memory SQLite database is never closed"
)

task = sweep_pending_deliveries


def backend() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid: int = cursor.fetchone()[0]
    return pid


def run_around_task(fixup: DjangoWorkerFixup) -> None:
    """What the worker does around a task: the prerun signal, the fixup's own closing,
    the postrun signal and the fixup's closing again."""
    task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
    fixup.on_task_prerun(sender=task)
    task_postrun.send(
        sender=task, task_id="t", task=task, args=(), kwargs={}, retval=0, state="SUCCESS"
    )
    fixup.on_task_postrun(sender=task)


@pytest.fixture
def fixup() -> DjangoWorkerFixup:
    return DjangoWorkerFixup(app)


@pytest.fixture
def fresh_connection() -> Iterator[None]:
    """A connection opened with a maximum age, as a worker's is under DATABASE_URL; the
    setting is put back afterwards for the tests that follow."""
    before = connection.settings_dict["CONN_MAX_AGE"]
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 60
    connection.ensure_connection()
    yield
    connection.settings_dict["CONN_MAX_AGE"] = before


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_connection")
def test_consecutive_tasks_share_one_connection(fixup: DjangoWorkerFixup) -> None:
    first = backend()
    for _ in range(3):
        run_around_task(fixup)
        assert backend() == first


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_connection")
def test_a_connection_past_its_age_is_replaced(fixup: DjangoWorkerFixup) -> None:
    first = backend()
    connection.close_at = time.monotonic() - 1
    run_around_task(fixup)
    assert backend() != first


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_connection")
def test_a_broken_connection_is_replaced_before_the_next_task(fixup: DjangoWorkerFixup) -> None:
    first = backend()
    connection.connection.close()  # as when the server ends the session
    connection.errors_occurred = True
    task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
    fixup.on_task_prerun(sender=task)
    assert backend() != first  # the task's first statement works


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_connection")
def test_the_fixup_still_closes_every_reuse_max_tasks(fixup: DjangoWorkerFixup) -> None:
    assert fixup.db_reuse_max == 1000  # settings.CELERY_DB_REUSE_MAX
    fixup.db_reuse_max = 1
    first = backend()
    run_around_task(fixup)  # the fixup counts prerun and postrun: two calls a task
    assert backend() == first
    run_around_task(fixup)  # closed as the next task starts
    assert backend() != first


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_connection")
def test_an_eager_task_leaves_its_callers_transaction_alone() -> None:
    with transaction.atomic():
        first = backend()
        task.push_request(is_eager=True)  # type: ignore[call-arg]  # the stubs take only the task's own arguments
        try:
            task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
            task_postrun.send(
                sender=task, task_id="t", task=task, args=(), kwargs={}, retval=0, state="SUCCESS"
            )
        finally:
            task.pop_request()
        assert backend() == first
        assert not connection.needs_rollback
