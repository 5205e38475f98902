"""Trigram candidates: names misspelled beyond what the name keys catch are still found on
PostgreSQL when the record has no date of birth; SQLite keeps to the keys."""

from datetime import date

import pytest
from django.db import connection

from obts.matching import name_keys, query_keys
from obts.models import PersonName
from obts.services.matching import NameQuery, find_person, trigram_name_ids
from tests.obts.factories_records import PersonFactory

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_trgm is a PostgreSQL index"
)

# Two misspellings in the surname and one in the given name: no blocking key in common.
STORED = ("Jonathan", "Wojciechowski")
WRITTEN = ("Jonathon", "Wojciehowsky")


def test_the_example_is_one_the_keys_miss() -> None:
    first, last = STORED
    assert not name_keys(first, "", last, None) & query_keys(*WRITTEN, None)


def test_every_name_carries_its_search_form() -> None:
    person = PersonFactory.create(name="Maria Rodriguez-Lopez")
    name = PersonName.objects.get(person=person)
    assert name.search_name == "RODRIGUEZ-LOPEZ MARIA"


@postgres_only
def test_trigram_search_finds_the_misspelled_name() -> None:
    person = PersonFactory.create(name=" ".join(STORED))
    PersonFactory.create(name="Maria Rodriguez")
    ids = trigram_name_ids(*WRITTEN)
    assert ids
    assert PersonName.objects.get(pk=ids[0]).person_id == person.pk
    assert not PersonName.objects.filter(pk__in=ids, last_name="Rodriguez").exists()


def test_trigram_search_needs_postgresql_and_three_letters() -> None:
    PersonFactory.create(name=" ".join(STORED))
    assert trigram_name_ids("J", "W") == []
    if connection.vendor != "postgresql":
        assert trigram_name_ids(*WRITTEN) == []


@postgres_only
def test_intake_without_a_date_of_birth_offers_the_trigram_candidate() -> None:
    person = PersonFactory.create(name=" ".join(STORED))
    first, last = WRITTEN
    match = find_person(names=[NameQuery(first, "", last, "", None)])
    found = {match.person_id} | {pk for pk, _, _ in match.possible}
    assert person.pk in found


def test_intake_with_a_date_of_birth_keeps_to_the_keys() -> None:
    # A date of birth nowhere near the stored one, and names the keys do not connect:
    # another person, not a candidate.
    PersonFactory.create(name=" ".join(STORED), name__dob=date(1985, 11, 11))
    first, last = WRITTEN
    match = find_person(names=[NameQuery(first, "", last, "", date(1962, 4, 30))])
    assert match.person_id is None
    assert match.possible == []
