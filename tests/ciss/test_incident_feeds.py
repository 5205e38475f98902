"""The ``incidents`` and ``property`` feeds: incident reports upserted with the places,
people and vehicles they name (the lists sent replace those stored), property linked to
its incident whichever arrives first, clear per-field errors for bad input (never a 500),
and person merges that carry the CISS rows along."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ciss import demo
from ciss.models import (
    Incident,
    IncidentPerson,
    IncidentRole,
    IncidentVehicle,
    Location,
    PropertyItem,
    PropertyStatus,
    Vehicle,
)
from obts import demo as obts_demo
from obts.merging import person_merge, person_merge_undo
from obts.models import Address, Person, PersonName
from portal.models import Agency, AuditEvent, User
from portal.models.api_clients import ApiScope
from portal.roles import Role
from tests.factories import make_api_client
from tests.obts.factories import SID, create_person, feed_url, post_json
from tests.obts.factories_records import cj_user

pytestmark = pytest.mark.django_db

OTHER_SID = "CT7654321"


@pytest.fixture
def key(agency: Agency) -> str:
    return make_api_client(agency, [ApiScope.FEEDS_WRITE])[1]


def incident(source_id: str = "RMS-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source_system": "HPD-RMS",
        "source_id": source_id,
        "as_of": "2026-11-20T15:00:00Z",
        "incident_number": "2026-000123",
        "agency_ori": "ct0006400",
        "kind": "Burglary",
        "occurred_at": "2026-11-20T02:10:00-05:00",
        "reported_at": "2026-11-20T07:45:00-05:00",
        "location": {
            "line1": "12 North Main Street",
            "line2": "Apartment 3",
            "city": "Hartford",
            "state": "ct",
            "postal_code": "06105",
        },
        "location_text": "",
        "summary": "Rear door forced; television and a handgun taken.",
        "docket_number": "",
        "status": "open",
        "people": [
            {"person": {"sid": SID}, "role": "suspect"},
            {"name": "Dana Whitfield", "dob": "1971-04-02", "role": "victim"},
        ],
        "vehicles": [{"plate": "abc-1234", "plate_state": "ct", "role": "suspect"}],
    }
    body.update(overrides)
    return body


def property_item(source_id: str = "PROP-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source_system": "HPD-RMS",
        "source_id": source_id,
        "as_of": "2026-11-20T16:00:00Z",
        "category": "firearm",
        "serial_number": "bxr-4471 9",
        "make": "Glock",
        "model": "19",
        "caliber": "9mm",
        "description": "Black semi-automatic pistol",
        "status": "stolen",
        "status_date": "2026-11-20",
        "agency_ori": "CT0006400",
        "incident_number": "2026-000123",
        "owner_name": "Dana Whitfield",
    }
    body.update(overrides)
    return body


def register_vehicle(client: Client, key: str, plate: str = "ABC1234") -> Vehicle:
    body = {
        "source_system": "DMV-REG",
        "source_id": f"DMV-{plate}",
        "owner_name": "Harbor Car Rentals LLC",
        "plate": plate,
        "plate_state": "CT",
    }
    assert post_json(client, feed_url("vehicles"), body, key).status_code == 201
    return Vehicle.objects.get(plate=plate)


def people_of(stored: Incident) -> list[tuple[str, str, str]]:
    return [
        (row.role, row.name, str(row.person.public_id) if row.person else "")
        for row in stored.people.order_by("pk").select_related("person")
    ]


# Incidents --------------------------------------------------------------------------


def test_an_incident_is_stored_with_its_place_people_and_vehicles(client: Client, key: str) -> None:
    person_id = create_person()
    vehicle = register_vehicle(client, key)
    response = post_json(client, feed_url("incidents"), incident(), key)
    assert response.status_code == 201, response.json()
    stored = Incident.objects.get()
    assert (stored.agency_ori, stored.incident_number, stored.kind) == (
        "CT0006400",
        "2026-000123",
        "Burglary",
    )
    assert stored.location is not None
    assert stored.location.key == "12 N MAIN ST APT 3, HARTFORD, CT"
    assert (stored.location.street_number, stored.location.unit) == ("12", "APT 3")
    assert people_of(stored) == [("suspect", "", person_id), ("victim", "Dana Whitfield", "")]
    (linked,) = stored.vehicles.all()
    assert (linked.plate, linked.plate_state, linked.vehicle) == ("ABC1234", "CT", vehicle)
    answer = response.json()
    assert answer["location"]["line1"] == "12 N MAIN ST"
    assert answer["people"][0]["person"] == {"id": person_id}
    assert answer["vehicles"][0]["vehicle"] == {"id": str(vehicle.public_id)}


def test_a_person_named_by_sid_is_linked_to_the_name_index(client: Client, key: str) -> None:
    person_id = create_person()
    post_json(client, feed_url("incidents"), incident(), key)
    (role,) = IncidentPerson.objects.filter(person__isnull=False)
    assert str(role.person.public_id) == person_id  # type: ignore[union-attr]
    assert role.role == IncidentRole.SUSPECT


def test_a_person_known_only_by_name_is_accepted(client: Client, key: str) -> None:
    body = incident(people=[{"name": "Unknown male, about 30", "role": "suspect"}])
    assert post_json(client, feed_url("incidents"), body, key).status_code == 201
    (role,) = IncidentPerson.objects.all()
    assert (role.person, role.name) == (None, "Unknown male, about 30")


def test_the_people_and_vehicles_sent_replace_those_stored(client: Client, key: str) -> None:
    create_person()
    post_json(client, feed_url("incidents"), incident(), key)
    newer = incident(
        as_of="2026-11-21T09:00:00Z",
        status="cleared by arrest",
        people=[{"person": {"sid": SID}, "role": "arrestee"}],
        vehicles=[{"description": "Dark sedan, no plate seen", "role": "involved"}],
        location=None,
        location_text="Bushnell Park, near the carousel",
    )
    response = post_json(client, feed_url("incidents"), newer, key)
    assert response.json()["result"] == "updated"
    stored = Incident.objects.get()
    assert [(role, name) for role, name, _ in people_of(stored)] == [("arrestee", "")]
    assert [(v.plate, v.description) for v in stored.vehicles.all()] == [
        ("", "Dark sedan, no plate seen")
    ]
    assert (stored.location, stored.location_text) == (None, "Bushnell Park, near the carousel")
    assert IncidentPerson.objects.count() == 1
    assert IncidentVehicle.objects.count() == 1


def test_a_replay_is_unchanged_and_an_older_report_is_not_applied(client: Client, key: str) -> None:
    create_person()
    post_json(client, feed_url("incidents"), incident(), key)
    assert post_json(client, feed_url("incidents"), incident(), key).json()["result"] == (
        "unchanged"
    )
    older = incident(as_of="2026-11-19T12:00:00Z", status="closed", people=[])
    assert post_json(client, feed_url("incidents"), older, key).json()["result"] == "stale"
    stored = Incident.objects.get()
    assert stored.status == "open"
    assert stored.people.count() == 2


def test_the_same_address_typed_two_ways_is_one_location(client: Client, key: str) -> None:
    first = incident("RMS-1", people=[])
    second = incident(
        "RMS-2",
        incident_number="2026-000200",
        people=[],
        location={"line1": "12 n. main st. #3", "city": "HARTFORD", "state": "CT"},
    )
    response = post_json(client, feed_url("incidents"), [first, second], key)
    assert [result["status"] for result in response.json()] == ["created", "created"]
    (location,) = Location.objects.all()
    assert location.incidents.count() == 2


def test_an_unknown_person_is_refused_under_its_place_in_the_list(client: Client, key: str) -> None:
    create_person()
    people = [
        {"person": {"sid": SID}, "role": "victim"},
        {"person": {"sid": OTHER_SID}, "role": "suspect"},
    ]
    response = post_json(client, feed_url("incidents"), incident(people=people), key)
    assert response.status_code == 400
    errors = response.json()["people"]
    assert list(errors) == ["1"]
    assert f"No person with SID '{OTHER_SID}' is known." in errors["1"]["person"]
    assert not Incident.objects.exists()


def test_a_person_without_a_reference_or_a_name_is_refused(client: Client, key: str) -> None:
    body = incident(people=[{"name": "Dana Whitfield", "role": "victim"}, {"role": "witness"}])
    response = post_json(client, feed_url("incidents"), body, key)
    assert response.status_code == 400
    errors = response.json()["people"]
    assert list(errors) == ["1"]
    assert 'give their "name"' in errors["1"]["person"][0]


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"agency_ori": "Hartford PD"}, ["agency_ori"], "not a valid ORI"),
        ({"agency_ori": ""}, ["agency_ori"], "may not be blank"),
        ({"incident_number": ""}, ["incident_number"], "may not be blank"),
        (
            {"occurred_at": "2026-11-20T09:00:00-05:00"},
            ["reported_at"],
            "may not be before occurred_at",
        ),
        ({"location": {"line1": "12 Main St"}}, ["location", "city"], "city or town"),
        ({"location": {"city": "Hartford"}}, ["location", "line1"], "location_text"),
        (
            {"location": {"line1": "1 Elm St", "city": "X", "state": "Conn"}},
            ["location", "state"],
            "",
        ),
        (
            {"people": [{"name": "A. Person", "role": "bystander"}]},
            ["people", "0", "role"],
            "Allowed",
        ),
        (
            {"people": [{"person": {"sid": ""}, "role": "victim"}]},
            ["people", "0", "person"],
            "one of",
        ),
        (
            {"vehicles": [{"plate": "AB#12", "role": "stolen"}]},
            ["vehicles", "0", "plate"],
            "letters",
        ),
        (
            {"vehicles": [{"plate": "AB12", "plate_state": "Conn.", "role": "stolen"}]},
            ["vehicles", "0", "plate_state"],
            "two-letter code",
        ),
        ({"vehicles": [{"role": "stolen"}]}, ["vehicles", "0", "plate"], "description"),
        ({"people": "Dana"}, ["people", "non_field_errors"], "list"),
    ],
)
def test_bad_incidents_are_refused_naming_the_field(
    client: Client, key: str, overrides: dict[str, Any], path: list[Any], message: str
) -> None:
    body = incident(**{"people": [], **overrides})
    response = post_json(client, feed_url("incidents"), body, key)
    assert response.status_code == 400
    found: Any = response.json()
    for step in path:
        found = found[step]
    assert message in found[0]
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("kind", "overrides"),
    [
        ("incidents", {"location": "12 Main St, Hartford"}),
        ("incidents", {"location": {"line1": ["12"], "city": 7}}),
        ("incidents", {"location": {"line1": "12 Main St", "city": "Hartford\ud800"}}),
        ("incidents", {"people": ["Dana Whitfield"]}),
        ("incidents", {"people": [{"person": ["CT1"], "role": "victim"}]}),
        ("incidents", {"people": [{"name": "A", "dob": "11/11/1985", "role": "victim"}]}),
        ("incidents", {"people": [{"name": "A", "role": None}]}),
        ("incidents", {"vehicles": [{"plate": 1234, "plate_state": ["CT"], "role": "stolen"}]}),
        ("incidents", {"vehicles": [{"plate": "A" * 40, "role": "stolen"}]}),
        ("incidents", {"occurred_at": "yesterday"}),
        ("incidents", {"summary": {"text": "x"}}),
        ("incidents", {"people": [{"name": "A", "role": "victim"}] * 201}),
        ("property", {"location": [], "serial_number": 12}),
        ("property", {"person": "CT1234567"}),
        ("property", {"category": None, "status_date": "2026-02-30"}),
        ("property", {"incident_number": "x" * 41}),
    ],
)
def test_odd_shapes_are_refused_with_field_errors_never_a_server_error(
    client: Client, key: str, kind: str, overrides: dict[str, Any]
) -> None:
    base = incident(people=[]) if kind == "incidents" else property_item()
    response = post_json(client, feed_url(kind), {**base, **overrides}, key)
    assert response.status_code == 400
    assert set(response.json()) & set(overrides)
    assert not Incident.objects.exists()
    assert not PropertyItem.objects.exists()


@pytest.mark.parametrize("field", ["occurred_at", "reported_at"])
def test_an_incident_in_the_future_is_refused(client: Client, key: str, field: str) -> None:
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    times: dict[str, Any] = {"occurred_at": None, "reported_at": None, field: tomorrow}
    body = incident(people=[], **times)
    response = post_json(client, feed_url("incidents"), body, key)
    assert response.status_code == 400
    assert "in the future" in response.json()[field][0]


def test_a_bad_update_in_a_batch_loses_nothing_already_stored(client: Client, key: str) -> None:
    create_person()
    post_json(client, feed_url("incidents"), incident(), key)
    batch = [
        incident(
            as_of="2026-11-22T00:00:00Z", people=[{"person": {"sid": OTHER_SID}, "role": "victim"}]
        ),
        incident("RMS-2", incident_number="2026-000300", people=[]),
        "not an object",
    ]
    response = post_json(client, feed_url("incidents"), batch, key)
    assert response.status_code == 200
    assert [result["status"] for result in response.json()] == ["error", "created", "error"]
    kept = Incident.objects.get(source_id="RMS-1")
    assert kept.people.count() == 2
    assert kept.as_of.isoformat().startswith("2026-11-20")


def test_an_incident_is_audited_with_its_number_and_agency(client: Client, key: str) -> None:
    post_json(client, feed_url("incidents"), incident(people=[]), key)
    event = AuditEvent.objects.get(action="obts.record.upserted")
    assert event.details["kind"] == "incidents"
    assert (event.details["incident_number"], event.details["agency_ori"]) == (
        "2026-000123",
        "CT0006400",
    )


# Property ---------------------------------------------------------------------------


def test_property_is_stored_with_a_serial_key_and_its_owner(client: Client, key: str) -> None:
    person_id = create_person()
    body = property_item(person={"sid": SID}, owner_name="")
    response = post_json(client, feed_url("property"), body, key)
    assert response.status_code == 201, response.json()
    stored = PropertyItem.objects.get()
    assert (stored.serial_number, stored.serial_key) == ("bxr-4471 9", "BXR44719")
    assert str(stored.person.public_id) == person_id  # type: ignore[union-attr]
    assert stored.status == PropertyStatus.STOLEN
    assert response.json()["serial_key"] == "BXR44719"
    assert response.json()["incident"] is None


def test_property_reported_after_its_incident_is_linked_to_it(client: Client, key: str) -> None:
    post_json(client, feed_url("incidents"), incident(people=[]), key)
    response = post_json(client, feed_url("property"), property_item(), key)
    stored_incident = Incident.objects.get()
    assert PropertyItem.objects.get().incident == stored_incident
    assert response.json()["incident"] == {"id": str(stored_incident.public_id)}


def test_property_reported_before_its_incident_is_linked_when_the_incident_arrives(
    client: Client, key: str
) -> None:
    post_json(client, feed_url("property"), property_item(), key)
    other = property_item("PROP-2", incident_number="2026-999999", serial_number="X1")
    post_json(client, feed_url("property"), other, key)
    assert not PropertyItem.objects.filter(incident__isnull=False).exists()
    post_json(client, feed_url("incidents"), incident(people=[]), key)
    stored_incident = Incident.objects.get()
    assert PropertyItem.objects.get(source_id="PROP-1").incident == stored_incident
    assert PropertyItem.objects.get(source_id="PROP-2").incident is None


def test_property_with_a_location_shares_the_incidents_place(client: Client, key: str) -> None:
    post_json(client, feed_url("incidents"), incident(people=[]), key)
    where = {"line1": "12 N Main St", "line2": "#3", "city": "Hartford", "state": "CT"}
    post_json(client, feed_url("property"), property_item(location=where), key)
    (location,) = Location.objects.all()
    assert location.property_items.get().incident == location.incidents.get()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"serial_number": "", "description": ""}, "serial_number", "serial number, or a"),
        ({"serial_number": " - / "}, "serial_number", "a letter or a digit"),
        ({"category": "vehicle"}, "category", "Allowed values"),
        ({"status": ""}, "status", "Allowed values"),
        ({"agency_ori": "CT-64"}, "agency_ori", "not a valid ORI"),
        ({"person": {"sid": OTHER_SID}}, "person", "is known"),
        ({"status_date": "2099-01-01"}, "status_date", "in the future"),
    ],
)
def test_bad_property_is_refused_naming_the_field(
    client: Client, key: str, overrides: dict[str, Any], field: str, message: str
) -> None:
    response = post_json(client, feed_url("property"), property_item(**overrides), key)
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not PropertyItem.objects.exists()


def test_a_firearm_without_a_serial_is_accepted_with_a_description(
    client: Client, key: str
) -> None:
    body = property_item(serial_number="", description="Revolver, serial obliterated")
    assert post_json(client, feed_url("property"), body, key).status_code == 201
    assert PropertyItem.objects.get().serial_key == ""


def test_a_newer_property_report_updates_and_an_older_one_is_ignored(
    client: Client, key: str
) -> None:
    post_json(client, feed_url("property"), property_item(), key)
    recovered = property_item(as_of="2026-11-25T10:00:00Z", status="recovered")
    assert post_json(client, feed_url("property"), recovered, key).json()["result"] == "updated"
    older = property_item(as_of="2026-11-01T10:00:00Z", status="destroyed")
    assert post_json(client, feed_url("property"), older, key).json()["result"] == "stale"
    assert PropertyItem.objects.get().status == PropertyStatus.RECOVERED


# Schema and merges ------------------------------------------------------------------


def test_the_schema_lists_the_fields_of_both_kinds(client: Client) -> None:
    response = client.get(reverse("api-schema"), {"format": "json"})
    schema = json.loads(response.content)
    components = schema["components"]["schemas"]
    incident_fields = set(components["IncidentFeed"]["properties"])
    assert {"incident_number", "agency_ori", "location", "people", "vehicles"} <= incident_fields
    property_fields = set(components["PropertyFeed"]["properties"])
    assert {"category", "serial_number", "status", "incident_number", "person"} <= property_fields
    parameters = schema["paths"]["/api/v1/feeds/{kind}/"]["post"]["parameters"]
    (kind,) = [parameter for parameter in parameters if parameter["name"] == "kind"]
    assert {"incidents", "property"} <= set(kind["schema"]["enum"])


def test_a_merge_moves_vehicles_and_incident_roles_to_the_survivor_and_undo_returns_them(
    client: Client, key: str, agency: Agency
) -> None:
    survivor = Person.objects.get(public_id=create_person())
    merged = Person.objects.get(
        public_id=create_person(source_id="A-2002", sid=OTHER_SID, first_name="Mickey")
    )
    owned = {
        "source_system": "DMV-REG",
        "source_id": "DMV-9",
        "person": {"sid": OTHER_SID},
        "plate": "MKN1985",
        "plate_state": "CT",
    }
    post_json(client, feed_url("vehicles"), owned, key)
    post_json(
        client,
        feed_url("incidents"),
        incident(people=[{"person": {"sid": OTHER_SID}, "role": "suspect"}]),
        key,
    )
    reviewer: User = cj_user("cjis-reviewer", agency, roles=[Role.CJIS_SECURITY])

    merge = person_merge(actor=reviewer, survivor=survivor, merged=merged, reason="Same SID")
    assert Vehicle.objects.get().person == survivor
    assert IncidentPerson.objects.get().person == survivor
    person_merge_undo(actor=reviewer, merge=merge, reason="Not the same person")
    assert Vehicle.objects.get().person == merged
    assert IncidentPerson.objects.get().person == merged


def test_an_incident_names_the_survivor_when_it_names_a_merged_person(
    client: Client, key: str, agency: Agency
) -> None:
    survivor = Person.objects.get(public_id=create_person())
    merged = Person.objects.get(public_id=create_person(source_id="A-2002", sid=OTHER_SID))
    reviewer: User = cj_user("cjis-reviewer", agency, roles=[Role.CJIS_SECURITY])
    person_merge(actor=reviewer, survivor=survivor, merged=merged, reason="Same SID")
    body = incident(people=[{"person": {"sid": OTHER_SID}, "role": "victim"}])
    assert post_json(client, feed_url("incidents"), body, key).status_code == 201
    assert IncidentPerson.objects.get().person == survivor


# Demo ---------------------------------------------------------------------------------


def test_demo_incidents_load_once_and_meet_the_demo_people_at_home() -> None:
    obts_demo.seed()
    demo.seed()
    assert Incident.objects.count() == 4
    assert "Incidents: already loaded" in demo.seed()
    assert Incident.objects.count() == 4

    neumann = PersonName.objects.get(first_name="Michaela", last_name="Neumann").person
    (role,) = IncidentPerson.objects.filter(person=neumann)
    assert (role.role, role.incident.kind) == (IncidentRole.ARRESTEE, "Domestic disturbance")
    home = Address.objects.get(person=neumann)
    assert role.incident.location is not None
    assert role.incident.location.key == home.location_key
    (car,) = role.incident.vehicles.all()
    assert car.vehicle is not None
    assert car.vehicle.person == neumann

    (firearm,) = PropertyItem.objects.filter(category="firearm")
    assert firearm.serial_key
    assert firearm.status == PropertyStatus.STOLEN
    assert firearm.incident is not None
    assert firearm.incident.kind.startswith("Burglary")
    assert firearm.incident.people.filter(role="victim", person=firearm.person).exists()
    assert set(PropertyItem.objects.values_list("status", flat=True)) >= {
        "stolen",
        "recovered",
        "evidence",
    }
