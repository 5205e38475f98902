"""``POST /api/v1/exchanges/`` and ``GET /api/v1/exchanges/{id}``: the contract's answer,
idempotency, the sending agency, field errors, and what intake records in OBTS."""

from collections.abc import Iterable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ciss.exchanges import intake
from ciss.models import Delivery, DeliveryStatus, Exchange, ExchangeStatus
from obts.models import Case, CustodyPeriod, Flag, Infraction, Person, PersonStatus
from obts.selectors import Visibility, person_record, person_timeline
from obts.services.intake import Submitter
from obts.services.persons import persons_upsert
from obts.services.status_refresh import persons_refresh
from portal.models import AgencyKind, AuditEvent
from portal.models.api_clients import ApiScope
from portal.roles import Claim, Role
from tests.ciss.exchange_factories import Court, court_setup, notice, schedule, submit
from tests.factories import AgencyFactory, UserFactory, make_api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def court() -> Court:
    return court_setup()


def recipients(exchange_id: str) -> set[str]:
    return set(
        Delivery.objects.filter(exchange__public_id=exchange_id).values_list(
            "recipient__username", flat=True
        )
    )


def test_notice_is_accepted_with_the_contract_answer(client: Client, court: Court) -> None:
    answer = submit(client, court.key, notice())

    assert answer.status_code == 202
    body = answer.json()
    assert set(body) == {"id", "status", "person_id", "deliveries"}
    assert body["status"] == "accepted"
    assert sorted(d["recipient_agency"] for d in body["deliveries"]) == [
        "CT015011A",
        "CT015013J",
        "CT015013J",
    ]
    assert answer.headers["Location"].endswith(body["id"])


def test_notice_reaches_the_courts_clerks_and_the_states_attorney(
    client: Client, court: Court
) -> None:
    body = submit(client, court.key, notice()).json()

    assert recipients(body["id"]) == {"clerk", "clerk2", "prosecutor"}
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert Exchange.objects.get().status == ExchangeStatus.DELIVERED


def test_clerk_without_the_notice_claim_receives_nothing(client: Client, court: Court) -> None:
    submit(client, court.key, notice())

    assert not Delivery.objects.filter(recipient=court.clerk_without_claim).exists()


def test_notice_records_the_person_case_and_charges(client: Client, court: Court) -> None:
    body = submit(client, court.key, notice()).json()

    person = Person.objects.get(public_id=body["person_id"])
    case = Case.objects.get(person=person)
    assert case.incident_number == "2026-000123"
    assert case.docket_number == ""
    assert case.court_code == "GA14"
    assert case.arresting_agency_ori == "CT0006400"
    assert case.arrest_date == date(2026, 11, 20)
    assert case.arraignment_date == date(2026, 11, 21)
    [charge] = case.charges.all()
    assert (charge.statute, charge.charge_class, charge.counts) == ("53a-125b", "misdemeanor_c", 1)
    record = person_record(person.public_id, Visibility(criminal_history=True))
    summaries = [event["summary"] for event in person_timeline(record)]
    assert any(s.startswith("Arrested by CT0006400, incident 2026-000123") for s in summaries)


def test_notice_leaves_the_persons_status_and_flags_computed(client: Client, court: Court) -> None:
    body = submit(client, court.key, notice()).json()
    person = Person.objects.get(public_id=body["person_id"])
    assert person.status == PersonStatus.PRETRIAL
    assert Flag.PENDING_CASE in person.flags
    assert person.status_computed_at is not None
    assert person.restricted_views == {}


def test_a_notice_whose_case_changed_nothing_still_refreshes_the_person(
    client: Client, court: Court, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The status refresh is left to the case upsert; one that wrote nothing did not do it.
    record_case = intake._record_case
    monkeypatch.setattr(
        intake, "_record_case", lambda *args, **kwargs: (record_case(*args, **kwargs)[0], False)
    )
    refreshed: list[set[int]] = []

    def refresh(pks: Iterable[int], **kwargs: Any) -> None:
        refreshed.append(set(pks))
        persons_refresh(pks, **kwargs)

    monkeypatch.setattr(intake, "persons_refresh", refresh)
    body = submit(client, court.key, notice()).json()
    person = Person.objects.get(public_id=body["person_id"])
    assert refreshed == [{person.pk}]
    assert person.status_computed_at is not None


def test_subject_with_a_known_sid_is_linked_to_that_person(client: Client, court: Court) -> None:
    [known] = persons_upsert(
        [
            {
                "source_system": "DPS-MNI",
                "source_id": "A-1",
                "last_name": "Neumann",
                "sid": "CT1234567",
            }
        ],
        submitter=Submitter(command="test"),
    )
    subject = {**notice()["subject"], "sid": "CT1234567", "first_name": "Mickey"}

    body = submit(client, court.key, notice(subject=subject)).json()

    assert body["person_id"] == known.public_id()


def test_replay_answers_the_first_answer_and_creates_nothing(client: Client, court: Court) -> None:
    first = submit(client, court.key, notice(), idempotency_key="rms-123")
    again = submit(client, court.key, notice(), idempotency_key="rms-123")

    assert again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Exchange.objects.count() == 1
    assert Delivery.objects.count() == 3


def test_replay_with_keys_in_another_order_is_the_same_body(client: Client, court: Court) -> None:
    first = submit(client, court.key, notice(), idempotency_key="rms-123")
    reordered = dict(reversed(list(notice().items())))

    again = submit(client, court.key, reordered, idempotency_key="rms-123")

    assert again.json()["id"] == first.json()["id"]


def test_same_key_with_another_body_is_a_conflict(client: Client, court: Court) -> None:
    first = submit(client, court.key, notice(), idempotency_key="rms-123")

    other = submit(
        client, court.key, notice(incident_number="2026-000999"), idempotency_key="rms-123"
    )

    assert other.status_code == 409
    assert other.json()["id"] == first.json()["id"]
    assert "different exchange" in other.json()["detail"]
    assert Exchange.objects.count() == 1


def test_same_key_with_an_invalid_body_is_still_a_conflict(client: Client, court: Court) -> None:
    first = submit(client, court.key, notice(), idempotency_key="rms-123")

    other = submit(client, court.key, notice(occurred_at="yesterday"), idempotency_key="rms-123")

    # The key names another exchange: that is what the sender must learn first.
    assert other.status_code == 409
    assert other.json()["id"] == first.json()["id"]


def test_a_replay_is_answered_even_if_its_body_no_longer_passes(
    client: Client, court: Court, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = submit(client, court.key, notice(), idempotency_key="rms-123")
    # The schema tightened since the first request (a new release): the key still answers.
    monkeypatch.setattr(intake, "validate_exchange", lambda payload: {"narrative": ["Too long."]})

    again = submit(client, court.key, notice(), idempotency_key="rms-123")

    assert again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_same_key_from_another_agency_is_a_new_exchange(client: Client, court: Court) -> None:
    other_police = AgencyFactory.create(ori="CT0009300", name="New Haven Police Department")
    _, other_key = make_api_client(other_police, [ApiScope.EXCHANGES_SUBMIT])
    submit(client, court.key, notice(), idempotency_key="shared-key")

    answer = submit(client, other_key, notice(agency_ori="CT0009300"), idempotency_key="shared-key")

    assert answer.status_code == 202
    assert Exchange.objects.count() == 2


def test_missing_idempotency_key_is_refused(client: Client, court: Court) -> None:
    answer = submit(client, court.key, notice(), idempotency_key=None)

    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["detail"]
    assert not Exchange.objects.exists()


def test_overlong_idempotency_key_is_refused(client: Client, court: Court) -> None:
    answer = submit(client, court.key, notice(), idempotency_key="k" * 256)

    assert answer.status_code == 400


def test_another_agencys_ori_is_forbidden(client: Client, court: Court) -> None:
    answer = submit(client, court.key, notice(agency_ori="CT0009300"))

    assert answer.status_code == 403
    assert "CT0009300" in answer.json()["detail"]
    assert not Exchange.objects.exists()
    assert not Person.objects.exists()


def test_field_errors_name_each_element(client: Client, court: Court) -> None:
    payload = notice(occurred_at="2026-11-20 14:03", charges=[{"description": "no statute"}])
    payload["subject"] = {**payload["subject"], "dob": "1985-02-30", "sex": "Q"}

    answer = submit(client, court.key, payload)

    assert answer.status_code == 400
    errors = answer.json()
    assert errors["subject.dob"] == ["Must be a real date as YYYY-MM-DD."]
    assert errors["subject.sex"] == ["Must be one of 'M', 'F', 'U'."]
    assert errors["charges.0.statute"] == ["This field is required."]
    assert "UTC offset" in errors["occurred_at"][0]
    assert not Exchange.objects.exists()
    assert not Person.objects.exists()


def test_unknown_type_lists_the_types(client: Client, court: Court) -> None:
    answer = submit(client, court.key, notice(type="arrest_warrant"))

    assert answer.status_code == 400
    assert "early_arrest_notice" in answer.json()["type"][0]


def test_unknown_field_is_named(client: Client, court: Court) -> None:
    answer = submit(client, court.key, notice(arest_date="2026-11-20"))

    assert answer.json() == {"arest_date": ["Unknown field."]}


def test_a_list_body_is_refused(client: Client, court: Court) -> None:
    answer = submit(client, court.key, [notice()])

    assert answer.status_code == 400
    assert answer.json() == {"non_field_errors": ["Send the exchange as one JSON object."]}


def test_invalid_body_with_a_key_can_be_fixed_and_sent_again(client: Client, court: Court) -> None:
    submit(client, court.key, notice(charges=[]), idempotency_key="fix-me")

    answer = submit(client, court.key, notice(), idempotency_key="fix-me")

    assert answer.status_code == 202


def test_arraignment_before_the_arrest_is_refused(client: Client, court: Court) -> None:
    answer = submit(client, court.key, notice(arraignment_date="2026-11-19"))

    assert answer.json() == {"arraignment_date": ["Is before the date the exchange took place."]}


def test_text_body_is_unsupported_media_type(client: Client, court: Court) -> None:
    answer = client.post(
        reverse("api-exchanges"),
        "type=early_arrest_notice",
        content_type="text/plain",
        headers={"Authorization": f"Bearer {court.key}", "Idempotency-Key": "x"},
    )

    assert answer.status_code == 415


def test_malformed_json_is_a_clear_400(client: Client, court: Court) -> None:
    answer = client.post(
        reverse("api-exchanges"),
        '{"type": "early_arrest_notice",',
        content_type="application/json",
        headers={"Authorization": f"Bearer {court.key}", "Idempotency-Key": "x"},
    )

    assert answer.status_code == 400
    assert "JSON" in answer.json()["detail"]


def test_client_without_the_scope_is_forbidden(client: Client, court: Court) -> None:
    _, search_key = make_api_client(court.police, [ApiScope.SEARCH_READ], name="Search only")

    assert submit(client, search_key, notice()).status_code == 403


def test_no_key_is_unauthorized(client: Client, court: Court) -> None:
    answer = client.post(reverse("api-exchanges"), notice(), content_type="application/json")

    assert answer.status_code == 401


def test_intake_is_audited(client: Client, court: Court) -> None:
    body = submit(client, court.key, notice()).json()

    event = AuditEvent.objects.get(action="ciss.exchange.received")
    assert event.object_id == body["id"]
    assert event.agency == court.police
    assert event.details["recipients"] == 3
    assert event.details["person"] == body["person_id"]


def test_exchange_nobody_receives_is_marked_so(client: Client, court: Court) -> None:
    answer = submit(client, court.key, notice(court={"code": "GA99"}))

    assert answer.json()["status"] == "no_recipients"
    assert answer.json()["deliveries"] == []


def test_summons_needs_its_appearance_date(client: Client, court: Court) -> None:
    payload = notice(type="misdemeanor_summons")
    del payload["arraignment_date"]

    answer = submit(client, court.key, payload)

    assert answer.json() == {"arraignment_date": ["This field is required."]}


def test_summons_goes_to_the_courts_clerks_only(client: Client, court: Court) -> None:
    body = submit(client, court.key, notice(type="misdemeanor_summons")).json()

    assert recipients(body["id"]) == {"clerk", "clerk2"}


def test_infraction_goes_to_the_central_infractions_bureau(client: Client, court: Court) -> None:
    bureau_clerk = UserFactory.create(
        username="cib", agency__ori="CTCIB0000", roles=[Role.COURT_CLERK]
    )
    charges = [
        {
            "statute": "14-219",
            "description": "Speeding",
            "severity": "infraction",
            "fine_amount": 150,
        }
    ]
    payload = notice(type="infraction", incident_number="T-778812", charges=charges)
    del payload["court"], payload["arraignment_date"]

    body = submit(client, court.key, payload).json()

    assert recipients(body["id"]) == {bureau_clerk.username}
    infraction = Infraction.objects.get()
    assert (infraction.ticket_number, infraction.statute, str(infraction.amount)) == (
        "T-778812",
        "14-219",
        "150.00",
    )


@pytest.fixture
def court_key(court: Court) -> str:
    return make_api_client(court.court, [ApiScope.EXCHANGES_SUBMIT], name="Court system")[1]


def test_schedule_notification_sets_the_court_date_and_docket(
    client: Client, court: Court, court_key: str
) -> None:
    submit(client, court.key, notice())

    answer = submit(client, court_key, schedule())

    assert answer.status_code == 202
    case = Case.objects.get()
    assert case.docket_number == "H14H-CR26-0123456"
    assert case.next_court_date == date(2026, 12, 4)
    assert answer.json()["person_id"] == str(case.person.public_id)


def test_schedule_notification_goes_to_the_arresting_agency_and_custody(
    client: Client, court: Court, court_key: str
) -> None:
    officer = UserFactory.create(username="arresting", agency=court.police, roles=[Role.OFFICER])
    jailer = UserFactory.create(
        username="doc",
        agency__ori="CTDOC0000",
        agency__kind=AgencyKind.CORRECTIONS,
        roles=[Role.CORRECTIONS],
        claims=[Claim.RECEIVE_ARREST_NOTICES],
    )
    person = Person.objects.get(public_id=submit(client, court.key, notice()).json()["person_id"])

    free = submit(client, court_key, schedule()).json()
    CustodyPeriod.objects.create(
        person=person,
        facility="Hartford Correctional Center",
        custody_status="pretrial",
        admitted_on=date(2026, 11, 20),
        source_system="DOC",
        source_id="HCC-1",
        as_of="2026-11-20T18:00:00Z",
    )
    held = submit(client, court_key, schedule(court_date="2026-12-18")).json()

    assert recipients(free["id"]) == {officer.username}
    assert recipients(held["id"]) == {officer.username, jailer.username}


def test_schedule_notification_needs_a_docket_or_incident(client: Client, court_key: str) -> None:
    payload = schedule()
    del payload["docket_number"], payload["incident_number"]

    answer = submit(client, court_key, payload)

    assert answer.json() == {"docket_number": ["Give the docket number or the incident number."]}


def test_sender_reads_each_recipients_delivery_state(client: Client, court: Court) -> None:
    body = submit(client, court.key, notice()).json()

    answer = client.get(
        reverse("api-exchange", args=[body["id"]]), headers={"Authorization": f"Bearer {court.key}"}
    )

    assert answer.status_code == 200
    detail = answer.json()
    assert detail["status"] == "delivered"
    assert [(d["recipient_agency"], d["status"]) for d in detail["deliveries"]] == [
        ("CT015011A", "delivered"),
        ("CT015013J", "delivered"),
        ("CT015013J", "delivered"),
    ]
    assert all(d["delivered_at"] for d in detail["deliveries"])


def test_another_agency_cannot_read_the_exchange(client: Client, court: Court) -> None:
    body = submit(client, court.key, notice()).json()
    other = AgencyFactory.create(ori="CT0009300", name="New Haven Police Department")
    _, other_key = make_api_client(other, [ApiScope.EXCHANGES_SUBMIT])

    answer = client.get(
        reverse("api-exchange", args=[body["id"]]), headers={"Authorization": f"Bearer {other_key}"}
    )

    assert answer.status_code == 404


def test_schemas_are_published_with_niem_names(client: Client, court: Court) -> None:
    answer = client.get(
        reverse("api-exchange-schemas"), headers={"Authorization": f"Bearer {court.key}"}
    )

    schemas = answer.json()
    assert set(schemas) == {
        "early_arrest_notice",
        "arrest_packet",
        "misdemeanor_summons",
        "infraction",
        "court_schedule_notification",
    }
    subject = schemas["early_arrest_notice"]["properties"]["subject"]
    assert subject["properties"]["last_name"]["x-niem"] == "nc:PersonSurName"


def test_intake_appends_one_audit_row_naming_what_it_recorded(client: Client, court: Court) -> None:
    body = submit(client, court.key, notice()).json()

    intake_rows = AuditEvent.objects.exclude(action="ciss.exchange.delivered")
    [event] = intake_rows
    case = Case.objects.get()
    assert event.action == "ciss.exchange.received"
    assert event.details["case"] == str(case.public_id)
    assert event.details["records"] == [
        {"kind": "person", "id": body["person_id"], "result": "created", "match": {"rule": "none"}},
        {"kind": "cases", "id": str(case.public_id), "result": "recorded"},
    ]
