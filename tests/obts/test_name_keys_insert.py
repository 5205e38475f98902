"""``insert_name_keys`` writes a name's keys in one statement; what it stores is what
the matcher looks up, and a key stored twice is refused as the model's would be."""

from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from obts.matching import key_hashes, name_keys
from obts.models import NameKey, PersonName
from obts.services.persons import insert_name_keys
from tests.obts.factories_records import PersonFactory

pytestmark = pytest.mark.django_db


def a_name() -> PersonName:
    person = PersonFactory.create()
    return PersonName.objects.create(
        person=person, first_name="Ada", last_name="Quist", dob=date(1990, 4, 5)
    )


def test_the_keys_stored_are_the_rows_given(django_assert_num_queries: Any) -> None:
    name = a_name()
    NameKey.objects.filter(name=name).delete()
    keys = key_hashes(name_keys("Ada", "", "Quist", date(1990, 4, 5)))
    with django_assert_num_queries(1):
        insert_name_keys([name.pk] * len(keys), keys)
    assert sorted(NameKey.objects.filter(name=name).values_list("key", flat=True)) == keys
    assert len(keys) > 10


def test_a_key_stored_twice_is_refused() -> None:
    name = a_name()
    NameKey.objects.filter(name=name).delete()
    insert_name_keys([name.pk], [42])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_name_keys([name.pk, name.pk], [7, 42])
    assert list(NameKey.objects.filter(name=name).values_list("key", flat=True)) == [42]


def test_nothing_to_store_is_no_statement(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        insert_name_keys([], [])
