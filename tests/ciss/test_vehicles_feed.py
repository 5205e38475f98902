"""The ``vehicles`` feed: registered vehicles upserted by (source_system, source_id), plates
and VINs stored in one form whatever way they were typed, clear errors for bad ones."""

from typing import Any

import pytest
from django.test import Client

from ciss.models import RegistrationStatus, Vehicle
from ciss.plates import normalize_plate, plate_key, vin_problem
from obts.models import Person
from portal.models import Agency
from portal.models.api_clients import ApiScope
from tests.factories import make_api_client
from tests.obts.factories import SID, create_person, feed_url, post_json

pytestmark = pytest.mark.django_db

VIN = "1HGCM82633A004352"


@pytest.fixture
def key(agency: Agency) -> str:
    return make_api_client(agency, [ApiScope.FEEDS_WRITE])[1]


def vehicle(source_id: str = "DMV-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source_system": "DMV-REG",
        "source_id": source_id,
        "as_of": "2026-11-01T12:00:00Z",
        "person": {"sid": SID},
        "owner_name": "Michaela Neumann",
        "plate": "abc-1234",
        "plate_state": "ct",
        "plate_type": "passenger",
        "vin": "1hgcm8263 3a004352",
        "year": 2003,
        "make": "Honda",
        "model": "Accord",
        "style": "4-door sedan",
        "color": "silver",
        "registration_status": "valid",
        "registration_expires": "2027-03-31",
        "stolen": False,
    }
    body.update(overrides)
    return body


def test_a_vehicle_is_stored_with_its_plate_and_vin_in_one_form(client: Client, key: str) -> None:
    create_person()
    response = post_json(client, feed_url("vehicles"), vehicle(), key)
    assert response.status_code == 201, response.json()
    stored = Vehicle.objects.get()
    assert (stored.plate, stored.plate_key, stored.plate_state) == ("ABC1234", "ABC1234", "CT")
    assert stored.vin == VIN
    assert stored.person == Person.objects.get()
    assert stored.description() == "2003 Honda Accord, 4-door sedan, silver"
    assert response.json()["plate"] == "ABC1234"


def test_an_owner_outside_the_name_index_is_kept_by_name(client: Client, key: str) -> None:
    body = vehicle(owner_name="Harbor Freight Leasing LLC")
    del body["person"]
    assert post_json(client, feed_url("vehicles"), body, key).status_code == 201
    stored = Vehicle.objects.get()
    assert stored.person is None
    assert stored.owner_name == "Harbor Freight Leasing LLC"


def test_a_newer_record_updates_and_a_replay_changes_nothing(client: Client, key: str) -> None:
    create_person()
    post_json(client, feed_url("vehicles"), vehicle(), key)
    newer = vehicle(as_of="2026-11-10T12:00:00Z", registration_status="suspended")
    assert post_json(client, feed_url("vehicles"), newer, key).json()["result"] == "updated"
    assert post_json(client, feed_url("vehicles"), newer, key).json()["result"] == "unchanged"
    older = vehicle(as_of="2026-10-01T12:00:00Z", registration_status="revoked")
    assert post_json(client, feed_url("vehicles"), older, key).json()["result"] == "stale"
    assert Vehicle.objects.get().registration_status == RegistrationStatus.SUSPENDED


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("plate", "ABC#123", "only letters and digits"),
        ("plate", "  -  ", "at least one letter or digit"),
        ("plate_state", "Connecticut", "two-letter code"),
        ("vin", "1HGCM82633A00435", "17 characters"),
        ("vin", "1HGCM82O33A004352", "never I, O or Q"),
        ("vin", "1HGCM82623A004352", "check digit"),
        ("year", 1700, "model year"),
        ("registration_status", "lost", "Allowed values"),
    ],
)
def test_bad_fields_are_named_with_what_is_wrong(
    client: Client, key: str, field: str, value: Any, message: str
) -> None:
    create_person()
    response = post_json(client, feed_url("vehicles"), vehicle(**{field: value}), key)
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not Vehicle.objects.exists()


def test_one_bad_vehicle_in_a_batch_does_not_block_the_others(client: Client, key: str) -> None:
    create_person()
    batch = [vehicle("DMV-1"), vehicle("DMV-2", plate="??"), vehicle("DMV-3", plate="XYZ 9")]
    response = post_json(client, feed_url("vehicles"), batch, key)
    assert response.status_code == 200
    results = response.json()
    assert [r["status"] for r in results] == ["created", "error", "created"]
    assert "plate" in results[1]["errors"]
    assert set(Vehicle.objects.values_list("plate", flat=True)) == {"ABC1234", "XYZ9"}


def test_plates_typed_with_look_alike_characters_share_a_key() -> None:
    assert normalize_plate(" abc-1234 ") == "ABC1234"
    assert plate_key("ABCI234") == plate_key("ABC1234") == "ABC1234"
    assert plate_key("OQ0") == "000"
    assert vin_problem(VIN) is None
    # A European VIN carries no check digit.
    assert vin_problem("WVWZZZ1JZXW000001") is None
