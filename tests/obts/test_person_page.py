"""The person record page: who reaches it, the purpose asked first, what each claim
shows, the audit row, and the query count for a heavy person."""

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from obts.access import RECORD_ROLES, RECORD_VIEWED, Purpose
from obts.models import CaseStatus, Person
from portal.models import Agency, AuditEvent, User
from portal.roles import Claim, Role
from tests.obts.factories_records import (
    CaseFactory,
    PersonFactory,
    SentenceFactory,
    Subject,
    cj_user,
    heavy_person,
    subject_with_every_kind_of_record,
)

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

SignIn = Callable[[User], Client]
HISTORY = [Claim.CRIMINAL_HISTORY]


@pytest.fixture
def subject() -> Subject:
    return subject_with_every_kind_of_record()


def page_url(person: Person | uuid.UUID, purpose: str | None = Purpose.TRAFFIC_STOP) -> str:
    public_id = person.public_id if isinstance(person, Person) else person
    url = reverse("obts:person", kwargs={"public_id": public_id})
    return f"{url}?purpose={purpose}" if purpose is not None else url


def open_page(
    signed_in: SignIn, user: User, person: Person, purpose: str | None = Purpose.TRAFFIC_STOP
) -> "Response":
    return signed_in(user).get(page_url(person, purpose))


def text(response: "Response") -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------------------
# Who reaches it


def test_anonymous_visitor_is_sent_to_sign_in(client: Client, subject: Subject) -> None:
    response = client.get(page_url(subject.person))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_outsider_without_a_role_gets_403(
    signed_in: SignIn, outsider: User, subject: Subject
) -> None:
    response = open_page(signed_in, outsider, subject.person)
    assert response.status_code == 403
    assert "Casey" not in text(response)


@pytest.mark.parametrize(
    "role", [Role.HELP_DESK, Role.TRAINER, Role.AGENCY_MANAGER, Role.AGENCY_AUTHORIZER]
)
def test_role_without_criminal_justice_duties_gets_403(
    signed_in: SignIn, agency: Agency, subject: Subject, role: str
) -> None:
    user = cj_user("staff", agency, roles=[role], claims=HISTORY)
    assert open_page(signed_in, user, subject.person).status_code == 403


def test_agency_manager_who_is_also_an_officer_opens_the_record(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    user = cj_user("manager", agency, roles=[Role.AGENCY_MANAGER, Role.OFFICER])
    assert open_page(signed_in, user, subject.person).status_code == 200


@pytest.mark.parametrize("role", RECORD_ROLES)
def test_every_criminal_justice_role_opens_the_record(
    signed_in: SignIn, agency: Agency, subject: Subject, role: str
) -> None:
    user = cj_user(f"user-{role}", agency, roles=[role])
    response = open_page(signed_in, user, subject.person)
    assert response.status_code == 200
    assert "Casey Subject" in text(response)


def test_post_is_not_allowed(signed_in: SignIn, officer: User, subject: Subject) -> None:
    response = signed_in(officer).post(page_url(subject.person))
    assert response.status_code == 405


def test_unknown_person_is_404(signed_in: SignIn, officer: User) -> None:
    response = signed_in(officer).get(page_url(uuid.uuid4()))
    assert response.status_code == 404


# ---------------------------------------------------------------------------------------
# Purpose first


def test_without_purpose_the_page_asks_for_it_and_shows_nothing(
    signed_in: SignIn, officer: User, subject: Subject
) -> None:
    response = open_page(signed_in, officer, subject.person, purpose=None)
    assert response.status_code == 200
    assert '<label class="usa-label" for="id_purpose">Purpose of this look-up' in text(response)
    assert "Casey" not in text(response)
    assert "CT5550001" not in text(response)


def test_without_purpose_nothing_is_audited_as_viewed(
    signed_in: SignIn, officer: User, subject: Subject
) -> None:
    open_page(signed_in, officer, subject.person, purpose=None)
    assert not AuditEvent.objects.filter(action=RECORD_VIEWED).exists()


def test_unknown_purpose_is_refused_with_the_form_again(
    signed_in: SignIn, officer: User, subject: Subject
) -> None:
    response = open_page(signed_in, officer, subject.person, purpose="curiosity")
    assert response.status_code == 400
    assert "usa-error-message" in text(response)
    assert "Casey" not in text(response)


def test_purpose_form_offers_every_purpose(signed_in: SignIn, officer: User) -> None:
    response = signed_in(officer).get(page_url(uuid.uuid4(), purpose=None))
    for purpose in Purpose:
        assert f'value="{purpose.value}"' in text(response)


# ---------------------------------------------------------------------------------------
# What each claim shows


def test_officer_without_history_claim_sees_identifying_data(
    signed_in: SignIn, officer: User, subject: Subject
) -> None:
    page = text(open_page(signed_in, officer, subject.person))
    for expected in ("Casey Subject", "KC Subjekt", "1990-02-03", "CT5550001", "8 Stanley St"):
        assert expected in page
    assert "5 ft 6 in" in page
    assert "History of violence against police" in page


def test_officer_without_history_claim_sees_flags_with_wanted_first(
    signed_in: SignIn, officer: User, subject: Subject
) -> None:
    page = text(open_page(signed_in, officer, subject.person))
    assert 'data-flag="wanted"' in page
    assert page.index('data-flag="wanted"') < page.index('data-flag="officer_caution"')
    assert 'data-flag="sex_offender"' in page


def test_officer_without_history_claim_does_not_see_cases(
    signed_in: SignIn, officer: User, subject: Subject
) -> None:
    page = text(open_page(signed_in, officer, subject.person))
    assert "ADULT-0001" not in page
    assert "53a-125b" not in page
    assert "Hartford Correctional Center" not in page
    assert "Dana Officer" not in page


def test_officer_without_history_claim_is_told_which_claim_is_needed(
    signed_in: SignIn, officer: User, subject: Subject
) -> None:
    page = text(open_page(signed_in, officer, subject.person))
    assert f"need the “{Claim.CRIMINAL_HISTORY.label}” claim" in page


def test_officer_without_history_claim_still_sees_warrants_and_orders(
    signed_in: SignIn, officer: User, subject: Subject
) -> None:
    page = text(open_page(signed_in, officer, subject.person))
    assert "W-0001" in page
    assert "J. Protected" in page


def test_officer_with_history_claim_sees_cases_and_charges(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    user = cj_user("historian", agency, claims=HISTORY)
    page = text(open_page(signed_in, user, subject.person))
    assert "ADULT-0001" in page
    assert "53a-125b" in page
    assert "Hartford Correctional Center" in page


def test_officer_with_history_claim_does_not_see_juvenile_or_sealed_cases(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    user = cj_user("historian", agency, claims=HISTORY)
    page = text(open_page(signed_in, user, subject.person))
    for hidden in ("JUVENILE-0001", "JUV-53a-1", "SEALED-0001", "SEALED-53a-2", "2023-06-01"):
        assert hidden not in page


def test_hidden_cases_are_not_counted_anywhere(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    user = cj_user("historian", agency, claims=HISTORY)
    response = open_page(signed_in, user, subject.person)
    view = response.context["view"]
    assert [case.docket_number for case in view.record.cases] == ["ADULT-0001"]
    assert len(view.sentences) == 1
    assert not [event for event in view.timeline if "SEALED" in event["summary"]]
    assert "2023-04-04" not in text(response)


def test_juvenile_claim_shows_juvenile_cases_but_not_sealed_ones(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    user = cj_user("juvenile", agency, claims=[*HISTORY, Claim.JUVENILE_RECORDS])
    page = text(open_page(signed_in, user, subject.person))
    assert "JUVENILE-0001" in page
    assert "SEALED-0001" not in page


def test_sealed_claim_shows_sealed_cases_and_their_sentences(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    user = cj_user("sealed", agency, claims=[*HISTORY, Claim.SEALED_RECORDS])
    page = text(open_page(signed_in, user, subject.person))
    assert "SEALED-0001" in page
    assert "Sentence imposed 2023-06-01" in page


def test_juvenile_claim_without_history_claim_shows_no_cases(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    user = cj_user("juvenile-only", agency, claims=[Claim.JUVENILE_RECORDS])
    assert "JUVENILE-0001" not in text(open_page(signed_in, user, subject.person))


def test_pending_juvenile_case_does_not_show_through_the_flags(
    signed_in: SignIn, agency: Agency
) -> None:
    person = PersonFactory.create()
    CaseFactory.create(person=person, is_juvenile=True, status=CaseStatus.PENDING)
    user = cj_user("historian", agency, claims=HISTORY)
    page = text(open_page(signed_in, user, person))
    assert 'data-flag="pending_case"' not in page
    assert 'data-status="no_active_involvement"' in page


def test_registration_details_need_the_registry_claim(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    user = cj_user("historian", agency, claims=HISTORY)
    page = text(open_page(signed_in, user, subject.person))
    assert "10 years" not in page
    assert f"need the “{Claim.SEX_OFFENDER_REGISTRY.label}” claim" in page


def test_registry_claim_shows_registration_details(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    user = cj_user("registry", agency, claims=[Claim.SEX_OFFENDER_REGISTRY])
    page = text(open_page(signed_in, user, subject.person))
    assert "10 years" in page
    assert "Compliant" in page


# ---------------------------------------------------------------------------------------
# Sentences, timeline, merges


def test_sentence_shows_its_dates_and_the_calculation_steps(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    user = cj_user("historian", agency, claims=HISTORY)
    page = text(open_page(signed_in, user, subject.person))
    assert "2027-03-01" not in page
    assert "Jail credit 45 days → 686 days" in page
    assert "Maximum release date 2027-01-15" in page
    assert "supervision ends 2029-01-15" in page


def test_step_naming_a_sealed_sentence_is_reduced_for_readers_without_the_claim(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    follower = SentenceFactory.create(
        person=subject.person,
        imposed_on=subject.sealed_sentence.imposed_on,
        incarceration_days=10,
        relation="consecutive",
        consecutive_to=subject.sealed_sentence,
    )
    from obts.timecalc import person_sentences_recalculate

    person_sentences_recalculate(subject.person)
    follower.refresh_from_db()
    user = cj_user("historian", agency, claims=HISTORY)
    page = text(open_page(signed_in, user, subject.person))
    assert "Consecutive to another sentence not shown to you → starts 2023-09-09" in page
    assert "SEALED-0001" not in page


def test_timeline_lists_events_oldest_first(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    user = cj_user("historian", agency, claims=HISTORY)
    timeline = open_page(signed_in, user, subject.person).context["view"].timeline
    dates = [event["date"] for event in timeline]
    assert dates == sorted(dates)
    assert {"arrest", "sentence_imposed", "custody_admitted", "warrant_issued"} <= {
        event["kind"] for event in timeline
    }


def test_merged_person_shows_the_survivor(
    signed_in: SignIn, officer: User, subject: Subject
) -> None:
    merged = PersonFactory.create(name="Old Record", merged_into=subject.person)
    response = open_page(signed_in, officer, merged)
    assert response.status_code == 200
    assert "Casey Subject" in text(response)
    assert "was merged into this one" in text(response)


# ---------------------------------------------------------------------------------------
# Audit


def test_view_writes_an_audit_row_with_purpose_and_records_shown(
    signed_in: SignIn, agency: Agency, subject: Subject
) -> None:
    user = cj_user("historian", agency, claims=HISTORY)
    open_page(signed_in, user, subject.person, purpose=Purpose.CRIMINAL_INVESTIGATION)
    event = AuditEvent.objects.get(action=RECORD_VIEWED)
    assert event.actor == user
    assert event.agency == agency
    assert event.object_id == str(subject.person.public_id)
    assert event.details["purpose"] == Purpose.CRIMINAL_INVESTIGATION
    records = event.details["records"]
    assert records["cases"] == [str(subject.adult_case.public_id)]
    assert records["sentences"] == [str(subject.adult_sentence.public_id)]
    assert records["warrants"] == [str(subject.warrant.public_id)]


def test_audit_row_lists_no_records_the_reader_was_not_shown(
    signed_in: SignIn, officer: User, subject: Subject
) -> None:
    open_page(signed_in, officer, subject.person)
    records = AuditEvent.objects.get(action=RECORD_VIEWED).details["records"]
    assert set(records) == {"protective_orders", "warrants"}


# ---------------------------------------------------------------------------------------
# Queries


def test_heavy_person_page_runs_a_fixed_number_of_queries(
    signed_in: SignIn, agency: Agency, django_assert_max_num_queries: Any
) -> None:
    person = heavy_person()
    user = cj_user(
        "everything",
        agency,
        claims=[
            Claim.CRIMINAL_HISTORY,
            Claim.JUVENILE_RECORDS,
            Claim.SEALED_RECORDS,
            Claim.SEX_OFFENDER_REGISTRY,
        ],
    )
    client = signed_in(user)
    # 4 to authenticate (session, user with their agency, MFA device, roles and claims
    # together), 1 for the header's unread-inbox count, the audit row, and for the record:
    # on PostgreSQL 2 (the person, then every record in one statement) and 1 for the record
    # cache's fingerprint, elsewhere 13 (one per record kind).
    with django_assert_max_num_queries(15 if connection.vendor == "postgresql" else 24):
        response = client.get(page_url(person))
    assert response.status_code == 200
    assert len(response.context["view"].record.cases) == 20
