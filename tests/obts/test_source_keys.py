"""Stored records found by their (source system, source id) keys, as every intake looks
them up before writing: exactly the rows with one of the pairs, whatever other systems
hold, on either database."""

import pytest
from django.db import transaction

from obts.models import Case
from obts.services.intake import source_keys_condition, stored_source_exists
from tests.obts.factories_records import CaseFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _cases() -> dict[tuple[str, str], Case]:
    person = PersonFactory.create()
    pairs = [("JUD-CRIM", "A-1"), ("JUD-CRIM", "A-2"), ("RMS CT0006400", "A-1"), ("DOC", "B-7")]
    return {
        (system, source_id): CaseFactory.create(
            person=person, source_system=system, source_id=source_id
        )
        for system, source_id in pairs
    }


def _found(keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    return {
        (case.source_system, case.source_id)
        for case in Case.objects.filter(source_keys_condition(Case, keys))
    }


def test_only_the_named_pairs_are_found_across_systems() -> None:
    _cases()
    keys = [("JUD-CRIM", "A-1"), ("RMS CT0006400", "A-1"), ("DOC", "A-2"), ("DOC", "B-7")]
    # ("DOC", "A-2") pairs one system's name with another system's id: not a stored key.
    assert _found(keys) == {("JUD-CRIM", "A-1"), ("RMS CT0006400", "A-1"), ("DOC", "B-7")}


def test_keys_nobody_stored_find_nothing() -> None:
    _cases()
    keys = [("JUD-CRIM", "A-9"), ("NEW-SYSTEM", "A-1")]
    assert _found(keys) == set()
    assert stored_source_exists(Case, keys) is False


def test_one_stored_key_among_new_ones_is_enough_to_exist() -> None:
    _cases()
    assert stored_source_exists(Case, [("NEW-SYSTEM", "X"), ("DOC", "B-7")]) is True


def test_the_condition_composes_with_a_locking_read() -> None:
    cases = _cases()
    keys = [("JUD-CRIM", "A-2"), ("DOC", "B-7")]
    locked = Case.objects.select_for_update(of=("self",)).filter(source_keys_condition(Case, keys))

    with transaction.atomic():
        assert sorted(case.pk for case in locked) == sorted(cases[key].pk for key in keys)
