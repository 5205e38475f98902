"""The record views' first read, the person row by public id, written out as SQL: the
same instance the ORM gives, every field."""

import uuid

import pytest
from django.http import Http404

from obts.models import Person
from obts.selectors import _person, survivor_of
from tests.obts.factories_records import heavy_person

pytestmark = pytest.mark.django_db


def _fields(person: Person) -> dict[str, object]:
    return {field.attname: getattr(person, field.attname) for field in Person._meta.concrete_fields}


def test_the_person_read_is_the_orms_person_field_by_field() -> None:
    stored = heavy_person()

    read = _person(stored.public_id)

    assert read is not None
    assert _fields(read) == _fields(Person.objects.get(pk=stored.pk))
    assert not read._state.adding


def test_an_unknown_id_reads_nobody_and_the_views_answer_404() -> None:
    assert _person(uuid.uuid4()) is None
    with pytest.raises(Http404):
        survivor_of(uuid.uuid4())
