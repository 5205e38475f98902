"""Property search: a serial typed any way, a partial serial, or make and model find the
item; stolen items come first with the agency, the incident and the owner's flags;
through the service, ``GET /api/v1/search/property`` and the Property tab of the search
page, each search audited with its purpose and what was shown."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from ciss.models import PropertyCategory, PropertyItem, PropertyStatus
from ciss.place_search import PlaceQueryError
from ciss.property_search import (
    EXACT_SERIAL,
    FOLDED_SERIAL,
    PARTIAL_SERIAL,
    PROPERTY_SEARCHED,
    parse_query,
    search_property,
)
from obts.access import API_VISIBILITY
from obts.models import Flag, Person
from portal.models import Agency, AuditEvent, User
from portal.models.api_clients import ApiScope
from tests.ciss.test_location_search import api_get, incident, item, page, text
from tests.factories import make_api_client
from tests.obts.factories_records import PersonFactory

pytestmark = pytest.mark.django_db

TRAFFIC_STOP = "traffic_stop"


@pytest.fixture
def search_key(agency: Agency) -> str:
    return make_api_client(agency, [ApiScope.SEARCH_READ])[1]


@pytest.fixture
def officer_client(signed_in: Callable[[User], Client], officer: User) -> Client:
    return signed_in(officer)


@pytest.fixture
def owner() -> Person:
    return PersonFactory.create(name="Olga Owner", flags=[Flag.PROTECTIVE_ORDER, Flag.WANTED])


@pytest.fixture
def pistol(agency: Agency, owner: Person) -> PropertyItem:
    """A Glock stolen in a burglary reported by the Hartford police."""
    report = incident("2026-000123", kind="Burglary")
    return item(
        "BXR-123 45",
        PropertyStatus.STOLEN,
        person=owner,
        owner_name="Olga Owner",
        incident=report,
        incident_number="2026-000123",
        status_date=date(2026, 3, 1),
        caliber="9mm",
    )


def found(**params: Any) -> list[Any]:
    return search_property(parse_query(**params), visibility=API_VISIBILITY)


def test_a_serial_typed_with_spaces_and_small_letters_finds_the_item(
    pistol: PropertyItem,
) -> None:
    (result,) = found(serial="bxr 12345")
    assert (result.item, result.matched) == (pistol, EXACT_SERIAL)


def test_o_for_zero_still_finds_it_and_says_so(db: None) -> None:
    item("A0B123")
    (result,) = found(serial="AOB123")
    assert result.matched == FOLDED_SERIAL


def test_a_partial_serial_finds_it(pistol: PropertyItem) -> None:
    assert [r.matched for r in found(serial="BXR*")] == [PARTIAL_SERIAL]
    assert [r.item for r in found(serial="*2345")] == [pistol]
    assert [r.item for r in found(serial="BXR?2345")] == [pistol]
    assert found(serial="BXR?345") == []


def test_stolen_items_come_first_even_when_older(db: None) -> None:
    item("G-1", PropertyStatus.RECOVERED, status_date=date(2026, 6, 1))
    item("G-2", PropertyStatus.EVIDENCE, status_date=date(2026, 5, 1))
    stolen = item("G-3", PropertyStatus.STOLEN, status_date=date(2020, 1, 1))
    results = found(make="glock")
    assert results[0].item == stolen
    assert [r.item.serial_number for r in results] == ["G-3", "G-1", "G-2"]


def test_a_short_page_keeps_the_stolen_item(db: None) -> None:
    for number in range(3):
        item(f"R-{number}", PropertyStatus.RECOVERED, status_date=date(2026, 6, 1))
    stolen = item("S-9", PropertyStatus.STOLEN, status_date=date(2019, 1, 1))
    assert [r.item for r in found(make="glock", limit=1)] == [stolen]


def test_make_and_model_narrowed_by_category_and_status(db: None) -> None:
    item("B-1", PropertyStatus.STOLEN, category=PropertyCategory.BICYCLE, make="Trek", model="FX")
    item("G-1", PropertyStatus.RECOVERED, make="Glock", model="19")
    item("G-2", PropertyStatus.STOLEN, make="Glock", model="17")
    assert [r.item.serial_number for r in found(make="trek", category="bicycle")] == ["B-1"]
    assert [r.item.serial_number for r in found(make="glock", status="recovered")] == ["G-1"]
    assert [r.item.serial_number for r in found(model="17")] == ["G-2"]


def test_the_result_names_agency_incident_and_owner_with_flags(
    pistol: PropertyItem, owner: Person
) -> None:
    (result,) = found(serial="BXR12345")
    assert result.agency_name == "Hartford Police Department"
    assert result.incident is not None
    assert result.incident.incident_number == "2026-000123"
    assert result.owner is not None
    assert (result.owner.id, result.owner.flags) == (
        str(owner.public_id),
        ["wanted", "protective_order"],
    )
    assert result.description == "Glock 19 9mm"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({}, None),
        ({"category": "firearm"}, None),
        ({"status": "stolen"}, None),
        ({"serial": "AB*"}, "serial"),
        ({"serial": "--"}, "serial"),
        ({"make": "glock", "category": "spaceship"}, "category"),
        ({"make": "glock", "status": "lost"}, "status"),
    ],
)
def test_what_cannot_be_searched_is_refused_naming_the_field(
    given: dict[str, Any], field: str | None
) -> None:
    with pytest.raises(PlaceQueryError) as error:
        parse_query(**given)
    assert error.value.field == field


# ---------------------------------------------------------------------------------------
# API


def test_the_api_answers_status_description_agency_incident_and_owner(
    client: Client, search_key: str, pistol: PropertyItem, owner: Person
) -> None:
    response = api_get(client, "api-search-property", search_key, serial="bxr-12345")
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result["id"] == str(pistol.public_id)
    assert (result["status"], result["stolen"]) == ("stolen", True)
    assert result["agency_name"] == "Hartford Police Department"
    assert result["incident"]["incident_number"] == "2026-000123"
    assert result["owner"]["flags"] == ["wanted", "protective_order"]
    assert result["matched"] == "serial number exactly"


def test_the_api_search_is_audited_with_purpose_items_owners_and_incidents(
    client: Client, search_key: str, pistol: PropertyItem, owner: Person
) -> None:
    api_get(client, "api-search-property", search_key, serial="BXR*", purpose=TRAFFIC_STOP)
    event = AuditEvent.objects.get(action=PROPERTY_SEARCHED)
    assert event.details["purpose"] == TRAFFIC_STOP
    assert event.details["query"] == {"serial": "BXR*"}
    assert event.details["property"] == [str(pistol.public_id)]
    assert event.details["owners"] == [str(owner.public_id)]
    assert event.details["incidents"] == [str(pistol.incident.public_id)]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "non_field_errors"),
        ({"category": "firearm", "status": "stolen"}, "non_field_errors"),
        ({"serial": "A*"}, "serial"),
        ({"make": "glock", "category": "spaceship"}, "category"),
        ({"make": "glock", "limit": "0"}, "limit"),
        ({"make": "glock", "purpose": "curiosity"}, "purpose"),
    ],
)
def test_bad_api_parameters_are_a_400_naming_the_field(
    client: Client, search_key: str, params: dict[str, str], field: str
) -> None:
    response = api_get(client, "api-search-property", search_key, **params)
    assert response.status_code == 400
    assert field in response.json()
    assert not AuditEvent.objects.filter(action=PROPERTY_SEARCHED).exists()


def test_the_api_needs_the_search_scope(client: Client, agency: Agency) -> None:
    records_only = make_api_client(agency, [ApiScope.RECORDS_READ], name="Other")[1]
    assert api_get(client, "api-search-property", records_only, make="glock").status_code == 403
    assert client.get(reverse("api-search-property"), {"make": "glock"}).status_code == 401


# ---------------------------------------------------------------------------------------
# The Property tab of the search page


def test_the_property_tab_has_serial_category_make_model_and_status(
    officer_client: Client,
) -> None:
    body = text(page(officer_client, kind="property"))
    for name in ("serial", "category", "make", "model", "status"):
        assert f'name="{name}"' in body
    assert 'data-state="empty"' in body


def test_choosing_only_a_category_waits_for_something_to_search(officer_client: Client) -> None:
    body = text(page(officer_client, kind="property", category="firearm", purpose=TRAFFIC_STOP))
    assert 'data-state="empty"' in body


def test_without_a_purpose_no_item_is_shown_nor_audited(
    officer_client: Client, pistol: PropertyItem
) -> None:
    body = text(page(officer_client, kind="property", serial="BXR12345"))
    assert 'data-state="purpose"' in body
    assert "data-property" not in body
    assert not AuditEvent.objects.filter(action=PROPERTY_SEARCHED).exists()


def test_a_stolen_firearm_shows_the_stolen_badge_before_anything_else(
    officer_client: Client, pistol: PropertyItem, owner: Person
) -> None:
    body = text(page(officer_client, kind="property", serial="BXR12345", purpose=TRAFFIC_STOP))
    card = body[body.index("data-property") :]
    assert card.index('data-flag="stolen"') < card.index("Glock 19 9mm")
    record = reverse("obts:person", kwargs={"public_id": owner.public_id})
    assert f"{record}?purpose={TRAFFIC_STOP}" in body
    assert card.index('data-flag="wanted"') < card.index('data-flag="protective_order"')
    assert "Hartford Police Department" in body


def test_a_page_search_is_audited_with_the_officer_and_purpose(
    officer_client: Client, officer: User, pistol: PropertyItem
) -> None:
    page(officer_client, kind="property", serial="BXR*", purpose=TRAFFIC_STOP)
    event = AuditEvent.objects.get(action=PROPERTY_SEARCHED)
    assert (event.actor, event.details["purpose"]) == (officer, TRAFFIC_STOP)
    assert event.details["property"] == [str(pistol.public_id)]


def test_a_short_partial_serial_on_the_page_says_why(officer_client: Client) -> None:
    response = page(officer_client, kind="property", serial="A*", purpose=TRAFFIC_STOP)
    assert response.status_code == 400
    assert "at least 3 known characters" in text(response)
    assert not AuditEvent.objects.filter(action=PROPERTY_SEARCHED).exists()


def test_no_item_found_suggests_a_partial_serial(officer_client: Client) -> None:
    body = text(page(officer_client, kind="property", serial="ZZZ999", purpose=TRAFFIC_STOP))
    assert 'data-state="none"' in body
    assert "partial serial" in body


def test_a_full_page_of_items_says_only_the_first_ten_are_shown(
    officer_client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for number in range(12):
        item(f"G-{number}", person=PersonFactory.create(flags=[Flag.WANTED]))
    with django_assert_max_num_queries(32):  # a fixed handful, however many items
        body = text(
            page(officer_client, results=True, kind="property", make="glock", purpose="audit")
        )
    assert body.count("data-property") == 10
    assert "Showing the first 10" in body
