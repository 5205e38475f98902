"""``bulk_insert`` writes what ``bulk_create`` writes: every column, keys in order, the
values a field prepares itself (JSON, choices, ``auto_now``), foreign keys given by id or
by an object saved after it was assigned; a refused row writes nothing."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict

from obts.models import Person, PersonSource
from obts.models.persons import Sex
from portal.bulk_insert import bulk_insert

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 20, 14, 3, tzinfo=UTC)


def _persons() -> list[Person]:
    return [
        Person(
            sex=Sex.FEMALE,  # a choice: a str subclass the field turns into its value
            race="W",
            height_in=64,
            caution="Armed",
            flags=["wanted", "protective_order"],
            restricted_views={"reason": "sealed", "until": "2027-01-01"},
            status_computed_at=WHEN,
        ),
        Person(sex="M", race="", weight_lb=180, flags=[], restricted_views=None),
    ]


def _stored(person: Person) -> dict[str, Any]:
    """The row as read back, without what differs between two inserts of one value."""
    fresh = Person.objects.get(pk=person.pk)
    return model_to_dict(fresh, exclude=["id", "public_id", "created_at", "updated_at"])


def test_rows_read_back_as_bulk_create_writes_them() -> None:
    ours, django = _persons(), _persons()
    before = datetime.now(UTC)

    inserted = bulk_insert(ours)
    Person.objects.bulk_create(django)

    assert inserted == ours
    assert all(person.pk is not None and not person._state.adding for person in ours)
    assert ours[0].pk < ours[1].pk  # keys in the order of the objects
    for mine, theirs in zip(ours, django, strict=True):
        assert _stored(mine) == _stored(theirs)
        fresh = Person.objects.get(pk=mine.pk)
        assert (fresh.public_id, fresh.created_at) == (mine.public_id, mine.created_at)
        assert before - timedelta(seconds=1) <= fresh.updated_at <= datetime.now(UTC)
    assert _stored(ours[0])["sex"] == "F"
    assert _stored(ours[0])["restricted_views"] == {"reason": "sealed", "until": "2027-01-01"}


def test_a_foreign_key_takes_the_object_saved_after_it_was_assigned() -> None:
    person = Person(sex="M")
    source = PersonSource(person=person, source_system="RMS", source_id="A-1", as_of=WHEN)
    bulk_insert([person])  # saved after the source was given it: the source's id is None

    [written] = bulk_insert([source])

    assert PersonSource.objects.get(pk=written.pk).person_id == person.pk


def test_a_foreign_key_to_an_unsaved_object_is_refused() -> None:
    source = PersonSource(person=Person(sex="M"), source_system="RMS", source_id="A-1", as_of=WHEN)

    with pytest.raises(ValueError, match="unsaved related object 'person'"):
        bulk_insert([source])
    assert not PersonSource.objects.exists()


def test_a_refused_row_writes_none_of_the_others() -> None:
    person = bulk_insert([Person(sex="M")])[0]
    bulk_insert([PersonSource(person=person, source_system="RMS", source_id="A-1", as_of=WHEN)])
    again = [
        PersonSource(person=person, source_system="RMS", source_id="A-2", as_of=WHEN),
        PersonSource(person=person, source_system="RMS", source_id="A-1", as_of=WHEN),
    ]

    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert(again)

    assert list(PersonSource.objects.values_list("source_id", flat=True)) == ["A-1"]


def test_keys_given_by_the_caller_are_kept() -> None:
    [person] = bulk_insert([Person(pk=4242, sex="M")])

    assert person.pk == 4242
    assert Person.objects.get(pk=4242).sex == "M"


def test_nothing_to_insert() -> None:
    assert bulk_insert([]) == []
