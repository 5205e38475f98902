"""``POST /api/v1/feeds/{kind}/``: upsert by (source_system, source_id), replays and
out-of-order updates, per-record results of a batch, errors as JSON, and what a record
does to the person's status and flags."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DataError, connection
from django.db.models import Model
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from obts.models import (
    Case,
    CustodyPeriod,
    Flag,
    Infraction,
    Person,
    PersonIdentifier,
    PersonStatus,
    ProtectiveOrder,
    Registration,
    Sentence,
    Supervision,
    Warrant,
)
from obts.services import feeds
from obts.services.feeds import FeedKind, Write, feed_records_upsert, register_feed_kind
from obts.services.intake import BATCH_LIMIT, Submitter
from obts.services.record_schemas import WarrantFeedSerializer
from portal.models import Agency, AuditEvent
from portal.models.api_clients import ApiScope
from tests.factories import make_api_client
from tests.obts.factories import (
    FBI_NUMBER,
    FEED_CHANGES,
    FEED_KINDS,
    SID,
    bearer,
    create_person,
    feed_body,
    feed_url,
    post_json,
)

pytestmark = pytest.mark.django_db

MODELS: dict[str, type[Model]] = {
    "cases": Case,
    "sentences": Sentence,
    "custody": CustodyPeriod,
    "supervision": Supervision,
    "protective-orders": ProtectiveOrder,
    "warrants": Warrant,
    "registrations": Registration,
    "infractions": Infraction,
}


@pytest.fixture
def key(agency: Agency) -> str:
    return make_api_client(agency, [ApiScope.FEEDS_WRITE])[1]


@pytest.fixture
def person_id(db: None) -> str:
    return create_person(fbi_number=FBI_NUMBER)


def _person(public_id: str) -> Person:
    return Person.objects.get(public_id=public_id)


def _upserts() -> int:
    return AuditEvent.objects.filter(action="obts.record.upserted").count()


# ---------------------------------------------------------------------------------------
# Create, update, replay, stale: every kind


@pytest.mark.parametrize("kind", FEED_KINDS)
def test_new_record_is_created_with_201_and_its_id(
    client: Client, key: str, person_id: str, kind: str
) -> None:
    response = post_json(client, feed_url(kind), feed_body(kind), key)
    assert response.status_code == 201, response.json()
    body = response.json()
    record = MODELS[kind]._default_manager.get()
    assert body["id"] == str(record.public_id)  # type: ignore[attr-defined]
    assert body["person"] == {"id": person_id}
    assert (body["result"], body["applied"]) == ("created", True)
    assert (body["source_system"], body["source_id"]) == ("TEST-SRC", "R-1")


@pytest.mark.parametrize("kind", FEED_KINDS)
def test_newer_record_with_a_change_updates_with_200(
    client: Client, key: str, person_id: str, kind: str
) -> None:
    post_json(client, feed_url(kind), feed_body(kind), key)
    changed = feed_body(kind, as_of="2026-01-06T12:00:00Z", **FEED_CHANGES[kind])
    response = post_json(client, feed_url(kind), changed, key)
    assert response.status_code == 200, response.json()
    assert response.json()["result"] == "updated"
    record = MODELS[kind]._default_manager.get()
    for field, value in FEED_CHANGES[kind].items():
        assert str(getattr(record, field)) == str(value)


@pytest.mark.parametrize("kind", FEED_KINDS)
def test_replayed_record_changes_nothing_and_writes_no_audit_row(
    client: Client, key: str, person_id: str, kind: str
) -> None:
    post_json(client, feed_url(kind), feed_body(kind), key)
    before = (_upserts(), MODELS[kind]._default_manager.get().received_at)  # type: ignore[attr-defined]
    response = post_json(client, feed_url(kind), feed_body(kind), key)
    assert response.status_code == 200
    assert (response.json()["result"], response.json()["applied"]) == ("unchanged", False)
    assert MODELS[kind]._default_manager.count() == 1
    after = (_upserts(), MODELS[kind]._default_manager.get().received_at)  # type: ignore[attr-defined]
    assert after == before


@pytest.mark.parametrize("kind", FEED_KINDS)
def test_older_update_is_not_applied_and_says_why(
    client: Client, key: str, person_id: str, kind: str
) -> None:
    post_json(client, feed_url(kind), feed_body(kind), key)
    older = feed_body(kind, as_of="2026-01-01T00:00:00Z", **FEED_CHANGES[kind])
    response = post_json(client, feed_url(kind), older, key)
    assert response.status_code == 200
    body = response.json()
    assert (body["result"], body["applied"]) == ("stale", False)
    assert "older" in body["reason"]
    record = MODELS[kind]._default_manager.get()
    field, value = next(iter(FEED_CHANGES[kind].items()))
    assert str(getattr(record, field)) != str(value)


def test_replay_with_a_newer_as_of_keeps_the_newer_as_of_for_later_comparisons(
    client: Client, key: str, person_id: str
) -> None:
    post_json(client, feed_url("warrants"), feed_body("warrants"), key)
    newer = feed_body("warrants", as_of="2026-02-01T00:00:00Z")
    assert post_json(client, feed_url("warrants"), newer, key).json()["result"] == "unchanged"
    between = feed_body("warrants", as_of="2026-01-20T00:00:00Z", status="vacated")
    assert post_json(client, feed_url("warrants"), between, key).json()["result"] == "stale"


def test_record_without_as_of_is_as_of_when_received(
    client: Client, key: str, person_id: str
) -> None:
    body = feed_body("warrants")
    del body["as_of"]
    post_json(client, feed_url("warrants"), body, key)
    warrant = Warrant.objects.get()
    assert warrant.as_of == warrant.received_at


def test_applied_record_writes_an_audit_row_naming_kind_source_and_result(
    client: Client, key: str, agency: Agency, person_id: str
) -> None:
    post_json(client, feed_url("warrants"), feed_body("warrants"), key)
    event = AuditEvent.objects.get(action="obts.record.upserted")
    warrant = Warrant.objects.get()
    assert event.object_id == str(warrant.public_id)
    assert event.api_client is not None
    assert event.agency == agency
    assert event.details["kind"] == "warrants"
    assert (event.details["source_system"], event.details["source_id"]) == ("TEST-SRC", "R-1")
    assert event.details["result"] == "created"


# ---------------------------------------------------------------------------------------
# Naming the person


@pytest.mark.parametrize(
    "reference", [{"sid": SID}, {"sid": "ct 123-4567"}, {"fbi_number": FBI_NUMBER}]
)
def test_record_names_its_person_by_identifier(
    client: Client, key: str, person_id: str, reference: dict[str, str]
) -> None:
    response = post_json(client, feed_url("warrants"), feed_body("warrants", person=reference), key)
    assert response.status_code == 201
    assert response.json()["person"] == {"id": person_id}


def test_record_names_its_person_by_id(client: Client, key: str, person_id: str) -> None:
    body = feed_body("warrants", person={"id": person_id})
    assert post_json(client, feed_url("warrants"), body, key).status_code == 201


def test_record_for_a_merged_person_lands_on_the_survivor(
    client: Client, key: str, person_id: str
) -> None:
    merged_id = create_person(source_id="A-2", sid="CT7654321", last_name="Other", aliases=[])
    Person.objects.filter(public_id=merged_id).update(merged_into=_person(person_id))
    body = feed_body("warrants", person={"id": merged_id})
    response = post_json(client, feed_url("warrants"), body, key)
    assert response.json()["person"] == {"id": person_id}


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ({"sid": "CT0000000"}, "No person with SID 'CT0000000'"),
        ({"id": "00000000-0000-0000-0000-000000000000"}, "No person with id"),
        ({"fbi_number": "999"}, "No person with FBI number '999'"),
    ],
)
def test_unknown_person_is_a_400_naming_the_reference(
    client: Client, key: str, person_id: str, reference: dict[str, str], message: str
) -> None:
    response = post_json(client, feed_url("warrants"), feed_body("warrants", person=reference), key)
    assert response.status_code == 400
    assert message in response.json()["person"][0]
    assert not Warrant.objects.exists()


@pytest.mark.parametrize(
    "reference", [{}, {"sid": SID, "fbi_number": FBI_NUMBER}, {"name": "Neumann"}, "CT1234567"]
)
def test_person_reference_must_name_exactly_one_identifier(
    client: Client, key: str, person_id: str, reference: Any
) -> None:
    response = post_json(client, feed_url("warrants"), feed_body("warrants", person=reference), key)
    assert response.status_code == 400
    assert "exactly one" in response.json()["person"][0]


def test_identifier_two_persons_carry_is_refused_as_ambiguous(
    client: Client, key: str, person_id: str
) -> None:
    other = create_person(
        source_system="OTHER",
        source_id="Y",
        first_name="Zed",
        last_name="Quill",
        sid="",
        dob="1950-01-01",
        aliases=[],
    )
    # Intake would have linked a second holder of the number; a data error may not.
    PersonIdentifier.objects.create(person=_person(other), kind="fbi", value=FBI_NUMBER)
    body = feed_body("warrants", person={"fbi_number": FBI_NUMBER})
    response = post_json(client, feed_url("warrants"), body, key)
    assert response.status_code == 400
    assert "2 persons" in response.json()["person"][0]


# ---------------------------------------------------------------------------------------
# Kind-specific behaviour


def test_case_charges_are_replaced_by_an_update(client: Client, key: str, person_id: str) -> None:
    post_json(client, feed_url("cases"), feed_body("cases"), key)
    update = feed_body(
        "cases",
        as_of="2026-01-06T00:00:00Z",
        charges=[
            {"statute": "53a-61", "description": "Assault 3rd", "charge_class": "misdemeanor_a"}
        ],
    )
    response = post_json(client, feed_url("cases"), update, key)
    assert response.json()["result"] == "updated"
    case = Case.objects.get()
    assert [(c.sequence, c.statute) for c in case.charges.all()] == [(1, "53a-61")]
    assert [c["statute"] for c in response.json()["charges"]] == ["53a-61"]


def test_case_with_same_charges_in_another_order_of_keys_is_unchanged(
    client: Client, key: str, person_id: str
) -> None:
    post_json(client, feed_url("cases"), feed_body("cases"), key)
    body = feed_body("cases")
    body["charges"] = [dict(reversed(list(charge.items()))) for charge in body["charges"]]
    assert post_json(client, feed_url("cases"), body, key).json()["result"] == "unchanged"


def test_sentence_dates_are_computed_on_intake(client: Client, key: str, person_id: str) -> None:
    response = post_json(client, feed_url("sentences"), feed_body("sentences"), key)
    body = response.json()
    assert body["starts_on"] == "2025-03-01"
    assert body["max_release_on"] == "2026-02-28"
    assert body["calculation"]


def test_consecutive_sentence_names_the_one_it_follows_in_the_same_batch(
    client: Client, key: str, person_id: str
) -> None:
    first = feed_body("sentences", "S-1")
    second = feed_body(
        "sentences", "S-2", consecutive_to={"source_id": "S-1"}, incarceration_days=30
    )
    response = post_json(client, feed_url("sentences"), [first, second], key)
    assert [r["status"] for r in response.json()] == ["created", "created"]
    follower = Sentence.objects.get(source_id="S-2")
    assert follower.consecutive_to == Sentence.objects.get(source_id="S-1")
    assert follower.relation == "consecutive"
    assert str(follower.starts_on) == "2026-03-01"


def test_sentence_on_an_unknown_case_is_refused(client: Client, key: str, person_id: str) -> None:
    body = feed_body("sentences", case={"source_id": "NO-SUCH-CASE"})
    response = post_json(client, feed_url("sentences"), body, key)
    assert response.status_code == 400
    assert "No case" in response.json()["case"][0]


def test_sentence_links_its_case_by_source_id(client: Client, key: str, person_id: str) -> None:
    post_json(client, feed_url("cases"), feed_body("cases", "C-1"), key)
    body = feed_body("sentences", case={"source_id": "C-1"})
    response = post_json(client, feed_url("sentences"), body, key)
    assert response.json()["case"]["source_id"] == "C-1"
    assert Sentence.objects.get().case == Case.objects.get()


def test_consecutive_relation_without_the_sentence_it_follows_is_refused(
    client: Client, key: str, person_id: str
) -> None:
    body = feed_body("sentences", relation="consecutive")
    response = post_json(client, feed_url("sentences"), body, key)
    assert response.status_code == 400
    assert "consecutive_to" in response.json()


def test_supervision_violations_are_stored_as_sent(
    client: Client, key: str, person_id: str
) -> None:
    post_json(client, feed_url("supervision"), feed_body("supervision"), key)
    assert Supervision.objects.get().violations == [
        {"date": "2025-09-01", "description": "Missed a report", "outcome": ""}
    ]


# ---------------------------------------------------------------------------------------
# Status and flags


def test_active_warrant_makes_the_person_wanted(client: Client, key: str, person_id: str) -> None:
    post_json(client, feed_url("warrants"), feed_body("warrants"), key)
    assert Flag.WANTED in _person(person_id).flags


def test_served_warrant_removes_wanted(client: Client, key: str, person_id: str) -> None:
    post_json(client, feed_url("warrants"), feed_body("warrants"), key)
    served = feed_body(
        "warrants", as_of="2026-01-07T00:00:00Z", status="served", served_on="2026-01-06"
    )
    post_json(client, feed_url("warrants"), served, key)
    assert Flag.WANTED not in _person(person_id).flags


def test_open_custody_makes_the_person_incarcerated_pretrial(
    client: Client, key: str, person_id: str
) -> None:
    post_json(client, feed_url("custody"), feed_body("custody"), key)
    assert _person(person_id).status == PersonStatus.INCARCERATED_PRETRIAL


def test_record_moved_to_another_person_recomputes_both(
    client: Client, key: str, person_id: str
) -> None:
    other = create_person(source_id="B-1", sid="CT7654321", first_name="Zed", last_name="Quill")
    post_json(client, feed_url("warrants"), feed_body("warrants"), key)
    moved = feed_body("warrants", as_of="2026-01-06T00:00:00Z", person={"id": other})
    post_json(client, feed_url("warrants"), moved, key)
    assert Flag.WANTED not in _person(person_id).flags
    assert Flag.WANTED in _person(other).flags


# ---------------------------------------------------------------------------------------
# Validation


def test_enum_error_lists_the_allowed_values(client: Client, key: str, person_id: str) -> None:
    body = feed_body("warrants", status="outstanding")
    response = post_json(client, feed_url("warrants"), body, key)
    assert response.status_code == 400
    message = response.json()["status"][0]
    assert '"outstanding"' in message
    assert "active, served, vacated" in message


def test_enum_value_is_accepted_in_any_case(client: Client, key: str, person_id: str) -> None:
    response = post_json(client, feed_url("warrants"), feed_body("warrants", status="ACTIVE"), key)
    assert response.json()["status"] == "active"


@pytest.mark.parametrize("bad", ["2026-02-30", "01/04/2026", "", 20260104])
def test_bad_date_is_a_field_error(client: Client, key: str, person_id: str, bad: Any) -> None:
    response = post_json(client, feed_url("warrants"), feed_body("warrants", issued_on=bad), key)
    assert response.status_code == 400
    assert "issued_on" in response.json()


def test_date_before_the_date_it_follows_is_refused(
    client: Client, key: str, person_id: str
) -> None:
    body = feed_body("custody", admitted_on="2026-01-05", released_on="2026-01-01")
    response = post_json(client, feed_url("custody"), body, key)
    assert response.status_code == 400
    assert "released_on" in response.json()


def test_as_of_far_in_the_future_is_refused(client: Client, key: str, person_id: str) -> None:
    body = feed_body("warrants", as_of="2999-01-01T00:00:00Z")
    response = post_json(client, feed_url("warrants"), body, key)
    assert response.status_code == 400
    assert "as_of" in response.json()


def test_missing_required_fields_are_listed_field_by_field(client: Client, key: str) -> None:
    response = post_json(client, feed_url("warrants"), {}, key)
    assert response.status_code == 400
    assert set(response.json()) == {"source_system", "source_id", "person", "kind", "issued_on"}


@pytest.mark.parametrize("text", ["A\u0000B", "\ud800"])
def test_text_the_database_cannot_store_is_a_field_error(
    client: Client, key: str, person_id: str, text: str
) -> None:
    body = json.dumps(feed_body("warrants", offense=text))
    response = client.post(
        feed_url("warrants"), body, content_type="application/json", headers=bearer(key)
    )
    assert response.status_code == 400
    assert "offense" in response.json()


def test_number_beyond_the_database_range_is_a_field_error(
    client: Client, key: str, person_id: str
) -> None:
    body = feed_body("sentences", incarceration_days=10**12)
    response = post_json(client, feed_url("sentences"), body, key)
    assert response.status_code == 400
    assert "incarceration_days" in response.json()


# ---------------------------------------------------------------------------------------
# Batches


def test_batch_answers_per_record_results_in_order_and_keeps_the_good_ones(
    client: Client, key: str, person_id: str
) -> None:
    batch = [
        feed_body("warrants", "W-1"),
        feed_body("warrants", "W-2", issued_on="not a date"),
        feed_body("warrants", "W-3", person={"sid": "CT0000000"}),
        feed_body("warrants", "W-4"),
    ]
    response = post_json(client, feed_url("warrants"), batch, key)
    assert response.status_code == 200
    results = response.json()
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [r["status"] for r in results] == ["created", "error", "error", "created"]
    assert "issued_on" in results[1]["errors"]
    assert "person" in results[2]["errors"]
    assert results[1]["id"] is None
    stored = {str(w.public_id): w.source_id for w in Warrant.objects.all()}
    assert stored == {results[0]["id"]: "W-1", results[3]["id"]: "W-4"}


def test_replayed_batch_is_all_unchanged(client: Client, key: str, person_id: str) -> None:
    batch = [feed_body("warrants", f"W-{n}") for n in range(3)]
    post_json(client, feed_url("warrants"), batch, key)
    response = post_json(client, feed_url("warrants"), batch, key)
    assert [r["status"] for r in response.json()] == ["unchanged"] * 3


def test_batch_with_the_same_record_twice_applies_the_newer(
    client: Client, key: str, person_id: str
) -> None:
    newer = feed_body("warrants", as_of="2026-01-07T00:00:00Z", status="served")
    older = feed_body("warrants", as_of="2026-01-06T00:00:00Z")
    response = post_json(client, feed_url("warrants"), [newer, older], key)
    assert [r["status"] for r in response.json()] == ["created", "stale"]
    assert Warrant.objects.get().status == "served"


def test_batch_entry_that_is_not_an_object_is_a_per_record_error(
    client: Client, key: str, person_id: str
) -> None:
    response = post_json(client, feed_url("warrants"), [feed_body("warrants"), 42], key)
    assert [r["status"] for r in response.json()] == ["created", "error"]


def test_batch_of_more_than_the_limit_is_refused_with_413(
    client: Client, key: str, person_id: str
) -> None:
    batch = [feed_body("warrants", f"W-{n}") for n in range(BATCH_LIMIT + 1)]
    response = post_json(client, feed_url("warrants"), batch, key)
    assert response.status_code == 413
    assert "1,000" in response.json()["detail"]
    assert not Warrant.objects.exists()


def test_empty_batch_answers_an_empty_list(client: Client, key: str) -> None:
    response = post_json(client, feed_url("warrants"), [], key)
    assert (response.status_code, response.json()) == (200, [])


def test_batch_of_new_records_takes_a_fixed_number_of_queries(
    client: Client,
    key: str,
    person_id: str,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    post_json(client, feed_url("warrants"), [feed_body("warrants", "W-0")], key)  # warm up
    batch = [feed_body("warrants", f"W-{n}") for n in range(1, 301)]
    # Authentication, persons, stored records, the insert (SQLite splits it in a few),
    # status facts and update, one audit row: nothing per record.
    with django_assert_max_num_queries(35):
        post_json(client, feed_url("warrants"), batch, key)


def test_batch_of_updates_takes_one_update_on_postgresql_one_per_record_elsewhere(
    client: Client,
    key: str,
    person_id: str,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    batch = [feed_body("warrants", f"W-{n}") for n in range(100)]
    post_json(client, feed_url("warrants"), batch, key)
    served = [
        feed_body("warrants", f"W-{n}", as_of="2026-01-06T00:00:00Z", status="served")
        for n in range(100)
    ]
    per_record = 0 if connection.vendor == "postgresql" else len(served)
    with django_assert_max_num_queries(per_record + 30):
        response = post_json(client, feed_url("warrants"), served, key)
    assert [r["status"] for r in response.json()] == ["updated"] * 100
    assert set(Warrant.objects.values_list("status", flat=True)) == {"served"}


def test_batch_writes_one_audit_row_listing_the_applied_records(
    client: Client, key: str, person_id: str
) -> None:
    post_json(client, feed_url("warrants"), [feed_body("warrants", "W-1")], key)
    batch = [
        feed_body("warrants", "W-1"),  # unchanged: not listed
        feed_body("warrants", "W-2"),
        feed_body("warrants", "W-3", person={"sid": "CT0000000"}),  # rejected: not listed
        feed_body("warrants", "W-4"),
    ]
    results = post_json(client, feed_url("warrants"), batch, key).json()
    event = AuditEvent.objects.get(action="obts.records.upserted")
    assert event.object_type == "obts.warrant"
    assert (event.details["kind"], event.details["created"]) == ("warrants", 2)
    assert [r["id"] for r in event.details["records"]] == [results[1]["id"], results[3]["id"]]
    assert event.details["records"][0]["source_id"] == "W-2"


class _PickyKind(FeedKind):
    """Warrants whose database refuses any record with source id BAD."""

    name = "picky"
    model = Warrant
    serializer_class = WarrantFeedSerializer

    def write_many(self, writes: list[Write]) -> list[Any]:
        if any(write.key[1] == "BAD" for write in writes):
            raise DataError("refused")
        return super().write_many(writes)


def test_record_the_database_refuses_leaves_the_others_of_the_batch_stored(
    person_id: str,
) -> None:
    batch = [feed_body("warrants", f"W-{n}") for n in range(3)]
    batch.insert(1, feed_body("warrants", "BAD"))
    results = feed_records_upsert(_PickyKind(), batch, submitter=Submitter(command="test"))
    assert [r.outcome for r in results] == ["created", "error", "created", "created"]
    assert "refused" in results[1].errors["non_field_errors"][0]
    assert set(Warrant.objects.values_list("source_id", flat=True)) == {"W-0", "W-1", "W-2"}


# ---------------------------------------------------------------------------------------
# The request itself


def test_request_without_key_gets_401(client: Client) -> None:
    response = client.post(feed_url("warrants"), {}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_key_without_feeds_scope_gets_403(client: Client, agency: Agency) -> None:
    _, key = make_api_client(agency, [ApiScope.MNI_WRITE, ApiScope.RECORDS_READ])
    response = post_json(client, feed_url("warrants"), feed_body("warrants"), key)
    assert response.status_code == 403
    assert "feeds:write" in response.json()["detail"]


def test_malformed_json_gets_400_json(client: Client, key: str) -> None:
    response = client.post(
        feed_url("warrants"), "{not json", content_type="application/json", headers=bearer(key)
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_body_that_is_not_json_gets_415(client: Client, key: str, content_type: str) -> None:
    response = client.post(
        feed_url("warrants"), "a=b", content_type=content_type, headers=bearer(key)
    )
    assert response.status_code == 415
    assert response.json()["detail"]


def test_multipart_body_gets_415(client: Client, key: str) -> None:
    response = client.post(feed_url("warrants"), {"a": "b"}, headers=bearer(key))
    assert response.status_code == 415


@pytest.mark.parametrize("body", ["a string", 12, None])
def test_body_that_is_neither_object_nor_list_gets_400(client: Client, key: str, body: Any) -> None:
    response = client.post(
        feed_url("warrants"), json.dumps(body), content_type="application/json", headers=bearer(key)
    )
    assert response.status_code == 400
    assert "JSON object" in response.json()["non_field_errors"][0]


def test_unknown_kind_gets_404_listing_the_known_kinds(client: Client, key: str) -> None:
    response = post_json(client, feed_url("parking-tickets"), {}, key)
    assert response.status_code == 404
    assert set(FEED_KINDS) <= set(response.json()["kinds"])


def test_get_is_not_allowed(client: Client, key: str) -> None:
    response = client.get(feed_url("warrants"), headers=bearer(key))
    assert response.status_code == 405


# ---------------------------------------------------------------------------------------
# The registry: another app adds its kinds


class _NoticeKind(FeedKind):
    """A kind another app could register (here reusing the warrant model)."""

    name = "notices"
    model = Warrant
    serializer_class = WarrantFeedSerializer


@pytest.fixture
def notices_kind() -> Iterator[None]:
    register_feed_kind(_NoticeKind())
    yield
    feeds._KINDS.pop("notices")


@pytest.mark.usefixtures("notices_kind")
def test_kind_registered_by_another_app_is_accepted(
    client: Client, key: str, person_id: str
) -> None:
    response = post_json(client, feed_url("notices"), feed_body("warrants"), key)
    assert response.status_code == 201
    assert "notices" in post_json(client, feed_url("nope"), {}, key).json()["kinds"]
