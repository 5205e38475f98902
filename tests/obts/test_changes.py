"""The change hook: listeners hear of applied records (created or updated) once the
transaction commits; unchanged, stale and rejected records, and rolled-back ones, are
never announced."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.db import transaction

from obts.models import Person, Warrant
from obts.services.changes import (
    RecordsChange,
    register_change_listener,
    unregister_change_listener,
)
from obts.services.feeds import feed_kind, feed_records_upsert
from obts.services.intake import Submitter
from obts.services.persons import persons_upsert
from tests.obts.factories import create_person, feed_body, person_body

pytestmark = pytest.mark.django_db

OnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]
SUBMITTER = Submitter(command="test")


@pytest.fixture
def heard() -> Iterator[list[RecordsChange]]:
    changes: list[RecordsChange] = []
    register_change_listener(changes.append)
    yield changes
    unregister_change_listener(changes.append)


def warrants(*records: dict[str, Any]) -> None:
    kind = feed_kind("warrants")
    assert kind is not None
    feed_records_upsert(kind, list(records), submitter=SUBMITTER)


def test_applied_feed_records_are_announced_after_commit(
    heard: list[RecordsChange], django_capture_on_commit_callbacks: OnCommit
) -> None:
    person = Person.objects.get(public_id=create_person())
    with django_capture_on_commit_callbacks(execute=True):
        warrants(feed_body("warrants"))
        assert heard == []
    (change,) = heard
    assert change.kind == "warrants"
    assert change.person_ids == {person.pk}
    assert change.records == (Warrant.objects.get(),)
    assert change.sources == (("TEST-SRC", "R-1"),)


def test_unchanged_and_stale_records_are_not_announced(
    heard: list[RecordsChange], django_capture_on_commit_callbacks: OnCommit
) -> None:
    create_person()
    warrants(feed_body("warrants"))
    with django_capture_on_commit_callbacks(execute=True):
        warrants(feed_body("warrants"))
        warrants(feed_body("warrants", as_of="2025-01-01T00:00:00Z", status="served"))
    assert heard == []


def test_rolled_back_records_are_not_announced(
    heard: list[RecordsChange], django_capture_on_commit_callbacks: OnCommit
) -> None:
    create_person()

    def upsert_then_fail() -> None:
        with transaction.atomic():
            warrants(feed_body("warrants"))
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        upsert_then_fail()
    assert heard == []
    assert not Warrant.objects.exists()


def test_applied_persons_are_announced_with_their_sources(
    heard: list[RecordsChange], django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        (result,) = persons_upsert([person_body()], submitter=SUBMITTER)
    (change,) = heard
    assert change.kind == "persons"
    assert change.records == (result.instance,)
    assert change.sources == (("DPS-MNI", "A-1001"),)


def test_a_failing_listener_does_not_stop_the_others(
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    def broken(change: RecordsChange) -> None:
        raise RuntimeError("listener bug")

    heard: list[RecordsChange] = []
    register_change_listener(broken)
    register_change_listener(heard.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            persons_upsert([person_body()], submitter=SUBMITTER)
    finally:
        unregister_change_listener(broken)
        unregister_change_listener(heard.append)
    assert len(heard) == 1
