"""``update_rows``: a batch's updated records stored in one statement on PostgreSQL, every
value as a saved field would store it."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model

from obts.models import Case, Supervision
from obts.services.feeds import update_rows
from tests.obts.factories_records import CaseFactory, PersonFactory, SupervisionFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the one UPDATE is PostgreSQL's"),
]


def values(record: Model) -> dict[str, Any]:
    return {field.attname: getattr(record, field.attname) for field in record._meta.concrete_fields}


def test_every_kind_of_value_is_stored_as_save_would(django_assert_num_queries: Any) -> None:
    person, other = PersonFactory.create(), PersonFactory.create()
    cases = [CaseFactory.create(person=person, docket_number=f"D-{n}") for n in range(3)]
    cases[0].bail_amount = Decimal("2500.50")
    cases[0].next_court_date = None
    cases[1].release_conditions = 'No contact with O\'Brien & "Co"; -- not SQL'
    cases[1].is_sealed = True
    cases[2].person_id = other.pk
    cases[2].arrest_date = date(2024, 2, 29)
    for case in cases:
        case.as_of = datetime(2026, 1, 6, 12, 30, tzinfo=UTC)
    names = ["bail_amount", "next_court_date", "release_conditions", "is_sealed", "person_id"]
    names += ["arrest_date", "as_of"]
    with django_assert_num_queries(1):
        update_rows(Case, cases, names)
    for case in cases:
        assert values(Case.objects.get(pk=case.pk)) == values(case)


def test_json_and_empty_values_survive(django_assert_num_queries: Any) -> None:
    rows = [SupervisionFactory.create() for _ in range(2)]
    rows[0].violations = [{"date": "2026-01-02", "description": "Missed curfew", "n": 1.5}]
    rows[1].violations = []
    rows[1].officer_name = ""
    with django_assert_num_queries(1):
        update_rows(Supervision, rows, ["violations", "officer_name"])
    assert Supervision.objects.get(pk=rows[0].pk).violations == rows[0].violations
    assert Supervision.objects.get(pk=rows[1].pk).violations == []
    assert Supervision.objects.get(pk=rows[1].pk).officer_name == ""


def test_nothing_to_update_is_no_statement(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        update_rows(Case, [], ["status"])


def test_a_relation_is_not_a_column() -> None:
    case = CaseFactory.create()
    with pytest.raises(ValueError, match="columns"):
        update_rows(Case, [case], ["charges"])
