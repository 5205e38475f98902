"""The search page (``/ciss/search/``) and its htmx results (``/ciss/search/results/``):
who may use them, the purpose asked once per session, person and vehicle cards, the
states written for people (empty, invalid, no purpose, nothing found, too many) and the
audit row of every search that ran, and only of those."""

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from ciss.models import RegistrationStatus, Vehicle
from ciss.plates import plate_key
from ciss.search import PERSONS_SEARCHED
from ciss.vehicle_search import VEHICLES_SEARCHED
from ciss.views import PURPOSE_SESSION_KEY
from obts.models import CaseStatus, Flag, Person, WarrantStatus
from obts.status import person_recompute
from portal.models import Agency, AuditEvent, User
from portal.roles import Claim
from tests.ciss.test_person_search_api import DOB, indexed_person
from tests.obts.factories_records import (
    CaseFactory,
    PersonFactory,
    ProtectiveOrderFactory,
    WarrantFactory,
    cj_user,
)

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

PAGE = "ciss:search"
RESULTS = "ciss:search_results"
TRAFFIC_STOP = "traffic_stop"


@pytest.fixture
def officer_client(signed_in: Callable[[User], Client], officer: User) -> Client:
    return signed_in(officer)


@pytest.fixture
def michaela() -> Person:
    """Wanted, under a protective order, known also as Mickey Neumann; among people with
    similar names."""
    person = indexed_person("Michaela", "Neumann", sex="F", aliases=[("Mickey", "Neumann", DOB)])
    ProtectiveOrderFactory.create(person=person)
    WarrantFactory.create(person=person, status=WarrantStatus.ACTIVE)
    person_recompute(person)
    indexed_person("Michael", "Newman", date(1979, 3, 4))
    indexed_person("Martha", "Neumann", date(1950, 6, 7), sex="F")
    return person


def add_vehicle(plate: str, state: str = "CT", **fields: Any) -> Vehicle:
    return Vehicle.objects.create(
        source_system="DMV-REG",
        source_id=f"{state}-{plate}",
        as_of="2026-11-01T12:00:00Z",
        plate=plate,
        plate_key=plate_key(plate),
        plate_state=state,
        **fields,
    )


def get(client: Client, url_name: str = PAGE, **params: str) -> "Response":
    return client.get(reverse(url_name), params)


def text(response: "Response") -> str:
    return response.content.decode()


def searches() -> int:
    return AuditEvent.objects.filter(action__in=[PERSONS_SEARCHED, VEHICLES_SEARCHED]).count()


def record_url(person: Person, purpose: str = TRAFFIC_STOP) -> str:
    path = reverse("obts:person", kwargs={"public_id": person.public_id})
    return f"{path}?purpose={purpose}"


# ---------------------------------------------------------------------------------------
# Access


@pytest.mark.parametrize("name", [PAGE, RESULTS])
def test_anonymous_visitor_is_sent_to_sign_in(client: Client, name: str) -> None:
    response = get(client, name, name="x")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


@pytest.mark.parametrize("name", [PAGE, RESULTS])
def test_outsider_without_a_record_role_is_refused(
    signed_in: Callable[[User], Client], outsider: User, michaela: Person, name: str
) -> None:
    response = get(signed_in(outsider), name, name="Michaela Neumann", purpose=TRAFFIC_STOP)
    assert response.status_code == 403
    assert "Neumann" not in text(response)
    assert searches() == 0


@pytest.mark.parametrize("name", [PAGE, RESULTS])
def test_officer_reaches_the_page_and_the_results(officer_client: Client, name: str) -> None:
    assert get(officer_client, name).status_code == 200


@pytest.mark.parametrize("name", [PAGE, RESULTS])
def test_post_is_refused(officer_client: Client, name: str) -> None:
    assert officer_client.post(reverse(name)).status_code == 405


def test_results_are_not_cached_by_the_browser(officer_client: Client, michaela: Person) -> None:
    response = get(officer_client, RESULTS, name="Neumann", purpose=TRAFFIC_STOP)
    assert "no-store" in response["Cache-Control"]


def test_officer_finds_search_in_the_navigation(officer_client: Client) -> None:
    assert f'href="{reverse(PAGE)}"' in text(officer_client.get(reverse("portal:home")))


def test_outsider_does_not_find_search_in_the_navigation(
    signed_in: Callable[[User], Client], outsider: User
) -> None:
    assert f'href="{reverse(PAGE)}"' not in text(signed_in(outsider).get(reverse("portal:home")))


# ---------------------------------------------------------------------------------------
# The page and its states


def test_page_has_person_form_with_live_inputs_and_a_polite_results_region(
    officer_client: Client,
) -> None:
    page = text(get(officer_client))
    assert 'role="search"' in page
    assert 'id="search-results" aria-live="polite"' in page
    assert f'hx-get="{reverse(RESULTS)}"' in page
    assert 'hx-trigger="input changed delay:300ms, search"' in page
    assert 'hx-include="closest form"' in page
    for label in ("Name", "Date of birth", "Sex", "Purpose of this search", "FBI number"):
        assert f">{label}" in page
    assert "<summary>More fields</summary>" in page
    assert 'name="plate"' not in page


def test_vehicle_tab_has_plate_state_and_vin(officer_client: Client) -> None:
    page = text(get(officer_client, kind="vehicle"))
    for field in ("plate", "state", "vin"):
        assert f'name="{field}"' in page
    assert 'name="name"' not in page
    assert 'aria-current="page">Vehicle</a>' in page


def test_empty_search_shows_a_hint_and_is_not_audited(officer_client: Client) -> None:
    response = get(officer_client, purpose=TRAFFIC_STOP, name="  ")
    assert 'data-state="empty"' in text(response)
    assert "Smith, Jane" in text(response)
    assert searches() == 0


def test_without_a_purpose_results_need_one_and_none_are_shown(
    officer_client: Client, michaela: Person
) -> None:
    response = get(officer_client, name="Michaela Neumann")
    page = text(response)
    assert response.status_code == 200
    assert "Results need a purpose" in page
    assert "Choose the purpose of this search" in page  # beside the purpose field
    assert str(michaela.public_id) not in page
    assert searches() == 0


def test_the_purpose_is_remembered_for_the_session(
    officer_client: Client, michaela: Person
) -> None:
    get(officer_client, RESULTS, name="Neumann", purpose=TRAFFIC_STOP)
    assert officer_client.session[PURPOSE_SESSION_KEY] == TRAFFIC_STOP

    response = get(officer_client, name="Michaela Neumann")  # no purpose sent this time

    assert record_url(michaela) in text(response)
    assert '<option value="traffic_stop" selected>' in text(response)
    purposes = AuditEvent.objects.filter(action=PERSONS_SEARCHED).values_list(
        "details__purpose", flat=True
    )
    assert list(purposes) == [TRAFFIC_STOP, TRAFFIC_STOP]


def test_choosing_no_purpose_forgets_the_remembered_one(
    officer_client: Client, michaela: Person
) -> None:
    get(officer_client, name="Neumann", purpose=TRAFFIC_STOP)
    response = get(officer_client, name="Neumann", purpose="")
    assert "Results need a purpose" in text(response)
    assert PURPOSE_SESSION_KEY not in officer_client.session


def test_an_unknown_purpose_is_refused(officer_client: Client, michaela: Person) -> None:
    response = get(officer_client, name="Neumann", purpose="curiosity")
    assert "Results need a purpose" in text(response)
    assert searches() == 0


def test_invalid_date_of_birth_shows_the_message_and_writes_no_audit_row(
    officer_client: Client, michaela: Person
) -> None:
    response = get(officer_client, name="Michaela Neumann", dob="11/11/1985", purpose=TRAFFIC_STOP)
    page = text(response)
    assert response.status_code == 400
    assert "usa-form-group--error" in page
    assert "Date has wrong format. Use one of these formats instead: YYYY-MM-DD." in page
    assert "Date of birth: Date has wrong format" in page  # and in the results region
    assert str(michaela.public_id) not in page
    assert searches() == 0


def test_a_date_of_birth_alone_is_not_a_search(officer_client: Client, michaela: Person) -> None:
    response = get(officer_client, dob="1985-11-11", purpose=TRAFFIC_STOP)
    assert "a date of birth or sex alone is not a search" in text(response)
    assert searches() == 0


def test_nothing_found_suggests_what_to_try(officer_client: Client, michaela: Person) -> None:
    response = get(officer_client, name="Zebulon Quixote", purpose=TRAFFIC_STOP)
    page = text(response)
    assert 'data-state="none"' in page
    assert "leave out the date of birth" in page
    assert searches() == 1  # a search that ran and found no one is still audited


def test_a_full_page_says_when_only_the_first_ten_are_shown(officer_client: Client) -> None:
    for number in range(12):
        indexed_person("Jordan", "Smith", date(1980, 1, number + 1))
    page = text(get(officer_client, name="Jordan Smith", purpose=TRAFFIC_STOP))
    assert page.count("data-person") == 10
    assert "Showing the first 10; add a date of birth or more of the name to narrow" in page


# ---------------------------------------------------------------------------------------
# Person results


def test_person_card_shows_wanted_first_and_links_to_the_record_with_the_purpose(
    officer_client: Client, michaela: Person
) -> None:
    page = text(get(officer_client, name="Micheala Neuman", purpose=TRAFFIC_STOP))
    card = page[page.index("data-person") :]
    assert f'href="{record_url(michaela)}">Michaela Neumann</a>' in card
    assert "Born 1985-11-11 · Female" in card
    wanted = card.index('data-flag="wanted"')
    assert wanted < card.index('data-flag="protective_order"')
    assert 'bg-secondary-dark text-white" data-flag="wanted">Wanted<' in card
    assert "Matched:" in card


def test_a_match_on_an_alias_is_named(officer_client: Client, michaela: Person) -> None:
    page = text(get(officer_client, name="Mickey Neumann", purpose=TRAFFIC_STOP))
    assert "matched alias Mickey Neumann" in page
    assert page.count("matched alias") == 1  # not again among the reasons


def test_the_primary_name_is_not_called_an_alias(officer_client: Client, michaela: Person) -> None:
    page = text(get(officer_client, name="Michaela Neumann", purpose=TRAFFIC_STOP))
    assert "matched alias" not in page


def test_an_identifier_under_more_fields_finds_the_person_and_opens_the_fields(
    officer_client: Client,
) -> None:
    person = indexed_person("Ann", "Lee", identifiers=[("sid", "CT7654321")])
    page = text(get(officer_client, sid="ct 7654321", purpose=TRAFFIC_STOP))
    assert record_url(person) in page
    assert '<details class="ciss-more" open>' in page


def test_flags_are_those_the_user_may_see(
    signed_in: Callable[[User], Client], agency: Agency, michaela: Person
) -> None:
    CaseFactory.create(person=michaela, status=CaseStatus.PENDING, is_sealed=True)
    person_recompute(michaela)
    claims = [Claim.CRIMINAL_HISTORY, Claim.SEALED_RECORDS]
    sealed_reader = signed_in(cj_user("sealed-reader", agency, claims=claims))
    page = text(get(sealed_reader, name="Michaela Neumann", purpose=TRAFFIC_STOP))
    assert 'data-flag="pending_case"' in page

    patrol = signed_in(cj_user("patrol", agency))
    page = text(get(patrol, name="Michaela Neumann", purpose=TRAFFIC_STOP))
    assert 'data-flag="wanted"' in page
    assert 'data-flag="pending_case"' not in page


def test_person_search_is_audited_with_actor_purpose_and_persons_shown(
    officer_client: Client, officer: User, michaela: Person
) -> None:
    get(officer_client, RESULTS, name="Michaela Neumann", dob="1985-11-11", purpose=TRAFFIC_STOP)
    event = AuditEvent.objects.get(action=PERSONS_SEARCHED)
    assert event.actor == officer
    assert event.agency == officer.agency
    assert event.api_client is None
    assert event.details["purpose"] == TRAFFIC_STOP
    assert event.details["query"] == {"name": "Michaela Neumann", "dob": "1985-11-11"}
    assert event.details["persons"][0] == str(michaela.public_id)


# ---------------------------------------------------------------------------------------
# htmx results


def test_the_results_partial_has_only_the_results(officer_client: Client, michaela: Person) -> None:
    page = text(get(officer_client, RESULTS, name="Michaela Neumann", purpose=TRAFFIC_STOP))
    assert record_url(michaela) in page
    assert "<html" not in page
    assert 'role="search"' not in page  # the search form stays; only "Follow" forms come
    assert "<h1" not in page


def test_the_results_partial_clears_field_messages_out_of_band(officer_client: Client) -> None:
    page = text(get(officer_client, RESULTS, name="Neumann", purpose=TRAFFIC_STOP))
    assert '<div id="id_dob-errors" hx-swap-oob="true"></div>' in page


def test_the_results_partial_sends_a_field_message_out_of_band_with_status_200(
    officer_client: Client,
) -> None:
    response = get(officer_client, RESULTS, name="Neumann", dob="1985-13-45", purpose=TRAFFIC_STOP)
    page = text(response)
    assert response.status_code == 200  # htmx swaps only successful answers
    assert '<div id="id_dob-errors" hx-swap-oob="true"><span class="usa-error-message">' in page
    assert 'data-state="invalid"' in page
    assert searches() == 0


def test_the_results_partial_pins_its_query_count(
    officer_client: Client, michaela: Person, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for number in range(8):
        person = indexed_person("Michaela", "Neuman", date(1985, 11, number + 1), sex="F")
        WarrantFactory.create(person=person, status=WarrantStatus.ACTIVE)
    with django_assert_max_num_queries(24):  # a fixed handful, however many rows
        page = text(get(officer_client, RESULTS, name="Michaela Neumann", purpose=TRAFFIC_STOP))
    assert page.count("data-person") >= 9


# ---------------------------------------------------------------------------------------
# Vehicle results


@pytest.fixture
def stolen_car() -> Vehicle:
    owner = PersonFactory.create(name="Michaela Neumann", flags=[Flag.PAROLE, Flag.WANTED])
    return add_vehicle(
        "ABC1234",
        person=owner,
        owner_name="Michaela Neumann",
        year=2019,
        make="Honda",
        model="Civic",
        color="Blue",
        vin="1HGCM82633A004352",
        registration_expires=date(2020, 5, 31),
        stolen=True,
    )


def test_vehicle_card_shows_stolen_expired_and_the_owner_with_flags_and_record_link(
    officer_client: Client, stolen_car: Vehicle
) -> None:
    page = text(get(officer_client, kind="vehicle", plate="abc 1234", purpose=TRAFFIC_STOP))
    card = page[page.index("data-vehicle") :]
    assert "CT ABC1234" in card
    assert 'data-flag="stolen">Stolen<' in card
    assert "2019 Honda Civic, Blue" in card
    assert "text-secondary-dark text-bold" in card
    assert "Registration: Expired, expired 2020-05-31" in card
    assert stolen_car.person is not None
    assert f'href="{record_url(stolen_car.person)}">Michaela Neumann</a>' in card
    assert card.index('data-flag="wanted"') < card.index('data-flag="parole"')


def test_a_valid_registration_is_not_red_and_an_owner_outside_the_index_has_no_link(
    officer_client: Client,
) -> None:
    add_vehicle("XYZ987", owner_name="Acme Rentals LLC", registration_expires=date(2999, 1, 1))
    page = text(get(officer_client, kind="vehicle", plate="XYZ987", purpose=TRAFFIC_STOP))
    card = page[page.index("data-vehicle") :]
    assert "Registration: Valid, expires 2999-01-01" in card
    assert "text-secondary-dark" not in card
    assert "Acme Rentals LLC" in card
    assert "/obts/persons/" not in card
    assert 'data-flag="stolen"' not in card


def test_a_suspended_registration_is_red(officer_client: Client) -> None:
    add_vehicle("SUS123", registration_status=RegistrationStatus.SUSPENDED)
    page = text(get(officer_client, kind="vehicle", plate="SUS123", purpose=TRAFFIC_STOP))
    assert "Registration: Suspended" in page
    assert "text-secondary-dark text-bold" in page


def test_a_bad_partial_plate_shows_the_message_and_writes_no_audit_row(
    officer_client: Client, stolen_car: Vehicle
) -> None:
    response = get(officer_client, kind="vehicle", plate="A*", purpose=TRAFFIC_STOP)
    assert response.status_code == 400
    assert "A partial plate needs at least 3 known characters." in text(response)
    assert searches() == 0


def test_no_vehicle_found_suggests_a_partial_plate(officer_client: Client) -> None:
    page = text(get(officer_client, kind="vehicle", plate="NOPE99", purpose=TRAFFIC_STOP))
    assert 'data-state="none"' in page
    assert "(ABC*)" in page


def test_vehicle_search_is_audited_with_actor_purpose_and_what_was_shown(
    officer_client: Client, officer: User, stolen_car: Vehicle
) -> None:
    get(officer_client, RESULTS, kind="vehicle", plate="ABC1234", state="ct", purpose="audit")
    event = AuditEvent.objects.get(action=VEHICLES_SEARCHED)
    assert event.actor == officer
    assert event.details["purpose"] == "audit"
    assert event.details["query"] == {"plate": "ABC1234", "state": "CT"}
    assert event.details["vehicles"] == [str(stolen_car.public_id)]


def test_the_vehicle_tab_without_a_plate_or_vin_shows_the_hint(officer_client: Client) -> None:
    page = text(get(officer_client, kind="vehicle", purpose=TRAFFIC_STOP))
    assert 'data-state="empty"' in page
    assert "partial with *" in page
    assert searches() == 0
