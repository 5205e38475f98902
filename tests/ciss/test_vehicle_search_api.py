"""``GET /api/v1/search/vehicles``: the contract's plate lookup, the answer's fields, bad
parameters, scope and audit."""

import json
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse

from ciss.api.views import VehicleSearchResultsSerializer
from ciss.models import Vehicle
from ciss.plates import plate_key
from ciss.vehicle_search import VEHICLES_SEARCHED, parse_query, search_vehicles
from obts.models import Flag
from portal.models import Agency, AuditEvent
from portal.models.api_clients import ApiScope
from tests.factories import make_api_client
from tests.obts.factories_records import PersonFactory

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(agency: Agency) -> str:
    return make_api_client(agency, [ApiScope.SEARCH_READ])[1]


def search(client: Client, key: str, **params: Any) -> "Response":
    return client.get(
        reverse("api-search-vehicles"), params, headers={"Authorization": f"Bearer {key}"}
    )


@pytest.fixture
def car() -> Vehicle:
    owner = PersonFactory.create(name="Michaela Neumann", flags=[Flag.WANTED])
    return Vehicle.objects.create(
        source_system="DMV-REG",
        source_id="R-1",
        as_of="2026-11-01T12:00:00Z",
        person=owner,
        owner_name="Michaela Neumann",
        plate="ABC1234",
        plate_key=plate_key("ABC1234"),
        plate_state="CT",
        vin="1HGCM82633A004352",
        year=2003,
        make="Honda",
        model="Accord",
        color="silver",
        registration_expires=date(2020, 1, 31),
    )


def test_the_contracts_plate_lookup(client: Client, key: str, car: Vehicle) -> None:
    response = search(client, key, plate="ABC1234", state="CT")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (result,) = body["results"]
    assert result["id"] == str(car.public_id)
    assert result["registration_status"] == "expired"
    assert result["registration_expires"] == "2020-01-31"
    assert result["expired"] is True
    assert result["description"] == "2003 Honda Accord, silver"
    assert result["owner"]["flags"] == ["wanted"]
    assert result["owner"]["id"] == str(car.person.public_id)  # type: ignore[union-attr]


def test_the_answer_is_exactly_what_the_schema_documents(
    client: Client, key: str, car: Vehicle
) -> None:
    # The view builds the answer by hand for speed; the serializer documents it.
    body = search(client, key, plate="ABC1234").json()
    (result,) = search_vehicles(parse_query(plate="ABC1234"))
    documented = VehicleSearchResultsSerializer({"count": 1, "results": [result]}).data
    assert body == json.loads(json.dumps(documented))


def test_a_look_alike_plate_and_a_partial_plate_find_it(
    client: Client, key: str, car: Vehicle
) -> None:
    assert search(client, key, plate="ABCI234").json()["count"] == 1
    assert search(client, key, plate="*1234").json()["results"][0]["matched"] == "partial plate"
    assert search(client, key, vin="1HGCM82633A004352").json()["results"][0]["matched"] == "VIN"


def test_nothing_found_is_an_empty_list(client: Client, key: str, car: Vehicle) -> None:
    assert search(client, key, plate="ZZZ999").json() == {"count": 0, "results": []}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "plate"),
        ({"plate": "A*"}, "plate"),
        ({"plate": "ABCDEFGHIJK1"}, "plate"),  # longer than any plate
        ({"plate": "ABC123", "state": "Connecticut"}, "state"),
        ({"plate": "ABC123", "limit": "many"}, "limit"),
        ({"plate": "ABC123", "limit": "101"}, "limit"),
        ({"plate": "ABC123", "purpose": "curiosity"}, "purpose"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(
    client: Client, key: str, params: dict[str, str], field: str
) -> None:
    response = search(client, key, **params)
    assert response.status_code == 400
    assert field in response.json()
    assert not AuditEvent.objects.filter(action=VEHICLES_SEARCHED).exists()


def test_the_scope_is_needed(client: Client, agency: Agency, car: Vehicle) -> None:
    records_only = make_api_client(agency, [ApiScope.RECORDS_READ], name="Other")[1]
    assert search(client, records_only, plate="ABC1234").status_code == 403
    assert client.get(reverse("api-search-vehicles"), {"plate": "ABC1234"}).status_code == 401


def test_every_search_is_audited_with_purpose_and_what_was_shown(
    client: Client, key: str, car: Vehicle
) -> None:
    search(client, key, plate="abc 1234", purpose="traffic_stop")
    event = AuditEvent.objects.get(action=VEHICLES_SEARCHED)
    assert event.details["purpose"] == "traffic_stop"
    assert event.details["query"] == {"plate": "ABC1234"}
    assert event.details["vehicles"] == [str(car.public_id)]
    assert event.details["owners"] == [str(car.person.public_id)]  # type: ignore[union-attr]
