"""``GET /api/v1/persons/{id}``: shape as CONTRACT §3, what API clients see, errors,
audit, the OpenAPI schema and the query count."""

import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test import Client
from django.urls import reverse

from obts.access import RECORD_VIEWED, access_person_record
from obts.api.persons_read import PersonRecordSerializer
from obts.models import Person
from portal.models import Agency, ApiClient, AuditEvent
from portal.models.api_clients import ApiScope
from tests.factories import make_api_client
from tests.obts.factories_records import (
    PersonFactory,
    Subject,
    SupervisionFactory,
    heavy_person,
    subject_with_every_kind_of_record,
)

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

TOP_LEVEL_KEYS = {
    "id",
    "names",
    "identifiers",
    "addresses",
    "cases",
    "sentences",
    "custody",
    "supervision",
    "protective_orders",
    "warrants",
    "registrations",
    "flags",
    "status",
    "timeline",
}


@pytest.fixture
def subject() -> Subject:
    return subject_with_every_kind_of_record()


@pytest.fixture
def records_client(agency: Agency) -> tuple[ApiClient, str]:
    return make_api_client(agency, [ApiScope.RECORDS_READ])


@pytest.fixture
def key(records_client: tuple[ApiClient, str]) -> str:
    return records_client[1]


def url(person: Person | uuid.UUID) -> str:
    public_id = person.public_id if isinstance(person, Person) else person
    return reverse("api-person", kwargs={"public_id": public_id})


def get(client: Client, person: Person | uuid.UUID, key: str, **params: str) -> "Response":
    return client.get(url(person), params, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def body(client: Client, subject: Subject, key: str) -> dict[str, Any]:
    response = get(client, subject.person, key)
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def test_path_is_the_contracts() -> None:
    public_id = uuid.uuid4()
    assert url(public_id) == f"/api/v1/persons/{public_id}"


# ---------------------------------------------------------------------------------------
# Errors


def test_request_without_key_is_401_json(client: Client, subject: Subject) -> None:
    response = client.get(url(subject.person))
    assert response.status_code == 401
    assert response.json()["detail"]


def test_key_without_records_scope_is_403(client: Client, agency: Agency, subject: Subject) -> None:
    _, search_key = make_api_client(agency, [ApiScope.SEARCH_READ], name="Search only")
    response = get(client, subject.person, search_key)
    assert response.status_code == 403
    assert "records:read" in response.json()["detail"]


def test_unknown_person_is_404_json(client: Client, key: str) -> None:
    response = get(client, uuid.uuid4(), key)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_unknown_purpose_is_400_naming_the_field(
    client: Client, subject: Subject, key: str
) -> None:
    response = get(client, subject.person, key, purpose="curiosity")
    assert response.status_code == 400
    assert "purpose" in response.json()


def test_post_is_not_allowed(client: Client, subject: Subject, key: str) -> None:
    response = client.post(url(subject.person), {}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 405


# ---------------------------------------------------------------------------------------
# Shape


def test_record_has_every_part_the_contract_names(body: dict[str, Any]) -> None:
    assert set(body) >= TOP_LEVEL_KEYS


def test_record_id_is_the_person_public_id(body: dict[str, Any], subject: Subject) -> None:
    assert body["id"] == str(subject.person.public_id)


def test_names_include_aliases_with_their_dates_of_birth(body: dict[str, Any]) -> None:
    names = {(n["first_name"], n["last_name"], n["dob"], n["is_primary"]) for n in body["names"]}
    assert ("Casey", "Subject", "1985-11-11", True) in names
    assert ("KC", "Subjekt", "1990-02-03", False) in names


def test_identifiers_and_addresses_are_listed(body: dict[str, Any]) -> None:
    assert {"kind": "sid", "value": "CT5550001", "state": ""} in body["identifiers"]
    assert body["addresses"][0]["line1"] == "8 Stanley St"


def test_cases_carry_charges_with_dispositions(body: dict[str, Any]) -> None:
    (case,) = body["cases"]
    assert case["docket_number"] == "ADULT-0001"
    (charge,) = case["charges"]
    assert charge["statute"] == "53a-125b"
    assert charge["disposition"] == "Guilty"
    assert charge["disposition_date"] == "2025-03-01"


def test_sentences_carry_computed_dates_and_the_calculation(
    body: dict[str, Any], subject: Subject
) -> None:
    (sentence,) = body["sentences"]
    assert sentence["case_id"] == str(subject.adult_case.public_id)
    assert sentence["starts_on"] == "2025-03-01"
    assert sentence["max_release_on"] == "2027-01-15"
    assert sentence["supervision_ends_on"] == "2029-01-15"
    assert "Jail credit 45 days → 686 days" in sentence["calculation"]


def test_flags_and_status_are_given(body: dict[str, Any]) -> None:
    assert body["flags"][0] == "wanted"
    assert "sex_offender" in body["flags"]
    assert body["status"] == "on_probation"


def test_timeline_items_have_the_contract_keys_oldest_first(body: dict[str, Any]) -> None:
    timeline = body["timeline"]
    assert timeline
    assert all(set(item) == {"date", "kind", "summary", "source_system"} for item in timeline)
    dates = [item["date"] for item in timeline]
    assert dates == sorted(dates)


def test_other_record_kinds_are_listed(body: dict[str, Any]) -> None:
    assert body["custody"][0]["facility"] == "Hartford Correctional Center"
    assert body["supervision"][0]["kind"] == "probation"
    assert body["protective_orders"][0]["protected_party"] == "J. Protected"
    assert body["warrants"][0]["warrant_number"] == "W-0001"
    assert body["registrations"][0]["term"] == "10 years"
    assert body["infractions"][0]["ticket_number"] == "CIB00000001"


def test_records_carry_their_provenance(body: dict[str, Any]) -> None:
    warrant = body["warrants"][0]
    assert warrant["source_system"] == "JUD-WAR"
    assert warrant["source_id"]
    assert warrant["as_of"].startswith("2026-01-05T")


# ---------------------------------------------------------------------------------------
# What API clients see


def test_juvenile_and_sealed_cases_are_never_served(body: dict[str, Any]) -> None:
    text = str(body)
    for hidden in ("JUVENILE-0001", "SEALED-0001", "SEALED-53a-2", "2023-06-01", "2024-05-05"):
        assert hidden not in text


def test_merged_person_answers_with_the_survivor(
    client: Client, subject: Subject, key: str
) -> None:
    merged = PersonFactory.create(merged_into=subject.person)
    response = get(client, merged, key)
    assert response.status_code == 200
    assert response.json()["id"] == str(subject.person.public_id)


# ---------------------------------------------------------------------------------------
# Audit


def test_read_is_audited_with_the_client_and_records_served(
    client: Client, subject: Subject, records_client: tuple[ApiClient, str]
) -> None:
    api_client, key = records_client
    get(client, subject.person, key, purpose="court_proceeding")
    event = AuditEvent.objects.get(action=RECORD_VIEWED)
    assert event.api_client == api_client
    assert event.actor is None
    assert event.object_id == str(subject.person.public_id)
    assert event.details["purpose"] == "court_proceeding"
    assert event.details["records"]["cases"] == [str(subject.adult_case.public_id)]
    assert event.details["records"]["registrations"] == [str(subject.registration.public_id)]


def test_read_without_purpose_is_audited_as_not_stated(
    client: Client, subject: Subject, key: str
) -> None:
    get(client, subject.person, key)
    assert AuditEvent.objects.get(action=RECORD_VIEWED).details["purpose"] == "not stated"


def test_refused_read_writes_no_viewed_row(client: Client, agency: Agency) -> None:
    _, search_key = make_api_client(agency, [ApiScope.SEARCH_READ], name="Search only")
    get(client, uuid.uuid4(), search_key)
    assert not AuditEvent.objects.filter(action=RECORD_VIEWED).exists()


# ---------------------------------------------------------------------------------------
# Schema and queries


def test_schema_documents_the_endpoint_and_its_response(client: Client) -> None:
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/persons/{public_id}"]["get"]
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert response["$ref"].endswith("/PersonRecord")
    assert set(schema["components"]["schemas"]["PersonRecord"]["properties"]) >= TOP_LEVEL_KEYS
    assert {"401", "403", "404"} <= set(operation["responses"])


def test_heavy_person_is_served_in_a_fixed_number_of_queries(
    client: Client, key: str, django_assert_max_num_queries: Any
) -> None:
    person = heavy_person()
    # 1 for the key, the rest for the audit row, and for the record: on PostgreSQL 2
    # (the person, then every record in one statement) and 1 for the record cache's
    # fingerprint, elsewhere 13 (one per record kind).
    with django_assert_max_num_queries(12 if connection.vendor == "postgresql" else 24):
        response = get(client, person, key)
    assert response.status_code == 200
    assert len(response.json()["cases"]) == 20


def test_the_record_served_is_what_the_documented_serializer_gives(
    client: Client, records_client: tuple[ApiClient, str]
) -> None:
    api_client, key = records_client
    # The view builds the answer with portal.api.plain; the serializer documents it.
    person = heavy_person()
    SupervisionFactory.create(person=person, violations=[{"date": "2024-01-01"}, "not a dict"])
    served = get(client, person, key).json()
    view = access_person_record(api_client, person.public_id)
    documented = json.loads(json.dumps(PersonRecordSerializer(view).data, cls=DjangoJSONEncoder))
    assert served == documented
    assert len(served["cases"]) == 20
    assert served["sentences"][0]["calculation"]


def test_violations_as_sent_by_the_source_are_served_with_every_key(
    client: Client, key: str
) -> None:
    person = PersonFactory.create()
    SupervisionFactory.create(person=person, violations=[{"date": "2024-01-01"}, "not a dict"])
    response = get(client, person, key)
    assert response.status_code == 200
    assert response.json()["supervision"][0]["violations"] == [
        {"date": "2024-01-01", "description": "", "outcome": ""}
    ]
