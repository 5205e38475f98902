"""The records a status refresh reads: on PostgreSQL in one statement, which must give the
same records, with the same values in the same order, as one ORM query per kind."""

from typing import Any

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from obts.models import CaseStatus, WarrantStatus
from obts.services.status_refresh import RECORD_MODELS, _by_person, records_by_person
from tests.obts.factories_records import CaseFactory, PersonFactory, WarrantFactory, heavy_person

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the one read is PostgreSQL's"),
]


def values(record: Model) -> dict[str, Any]:
    return {field.attname: getattr(record, field.attname) for field in record._meta.concrete_fields}


def order_keys(model: type[Model], records: list[Any]) -> list[tuple[Any, ...]]:
    names = [name.lstrip("-") for name in model._meta.ordering or [] if isinstance(name, str)]
    return [tuple(getattr(record, name) for name in names) for record in records]


def test_one_read_gives_what_one_query_per_kind_gives() -> None:
    heavy = heavy_person()
    other = PersonFactory.create(name="Ola Other")
    CaseFactory.create(person=other, status=CaseStatus.PENDING)
    WarrantFactory.create(person=other, status=WarrantStatus.ACTIVE)
    pks = [heavy.pk, other.pk]

    once = records_by_person(pks)
    for model in RECORD_MODELS:
        by_query = _by_person(model, pks)
        assert set(once[model]) == set(by_query), model
        for pk, records in by_query.items():
            read = once[model][pk]
            assert all(type(record) is model for record in read)
            assert sorted(map(values, read), key=lambda v: v["id"]) == sorted(
                map(values, records), key=lambda v: v["id"]
            ), model
            assert order_keys(model, read) == order_keys(model, records), model
    assert len(once[RECORD_MODELS[0]][heavy.pk]) == 20


def test_the_records_of_many_persons_are_one_statement() -> None:
    people = [heavy_person(cases=2), PersonFactory.create(name="Ola Other")]
    with CaptureQueriesContext(connection) as queries:
        records_by_person([person.pk for person in people])
    assert len(queries) == 1
