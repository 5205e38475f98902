"""A person's record on PostgreSQL is read in one statement (``obts.rows_once``); it must
hold what the ORM's one query per kind holds — the same rows, values and order, charges
under their cases, sentences with their cases, nothing a reader may not see."""

from dataclasses import fields
from typing import Any, get_origin

import pytest
from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings as SettingsWrapper

from ciss.models import ExchangeAttachment
from obts import rows_once
from obts.models import Charge, Person, Sentence, Warrant
from obts.selectors import PersonRecord, Visibility, _prefetch, _record, person_record
from tests.obts.factories_records import (
    CaseFactory,
    SentenceFactory,
    heavy_person,
    subject_with_every_kind_of_record,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the one read is PostgreSQL's"),
]

VISIBILITIES = [
    Visibility(),
    Visibility(criminal_history=True, registry=True),
    Visibility(criminal_history=True, juvenile=True),
    Visibility(criminal_history=True, sealed=True),
    Visibility(criminal_history=True, juvenile=True, sealed=True, registry=True),
]

# Every kind of row a record lists (merged_ids are ids, not rows).
LISTS = [f.name for f in fields(PersonRecord) if get_origin(f.type) is list]
LISTS.remove("merged_ids")


def values(record: Model) -> dict[str, Any]:
    return {field.attname: getattr(record, field.attname) for field in record._meta.concrete_fields}


def by_orm(person: Person, visibility: Visibility) -> PersonRecord:
    """The record as the portable path (one ORM query per kind) loads it."""
    fresh = Person.objects.get(pk=person.pk)
    _prefetch(fresh, visibility)
    return _record(fresh, person.public_id, visibility, [])


def assert_same(once: PersonRecord, orm: PersonRecord) -> None:
    for name in LISTS:
        read, expected = getattr(once, name), getattr(orm, name)
        assert [values(r) for r in read] == [values(r) for r in expected], name
        assert [type(r) for r in read] == [type(r) for r in expected], name
    for case, expected in zip(once.cases, orm.cases, strict=True):
        assert [values(c) for c in case.charges.all()] == [
            values(c) for c in expected.charges.all()
        ]


@pytest.mark.parametrize("visibility", VISIBILITIES, ids=repr)
def test_one_read_gives_what_the_orm_gives(visibility: Visibility) -> None:
    subject = subject_with_every_kind_of_record()
    heavy = heavy_person(cases=6)
    for person in (subject.person, heavy):
        once = person_record(person.public_id, visibility)
        assert_same(once, by_orm(person, visibility))


def test_hidden_cases_take_their_charges_and_sentences_with_them() -> None:
    subject = subject_with_every_kind_of_record()
    record = person_record(subject.person.public_id, Visibility(criminal_history=True))
    dockets = {case.docket_number for case in record.cases}
    assert "JUVENILE-0001" not in dockets
    assert "SEALED-0001" not in dockets
    statutes = {charge.statute for case in record.cases for charge in case.charges.all()}
    assert not any(statute.startswith(("JUV-", "SEALED-")) for statute in statutes)
    assert subject.sealed_sentence.pk not in {sentence.pk for sentence in record.sentences}


def test_a_sentence_without_a_case_is_kept_for_a_reader_with_hidden_cases() -> None:
    subject = subject_with_every_kind_of_record()
    loose = SentenceFactory.create(person=subject.person, case=None)
    record = person_record(subject.person.public_id, Visibility(criminal_history=True))
    kept = {sentence.pk: sentence for sentence in record.sentences}
    assert loose.pk in kept
    assert kept[loose.pk].case is None


def test_the_record_is_two_statements_and_its_relations_need_no_more(
    django_assert_num_queries: Any,
) -> None:
    person = heavy_person(cases=4)
    everything = Visibility(criminal_history=True, juvenile=True, sealed=True, registry=True)
    with django_assert_num_queries(2):  # the person, then every record
        record = person_record(person.public_id, everything)
        for case in record.cases:
            list(case.charges.all())
            assert all(charge.case is case for charge in case.charges.all())
        assert all(sentence.case in record.cases for sentence in record.sentences)
        list(record.person.names.all())
        assert all(name.person is record.person for name in record.names)


def test_ties_in_the_model_order_come_back_in_id_order() -> None:
    person = heavy_person(cases=1)
    same_day = [
        CaseFactory.create(person=person, arrest_date=None, docket_number="TIE") for _ in range(3)
    ]
    record = person_record(
        person.public_id, Visibility(criminal_history=True, juvenile=True, sealed=True)
    )
    ties = [case.pk for case in record.cases if case.docket_number == "TIE"]
    assert ties == sorted(case.pk for case in same_day)


def test_decimals_dates_and_json_come_back_as_the_orm_gives_them() -> None:
    person = heavy_person(cases=1)
    sentence = Sentence.objects.filter(person=person).first()
    assert sentence is not None
    Sentence.objects.filter(pk=sentence.pk).update(fine_amount="125.50")
    record = person_record(
        person.public_id, Visibility(criminal_history=True, juvenile=True, sealed=True)
    )
    (read,) = record.sentences
    stored = Sentence.objects.get(pk=sentence.pk)
    assert read.fine_amount == stored.fine_amount
    assert type(read.fine_amount) is type(stored.fine_amount)
    assert read.as_of == stored.as_of
    assert read.as_of.utcoffset() == stored.as_of.utcoffset()
    assert read.calculation == stored.calculation
    assert read.public_id == stored.public_id


def test_rows_read_at_once_are_loaded_instances_that_save_as_updates() -> None:
    """Built without Model.__init__, they are what the ORM loads: from the database,
    not new, comparing equal to the ORM's, saving as an update of their row."""
    person = heavy_person(cases=2)
    everything = Visibility(criminal_history=True, juvenile=True, sealed=True, registry=True)
    record = person_record(person.public_id, everything)
    charge = record.cases[0].charges.all()[0]
    assert charge._state.adding is False
    assert charge._state.db == "default"
    assert charge == Charge.objects.get(pk=charge.pk)
    before = Charge.objects.count()
    charge.description = "Amended description"
    charge.save(update_fields=["description"])
    assert Charge.objects.count() == before
    assert Charge.objects.get(pk=charge.pk).description == "Amended description"
    warrant = record.warrants[0]
    warrant.refresh_from_db()
    assert warrant.person_id == person.pk


def test_models_with_descriptors_or_instance_signals_are_built_by_the_orm() -> None:
    """A file column's descriptor wraps what is set, and a post_init listener expects to
    hear of every instance: such models go through Model.from_db."""
    assert rows_once._plain_instances(Charge)
    assert not rows_once._plain_instances(ExchangeAttachment)

    def heard(**kwargs: Any) -> None:
        return None

    post_init.connect(heard, sender=Warrant)
    try:
        assert not rows_once._plain_instances(Warrant)
    finally:
        post_init.disconnect(heard, sender=Warrant)
    assert rows_once._plain_instances(Warrant)


def test_the_statement_sent_unprepared_reads_the_same_record(settings: SettingsWrapper) -> None:
    """Behind a pooler in transaction mode (DATABASE_PREPARED_STATEMENTS=false) the one
    read is sent as a plain statement, with the same result."""
    person = subject_with_every_kind_of_record().person
    visibility = VISIBILITIES[-1]
    prepared = person_record(person.public_id, visibility)
    settings.DATABASE_PREPARED_STATEMENTS = False
    with CaptureQueriesContext(connection) as sent:
        plain = person_record(person.public_id, visibility)
    assert any(query["sql"].startswith("SELECT 0 AS kind") for query in sent.captured_queries)
    assert not any(query["sql"].startswith("EXECUTE") for query in sent.captured_queries)
    assert prepared is not None
    assert plain is not None
    assert_same(plain, prepared)
    assert_same(plain, by_orm(person, visibility))


def test_a_cached_relation_queries_as_the_related_managers_own_would() -> None:
    """The relations are left as the related managers' querysets would be: iterating
    them asks nothing, and anything more (a filter, a count of another query) is scoped
    to the owner exactly as the manager scopes it, its rows pointing back at the owner."""
    person = heavy_person(cases=3)
    heavy_person(cases=2)  # another person's cases and charges must not come back
    everything = Visibility(criminal_history=True, juvenile=True, sealed=True, registry=True)
    record = person_record(person.public_id, everything)
    stored = Person.objects.get(pk=person.pk)

    cached = record.person.cases.all()
    assert str(cached.query) == str(stored.cases.all().query)
    first = record.cases[0]
    assert str(first.charges.all().query) == str(
        first.charges.model.objects.filter(case=first).query
    )
    refetched = list(cached.filter(pk__gte=0))
    assert sorted(case.pk for case in refetched) == sorted(case.pk for case in record.cases)
    with CaptureQueriesContext(connection) as queries:
        assert all(case.person is record.person for case in refetched)
    assert not queries.captured_queries
    charges = list(first.charges.filter(pk__gte=0))
    assert {charge.pk for charge in charges} == {charge.pk for charge in first.charges.all()}
    assert all(charge.case is first for charge in charges)
