"""Location search: an address typed any way finds the place, its other units and its
street, with who lives there (flags first), what happened there and property there;
through the service, ``GET /api/v1/search/locations`` and the Location tab of the search
page, each search audited with its purpose and what was shown."""

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from ciss.location_search import (
    LOCATIONS_SEARCHED,
    SAME_ADDRESS,
    SAME_BUILDING,
    SIMILAR_STREET,
    parse_query,
    search_locations,
    split_address,
)
from ciss.models import (
    Incident,
    IncidentPerson,
    Location,
    PropertyCategory,
    PropertyItem,
    PropertyStatus,
)
from ciss.place_search import PlaceQueryError
from ciss.serials import serial_key
from obts.access import API_VISIBILITY
from obts.addresses import normalize_address
from obts.models import Address, Flag, Person
from portal.models import Agency, AuditEvent, User
from portal.models.api_clients import ApiScope
from tests.factories import make_api_client
from tests.obts.factories_records import PersonFactory

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

TRAFFIC_STOP = "traffic_stop"
HOME = "12 N MAIN ST APT 3, HARTFORD, CT"

# ---------------------------------------------------------------------------------------
# Builders, shared with the property and event tests


def place(line1: str, city: str = "Hartford", state: str = "CT") -> Location:
    address = normalize_address(line1, "", city, state, "06105")
    location, _ = Location.objects.get_or_create(
        key=address.key,
        defaults={
            "street_number": address.street_number,
            "street_name": address.street_name,
            "unit": address.unit,
            "city": address.city,
            "state": address.state,
            "postal_code": address.postal_code,
        },
    )
    return location


def lives(
    person: Person, line1: str, city: str = "Hartford", state: str = "CT", **dates: date
) -> Address:
    return Address.objects.create(person=person, line1=line1, city=city, state=state, **dates)


_numbers = iter(range(1, 100_000))


def incident(
    number: str,
    *,
    kind: str = "Burglary",
    at: Location | None = None,
    occurred: datetime | None = datetime(2026, 3, 1, 14, 0, tzinfo=UTC),
    agency: str = "CT0006400",
    docket: str = "",
    people: Sequence[tuple[str, Person | str]] = (),
) -> Incident:
    report = Incident.objects.create(
        source_system="HPD-RMS",
        source_id=f"I-{next(_numbers)}",
        as_of="2026-11-01T12:00:00Z",
        incident_number=number,
        agency_ori=agency,
        kind=kind,
        occurred_at=occurred,
        location=at,
        docket_number=docket,
        status="Open",
    )
    for role, who in people:
        if isinstance(who, Person):
            IncidentPerson.objects.create(incident=report, person=who, role=role)
        else:
            IncidentPerson.objects.create(incident=report, name=who, role=role)
    return report


def item(serial: str, status: str = PropertyStatus.STOLEN, **fields: Any) -> PropertyItem:
    values: dict[str, Any] = {
        "category": PropertyCategory.FIREARM,
        "make": "Glock",
        "model": "19",
        "agency_ori": "CT0006400",
    }
    values |= fields
    return PropertyItem.objects.create(
        source_system="HPD-PROP",
        source_id=f"P-{next(_numbers)}",
        as_of="2026-11-01T12:00:00Z",
        serial_number=serial,
        serial_key=serial_key(serial),
        status=status,
        **values,
    )


def api_get(client: Client, url_name: str, key: str, **params: Any) -> "Response":
    return client.get(reverse(url_name), params, headers={"Authorization": f"Bearer {key}"})


def page(client: Client, results: bool = False, **params: str) -> "Response":
    return client.get(reverse("ciss:search_results" if results else "ciss:search"), params)


def text(response: "Response") -> str:
    return response.content.decode()


@pytest.fixture
def search_key(agency: Agency) -> str:
    return make_api_client(agency, [ApiScope.SEARCH_READ])[1]


@pytest.fixture
def officer_client(signed_in: Callable[[User], Client], officer: User) -> Client:
    return signed_in(officer)


# ---------------------------------------------------------------------------------------
# A building on North Main Street


@pytest.fixture
def resident() -> Person:
    person = PersonFactory.create(name="Michaela Neumann", flags=[Flag.WANTED])
    lives(person, "12 North Main Street, Apt. 3")
    return person


@pytest.fixture
def street(resident: Person) -> None:
    """The resident's flat, a neighbour's flat in the same building, another house on the
    street, and a house on South Main Street (another street)."""
    lives(PersonFactory.create(name="Nora Neighbour"), "12 N Main St #5")
    lives(PersonFactory.create(name="Otto Other"), "40 N. Main St.")
    lives(PersonFactory.create(name="Sam South"), "12 South Main Street")


def locations(address: str, **kwargs: Any) -> list[Any]:
    return search_locations(parse_query(address=address, **kwargs), visibility=API_VISIBILITY)


def test_an_address_typed_in_words_finds_the_same_address_first(street: None) -> None:
    found = locations("12 north main street apt 3, hartford")
    assert [(r.key, r.matched) for r in found] == [
        (HOME, SAME_ADDRESS),
        ("12 N MAIN ST APT 5, HARTFORD, CT", SAME_BUILDING),
        ("40 N MAIN ST, HARTFORD, CT", SIMILAR_STREET),
    ]


def test_another_street_that_shares_words_is_never_the_same_address(street: None) -> None:
    found = locations("12 N Main St, Hartford, CT")
    keys = [r.key for r in found]
    # On PostgreSQL trigram similarity may list South Main Street, as a mere look-alike
    # after the addresses of North Main Street; elsewhere it is not listed at all.
    if "12 S MAIN ST, HARTFORD, CT" in keys:
        assert connection.vendor == "postgresql"
        assert keys[-1] == "12 S MAIN ST, HARTFORD, CT"
        assert found[-1].matched == SIMILAR_STREET


def test_a_street_without_a_number_lists_the_addresses_on_it(street: None) -> None:
    found = locations("N Main St, Hartford")
    assert {r.matched for r in found} == {SIMILAR_STREET}
    assert [r.key for r in found][:3] == [
        "12 N MAIN ST APT 3, HARTFORD, CT",
        "12 N MAIN ST APT 5, HARTFORD, CT",
        "40 N MAIN ST, HARTFORD, CT",
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is a PostgreSQL index")
def test_a_typo_in_the_street_still_finds_the_address_on_postgresql(street: None) -> None:
    found = locations("12 N Mian St Apt 3, Hartford")
    assert HOME in [r.key for r in found]
    assert {r.matched for r in found} == {SIMILAR_STREET}


def test_another_city_is_left_out(street: None) -> None:
    lives(PersonFactory.create(), "12 N Main St Apt 3", city="New Britain")
    assert locations("12 N Main St Apt 3, Hartford, CT")[0].key == HOME
    assert "NEW BRITAIN" not in " ".join(r.key for r in locations("12 N Main St, Hartford"))


def test_people_are_counted_and_current_residents_named_with_flags(resident: Person) -> None:
    moved_out = PersonFactory.create(name="Former Tenant")
    lives(moved_out, "12 N Main St Apt 3", to_date=date(2020, 1, 1))
    (result, *_) = locations("12 N Main St Apt 3, Hartford")
    assert result.people_count == 2
    assert [(p.id, p.flags) for p in result.residents] == [(str(resident.public_id), ["wanted"])]


def test_a_merged_resident_is_shown_as_the_survivor(resident: Person) -> None:
    survivor = PersonFactory.create(name="Michaela Survivor", flags=[Flag.PAROLE])
    resident.merged_into = survivor
    resident.save()
    (result, *_) = locations(HOME)
    assert [p.id for p in result.residents] == [str(survivor.public_id)]


def test_incidents_there_are_counted_and_the_latest_listed_newest_first(resident: Person) -> None:
    home = place("12 N Main St Apt 3")
    for month in (1, 2, 3, 4):
        incident(f"2026-{month:04d}", at=home, occurred=datetime(2026, month, 5, tzinfo=UTC))
    (result, *_) = locations(HOME)
    assert result.incident_count == 4
    assert [i.incident_number for i in result.incidents] == ["2026-0004", "2026-0003", "2026-0002"]


def test_property_there_is_listed_stolen_first(resident: Person) -> None:
    home = place("12 N Main St Apt 3")
    item("R-1", PropertyStatus.RECOVERED, location=home, status_date=date(2026, 5, 1))
    item("S-1", PropertyStatus.STOLEN, location=home, status_date=date(2026, 1, 1))
    (result, *_) = locations(HOME)
    assert result.property_count == 2
    assert [p.status for p in result.items] == ["stolen", "recovered"]
    assert result.address == "12 N MAIN ST APT 3, HARTFORD, CT 06105"


def test_a_place_known_only_from_incidents_is_found(db: None) -> None:
    incident("2026-0100", at=place("300 Asylum Ave"))
    (result,) = locations("300 asylum avenue, hartford, ct")
    assert (result.matched, result.incident_count, result.people_count) == (SAME_ADDRESS, 1, 0)


@pytest.mark.parametrize(
    ("typed", "parts"),
    [
        ("12 Main St Apt 3, Hartford, CT 06105", ("12 Main St Apt 3", "Hartford", "CT")),
        ("12 Main St, New Haven CT", ("12 Main St", "New Haven", "CT")),
        ("12 Main St, New Haven", ("12 Main St", "New Haven", "")),
        ("12 Main St", ("12 Main St", "", "")),
    ],
)
def test_a_typed_address_is_split_into_street_city_and_state(
    typed: str, parts: tuple[str, str, str]
) -> None:
    assert split_address(typed) == parts


@pytest.mark.parametrize("given", [{"address": "12, Hartford, CT"}, {"city": "Hartford"}, {}])
def test_a_city_or_state_alone_is_not_a_search(given: dict[str, Any]) -> None:
    with pytest.raises(PlaceQueryError) as error:
        parse_query(**given)
    assert error.value.field is None


# ---------------------------------------------------------------------------------------
# API


def test_the_api_answers_the_places_with_people_and_why(
    client: Client, search_key: str, street: None, resident: Person
) -> None:
    response = api_get(
        client, "api-search-locations", search_key, address="12 north main street apt 3"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    first = body["results"][0]
    assert (first["key"], first["matched"], first["people_count"]) == (HOME, "same address", 1)
    assert first["people"] == [
        {"id": str(resident.public_id), "name": "Michaela Neumann", "flags": ["wanted"]}
    ]


def test_the_api_takes_the_address_in_parts(client: Client, search_key: str, street: None) -> None:
    body = api_get(
        client, "api-search-locations", search_key, street="12 N Main St #3", city="hartford"
    ).json()
    assert body["results"][0]["key"] == HOME


def test_the_api_search_is_audited_with_purpose_and_what_was_shown(
    client: Client, search_key: str, street: None, resident: Person
) -> None:
    api_get(client, "api-search-locations", search_key, address=HOME, purpose=TRAFFIC_STOP)
    event = AuditEvent.objects.get(action=LOCATIONS_SEARCHED)
    assert event.details["purpose"] == TRAFFIC_STOP
    assert event.details["query"] == {"address": HOME}
    assert event.details["locations"][0] == HOME
    assert str(resident.public_id) in event.details["persons"]


def test_an_api_search_without_purpose_is_audited_as_not_stated(
    client: Client, search_key: str, street: None
) -> None:
    api_get(client, "api-search-locations", search_key, address=HOME)
    assert AuditEvent.objects.get(action=LOCATIONS_SEARCHED).details["purpose"] == "not stated"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "non_field_errors"),
        ({"address": "12, Hartford, CT"}, "non_field_errors"),
        ({"city": "Hartford", "state": "CT"}, "non_field_errors"),
        ({"street": "Main St", "state": "Connecticut"}, "state"),
        ({"address": "12 Main St", "street": "Main St"}, "street"),
        ({"address": "12 Main St", "limit": "101"}, "limit"),
        ({"address": "12 Main St", "purpose": "curiosity"}, "purpose"),
    ],
)
def test_bad_api_parameters_are_a_400_naming_the_field(
    client: Client, search_key: str, params: dict[str, str], field: str
) -> None:
    response = api_get(client, "api-search-locations", search_key, **params)
    assert response.status_code == 400
    assert field in response.json()
    assert not AuditEvent.objects.filter(action=LOCATIONS_SEARCHED).exists()


def test_nothing_to_search_says_so(client: Client, search_key: str) -> None:
    body = api_get(client, "api-search-locations", search_key, address="12, Hartford, CT").json()
    assert "Nothing to search on" in body["non_field_errors"][0]


def test_the_api_needs_the_search_scope(client: Client, agency: Agency) -> None:
    records_only = make_api_client(agency, [ApiScope.RECORDS_READ], name="Other")[1]
    assert api_get(client, "api-search-locations", records_only, address=HOME).status_code == 403
    assert client.get(reverse("api-search-locations"), {"address": HOME}).status_code == 401


def test_the_schema_documents_the_location_parameters(client: Client) -> None:
    schema = client.get(reverse("api-schema"), {"format": "json"})
    operation = schema.json()["paths"]["/api/v1/search/locations"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"address", "street", "city", "state", "limit", "purpose"} <= names


# ---------------------------------------------------------------------------------------
# The Location tab of the search page


def test_the_location_tab_has_an_address_field_with_live_search(officer_client: Client) -> None:
    body = text(page(officer_client, kind="location"))
    assert 'name="address"' in body
    assert 'hx-get="/ciss/search/results/"' in body
    assert 'data-state="empty"' in body
    assert 'aria-current="page">Location<' in body


def test_without_a_purpose_no_place_is_shown_nor_audited(
    officer_client: Client, street: None
) -> None:
    body = text(page(officer_client, kind="location", address=HOME))
    assert 'data-state="purpose"' in body
    assert "data-location" not in body
    assert not AuditEvent.objects.filter(action=LOCATIONS_SEARCHED).exists()


def test_a_location_card_names_the_resident_with_flags_and_record_link(
    officer_client: Client, street: None, resident: Person
) -> None:
    body = text(page(officer_client, kind="location", address=HOME, purpose=TRAFFIC_STOP))
    assert body.count("data-location") == 3
    assert "Same address" in body
    assert "Same building, other unit" in body
    record = reverse("obts:person", kwargs={"public_id": resident.public_id})
    assert f"{record}?purpose={TRAFFIC_STOP}" in body
    assert 'data-flag="wanted"' in body


def test_stolen_property_at_the_place_shows_a_badge(
    officer_client: Client, resident: Person
) -> None:
    item("S-1", PropertyStatus.STOLEN, location=place("12 N Main St Apt 3"))
    body = text(page(officer_client, kind="location", address=HOME, purpose=TRAFFIC_STOP))
    assert 'data-flag="stolen"' in body


def test_a_page_search_is_audited_with_the_officer_and_purpose(
    officer_client: Client, officer: User, street: None
) -> None:
    page(officer_client, kind="location", address=HOME, purpose=TRAFFIC_STOP)
    event = AuditEvent.objects.get(action=LOCATIONS_SEARCHED)
    assert (event.actor, event.details["purpose"]) == (officer, TRAFFIC_STOP)
    assert event.details["count"] == 3


def test_a_city_alone_on_the_page_says_what_to_add(officer_client: Client) -> None:
    response = page(
        officer_client, kind="location", address="12, Hartford, CT", purpose=TRAFFIC_STOP
    )
    assert response.status_code == 400
    assert "Add a street name" in text(response)


def test_no_place_found_suggests_what_to_try(officer_client: Client, street: None) -> None:
    body = text(page(officer_client, kind="location", address="9 Elm St", purpose=TRAFFIC_STOP))
    assert 'data-state="none"' in body
    assert "leave out the unit" in body


def test_a_full_page_of_places_says_only_the_first_ten_are_shown(officer_client: Client) -> None:
    for number in range(1, 13):
        lives(PersonFactory.create(), f"{number} Elm St")
    body = text(page(officer_client, kind="location", address="Elm St", purpose=TRAFFIC_STOP))
    assert body.count("data-location") == 10
    assert "Showing the first 10" in body


def test_the_location_results_partial_pins_its_query_count(
    officer_client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for number in range(1, 11):
        location = place(f"{number} Elm St")
        lives(PersonFactory.create(flags=[Flag.WANTED]), f"{number} Elm St")
        incident(f"E-{number}", at=location, people=[("suspect", "Someone")])
        item(f"ELM{number:04d}", location=location)
    # Sign-in, session and audit chain take half; the search a dozen, however many places.
    with django_assert_max_num_queries(32):
        body = text(
            page(officer_client, results=True, kind="location", address="Elm St", purpose="audit")
        )
    assert body.count("data-location") == 10
