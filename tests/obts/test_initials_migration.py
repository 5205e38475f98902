"""Migration 0010 gives every stored name row its date-and-initials key with the initials
in alphabetical order, and takes it back when reversed."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection

from obts.matching import key_hashes, name_keys
from obts.matching.keys import key_hash
from obts.models import NameKey, PersonName
from tests.obts.factories import create_person

pytestmark = pytest.mark.django_db

migration = importlib.import_module("obts.migrations.0010_order_free_initials")
EDITOR = SimpleNamespace(connection=connection)


def _stored(name: PersonName) -> list[int]:
    return sorted(NameKey.objects.filter(name=name).values_list("key", flat=True))


def _expected(name: PersonName) -> list[int]:
    return key_hashes(name_keys(name.first_name, name.middle_name, name.last_name, name.dob))


def test_rows_keyed_in_name_order_get_alphabetical_initials_and_back() -> None:
    create_person(source_id="A-1", first_name="William", last_name="Johnson", sid="", aliases=[])
    create_person(source_id="A-2", first_name="Ann", last_name="Zola", sid="", aliases=[])
    create_person(source_id="A-3", first_name="Lee", last_name="Ng", dob=None, sid="", aliases=[])
    names = list(PersonName.objects.order_by("pk"))
    assert all(_stored(name) == _expected(name) for name in names)

    migration.backward(django_apps, EDITOR)
    william = PersonName.objects.get(first_name="William")
    assert william.dob is not None
    ymd = william.dob.strftime("%Y%m%d")
    assert key_hash(f"DI:{ymd}:WJ") in _stored(william)
    assert key_hash(f"DI:{ymd}:JW") not in _stored(william)
    ann = PersonName.objects.get(first_name="Ann")  # AZ either way: untouched
    assert _stored(ann) == _expected(ann)

    migration.forward(django_apps, EDITOR)
    assert all(_stored(name) == _expected(name) for name in names)
    # Run again (a database whose keys were already rebuilt with the new rule): no change.
    migration.forward(django_apps, EDITOR)
    assert all(_stored(name) == _expected(name) for name in names)
