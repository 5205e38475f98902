"""obts.access and obts.selectors: who may open a record, what each claim lets through,
the timeline built from what is visible, merges, and the fixed query count."""

import uuid
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404

from obts.access import API_VISIBILITY, access_person_record, visibility_for
from obts.models import CaseStatus, Flag, PersonStatus, SupervisionKind
from obts.selectors import Visibility, person_record, person_timeline
from portal.models import Agency
from portal.models.api_clients import ApiScope
from portal.roles import Claim, Role
from tests.factories import make_api_client
from tests.obts.factories_records import (
    CaseFactory,
    ChargeFactory,
    CustodyFactory,
    PersonFactory,
    ProtectiveOrderFactory,
    RegistrationFactory,
    SupervisionFactory,
    WarrantFactory,
    cj_user,
    heavy_person,
    subject_with_every_kind_of_record,
)

pytestmark = pytest.mark.django_db

EVERYTHING = Visibility(criminal_history=True, juvenile=True, sealed=True, registry=True)
TODAY = date(2026, 3, 15)


# ---------------------------------------------------------------------------------------
# visibility_for


def test_officer_without_claims_sees_no_category(agency: Agency) -> None:
    assert visibility_for(cj_user("plain", agency)) == Visibility()


def test_history_claim_opens_criminal_history_only(agency: Agency) -> None:
    user = cj_user("historian", agency, claims=[Claim.CRIMINAL_HISTORY])
    assert visibility_for(user) == Visibility(criminal_history=True)


def test_juvenile_and_sealed_claims_need_the_history_claim_too(agency: Agency) -> None:
    user = cj_user("odd", agency, claims=[Claim.JUVENILE_RECORDS, Claim.SEALED_RECORDS])
    assert visibility_for(user) == Visibility()


def test_registry_claim_opens_registrations_on_its_own(agency: Agency) -> None:
    user = cj_user("registry", agency, claims=[Claim.SEX_OFFENDER_REGISTRY])
    assert visibility_for(user) == Visibility(registry=True)


@pytest.mark.parametrize(
    "role", [Role.HELP_DESK, Role.TRAINER, Role.AGENCY_MANAGER, Role.AGENCY_AUTHORIZER]
)
def test_roles_outside_criminal_justice_may_not_open_records(agency: Agency, role: str) -> None:
    user = cj_user("staff", agency, roles=[role], claims=[Claim.CRIMINAL_HISTORY])
    with pytest.raises(PermissionDenied):
        visibility_for(user)


def test_api_client_with_records_scope_sees_history_and_registry_but_not_juvenile_or_sealed(
    agency: Agency,
) -> None:
    client, _ = make_api_client(agency, [ApiScope.RECORDS_READ])
    assert visibility_for(client) == API_VISIBILITY
    assert Visibility(criminal_history=True, registry=True) == API_VISIBILITY


def test_api_client_without_records_scope_is_refused(agency: Agency) -> None:
    client, _ = make_api_client(agency, [ApiScope.SEARCH_READ])
    with pytest.raises(PermissionDenied):
        visibility_for(client)


# ---------------------------------------------------------------------------------------
# access_person_record


def test_unknown_person_is_404(agency: Agency) -> None:
    with pytest.raises(Http404):
        access_person_record(cj_user("plain", agency), uuid.uuid4())


def test_merge_chain_is_followed_to_the_survivor(agency: Agency) -> None:
    survivor = PersonFactory.create(name="Sam Survivor")
    middle = PersonFactory.create(merged_into=survivor)
    first = PersonFactory.create(merged_into=middle)
    view = access_person_record(cj_user("plain", agency), first.public_id)
    assert view.record.person == survivor
    assert view.record.merged_ids == [first.public_id, middle.public_id]


def test_merge_loop_is_404_not_an_endless_walk(agency: Agency) -> None:
    one = PersonFactory.create()
    two = PersonFactory.create(merged_into=one)
    one.merged_into = two
    one.save(update_fields=["merged_into"])
    with pytest.raises(Http404):
        access_person_record(cj_user("plain", agency), one.public_id)


def test_flags_and_status_ignore_a_sealed_case_the_reader_may_not_see(agency: Agency) -> None:
    person = PersonFactory.create()
    CaseFactory.create(person=person, is_sealed=True, status=CaseStatus.PENDING)
    view = access_person_record(
        cj_user("historian", agency, claims=[Claim.CRIMINAL_HISTORY]), person.public_id
    )
    assert Flag.PENDING_CASE not in view.flags
    assert view.status == PersonStatus.NO_ACTIVE_INVOLVEMENT


def test_flags_and_status_count_a_sealed_case_for_a_reader_with_the_claim(
    agency: Agency,
) -> None:
    person = PersonFactory.create()
    CaseFactory.create(person=person, is_sealed=True, status=CaseStatus.PENDING)
    user = cj_user("sealer", agency, claims=[Claim.CRIMINAL_HISTORY, Claim.SEALED_RECORDS])
    view = access_person_record(user, person.public_id)
    assert Flag.PENDING_CASE in view.flags
    assert view.status == PersonStatus.PRETRIAL


def test_flags_from_criminal_history_show_without_the_history_claim(agency: Agency) -> None:
    person = PersonFactory.create()
    SupervisionFactory.create(person=person, kind=SupervisionKind.PAROLE)
    view = access_person_record(cj_user("plain", agency), person.public_id)
    assert view.flags == [Flag.PAROLE]
    assert view.record.supervisions
    assert "supervision" not in view.shown()


def test_shown_lists_only_what_the_reader_sees(agency: Agency) -> None:
    subject = subject_with_every_kind_of_record()
    view = access_person_record(
        cj_user("historian", agency, claims=[Claim.CRIMINAL_HISTORY]), subject.person.public_id
    )
    shown = view.shown()
    assert shown["cases"] == [str(subject.adult_case.public_id)]
    assert str(subject.sealed_sentence.public_id) not in shown["sentences"]
    assert "registrations" not in shown


def test_a_reader_with_every_claim_sees_every_sentence(agency: Agency) -> None:
    # Regression: the sentence filter for such a reader once kept only sentences
    # without a case.
    subject = subject_with_every_kind_of_record()
    everything = [
        Claim.CRIMINAL_HISTORY,
        Claim.JUVENILE_RECORDS,
        Claim.SEALED_RECORDS,
        Claim.SEX_OFFENDER_REGISTRY,
    ]
    view = access_person_record(
        cj_user("everything", agency, claims=everything), subject.person.public_id
    )
    shown = set(view.shown()["sentences"])
    assert str(subject.sealed_sentence.public_id) in shown
    assert shown == {str(s.public_id) for s in subject.person.sentences.all()}
    assert len(shown) >= 2


# ---------------------------------------------------------------------------------------
# person_record queries


# The person, then on PostgreSQL every record in one statement, elsewhere one per kind.
QUERIES_EVERYTHING = 2 if connection.vendor == "postgresql" else 13
QUERIES_NO_HISTORY = 2 if connection.vendor == "postgresql" else 10


def test_heavy_record_loads_in_a_fixed_number_of_queries(django_assert_num_queries: Any) -> None:
    person = heavy_person()
    with django_assert_num_queries(QUERIES_EVERYTHING):
        record = person_record(person.public_id, EVERYTHING)
        person_timeline(record)
        [list(case.charges.all()) for case in record.cases]
        [sentence.case for sentence in record.sentences]
    assert len(record.cases) == 20
    assert sum(len(case.charges.all()) for case in record.cases) == 60
    assert len(record.sentences) == 20


def test_small_record_takes_no_more_queries_than_a_heavy_one(
    django_assert_max_num_queries: Any,
) -> None:
    person = PersonFactory.create()
    with django_assert_max_num_queries(QUERIES_EVERYTHING):
        person_timeline(person_record(person.public_id, EVERYTHING))


def test_record_without_history_skips_charges_sentences_and_infractions(
    django_assert_num_queries: Any,
) -> None:
    person = heavy_person(cases=2)
    with django_assert_num_queries(QUERIES_NO_HISTORY):
        record = person_record(person.public_id, Visibility())
    assert record.sentences == []
    assert record.infractions == []


# ---------------------------------------------------------------------------------------
# Timeline


def test_timeline_events_carry_date_kind_summary_source_and_as_of() -> None:
    person = PersonFactory.create()
    WarrantFactory.create(person=person, issued_on=date(2025, 4, 1))
    (event,) = person_timeline(person_record(person.public_id, EVERYTHING))
    assert set(event) == {"date", "kind", "summary", "source_system", "as_of"}
    assert event["kind"] == "warrant_issued"
    assert event["source_system"] == "JUD-WAR"


def test_timeline_is_oldest_first_across_sources() -> None:
    person = PersonFactory.create()
    WarrantFactory.create(person=person, issued_on=date(2025, 4, 1))
    CaseFactory.create(person=person, arrest_date=date(2024, 1, 1))
    CustodyFactory.create(person=person, admitted_on=date(2024, 6, 1), released_on=date(2024, 7, 1))
    kinds = [e["kind"] for e in person_timeline(person_record(person.public_id, EVERYTHING))]
    assert kinds == ["arrest", "custody_admitted", "custody_released", "warrant_issued"]


def test_same_day_arrest_comes_before_admission_and_arraignment() -> None:
    person = PersonFactory.create()
    day = date(2025, 1, 1)
    CustodyFactory.create(person=person, admitted_on=day, released_on=None)
    CaseFactory.create(person=person, arrest_date=day, arraignment_date=day)
    kinds = [e["kind"] for e in person_timeline(person_record(person.public_id, EVERYTHING))]
    assert kinds == ["arrest", "custody_admitted", "arraignment"]


def test_charges_disposed_the_same_day_make_one_event() -> None:
    person = PersonFactory.create()
    case = CaseFactory.create(person=person, arrest_date=None)
    for number in range(3):
        ChargeFactory.create(case=case, sequence=number + 1, disposition_date=date(2025, 3, 1))
    (event,) = person_timeline(person_record(person.public_id, EVERYTHING))
    assert event["kind"] == "charges_disposed"
    assert "3 charges disposed" in event["summary"]


def test_supervision_start_end_and_violations_are_events() -> None:
    person = PersonFactory.create()
    SupervisionFactory.create(
        person=person,
        start_date=date(2024, 1, 1),
        end_date=date(2025, 1, 1),
        status="completed",
        violations=[
            {"date": "2024-06-01", "description": "Missed appointment", "outcome": "warning"},
            {"date": "not a date", "description": "ignored"},
        ],
    )
    events = person_timeline(person_record(person.public_id, EVERYTHING))
    assert [e["kind"] for e in events] == [
        "supervision_started",
        "supervision_violation",
        "supervision_ended",
    ]
    assert "Missed appointment — warning" in events[1]["summary"]


def test_order_issue_and_expiry_are_events() -> None:
    person = PersonFactory.create()
    ProtectiveOrderFactory.create(
        person=person, issued_on=date(2025, 1, 1), expires_on=date(2026, 1, 1)
    )
    kinds = [e["kind"] for e in person_timeline(person_record(person.public_id, EVERYTHING))]
    assert kinds == ["order_issued", "order_expires"]


def test_timeline_without_history_claim_has_only_orders_and_warrants() -> None:
    subject = subject_with_every_kind_of_record()
    events = person_timeline(person_record(subject.person.public_id, Visibility()))
    assert {e["kind"] for e in events} == {"order_issued", "warrant_issued"}


def test_timeline_without_registry_claim_has_no_registration_event() -> None:
    person = PersonFactory.create()
    RegistrationFactory.create(person=person)
    assert person_timeline(person_record(person.public_id, Visibility(criminal_history=True))) == []
    events = person_timeline(person_record(person.public_id, Visibility(registry=True)))
    assert [e["kind"] for e in events] == ["registration"]


def test_timeline_has_no_event_of_a_hidden_juvenile_case() -> None:
    subject = subject_with_every_kind_of_record()
    events = person_timeline(
        person_record(subject.person.public_id, Visibility(criminal_history=True))
    )
    assert not [e for e in events if "JUVENILE" in e["summary"] or "SEALED" in e["summary"]]
    assert date(2024, 5, 5) not in {e["date"] for e in events}
