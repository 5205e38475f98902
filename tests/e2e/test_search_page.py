"""The search page in a real browser: an officer picks a purpose, types a misspelled name
of a wanted person, sees the card appear without pressing Enter, with the Wanted badge
first, and opens the record from it; the vehicle tab shows a stolen car the same way;
with no Content-Security-Policy violation on the way."""

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from pytest_django.live_server_helper import LiveServer

from ciss.models import Vehicle
from ciss.plates import plate_key
from obts.access import Purpose
from obts.models import Flag, Person, WarrantStatus
from obts.status import person_recompute
from portal.models import Agency
from tests.ciss.test_person_search_api import DOB, indexed_person
from tests.e2e.test_obts_pages import sign_in
from tests.obts.factories_records import ProtectiveOrderFactory, WarrantFactory, cj_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """Console messages about the Content-Security-Policy (an inline script or style that
    Chromium refused)."""
    found: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", listen)
    return found


@pytest.fixture
def michaela() -> Person:
    person = indexed_person("Michaela", "Neumann", sex="F", aliases=[("Mickey", "Neumann", DOB)])
    ProtectiveOrderFactory.create(person=person)
    WarrantFactory.create(person=person, status=WarrantStatus.ACTIVE)
    person_recompute(person)
    indexed_person("Martha", "Neumann", date(1950, 6, 7), sex="F")
    return person


def test_officer_types_a_misspelled_name_and_opens_the_wanted_persons_record(
    page: Page,
    live_server: LiveServer,
    agency: Agency,
    michaela: Person,
    csp_violations: list[str],
    screenshot_dir: Path,
) -> None:
    sign_in(page, cj_user("patrol", agency), live_server)
    page.get_by_role("link", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="Search", level=1)).to_be_visible()
    results = page.locator("#search-results")
    expect(results).to_contain_text("Type a name")

    page.get_by_label("Purpose of this search").select_option(label=Purpose.TRAFFIC_STOP.label)
    page.get_by_label("Name", exact=True).press_sequentially("Micheala Neuman", delay=30)

    # No Enter: the card arrives while the officer is still on the field.
    card = results.get_by_role("listitem").filter(
        has=page.get_by_role("link", name="Michaela Neumann")
    )
    expect(card).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/ciss/search/")
    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    badges = card.get_by_role("list", name="Flags").get_by_role("listitem")
    expect(badges.first).to_have_text("Wanted")
    expect(badges.filter(has_text="Protective order")).to_be_visible()
    expect(card).to_contain_text("Born 1985-11-11")
    page.screenshot(path=str(screenshot_dir / "search-person.png"), full_page=True)

    card.get_by_role("link", name="Michaela Neumann").click()
    expect(page).to_have_url(
        f"{live_server.url}/obts/persons/{michaela.public_id}/?purpose=traffic_stop"
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("Michaela Neumann")
    expect(page.get_by_text("Purpose: Traffic stop")).to_be_visible()
    assert csp_violations == []


def test_the_purpose_is_asked_once_and_a_bad_date_is_named_beside_its_field(
    page: Page, live_server: LiveServer, agency: Agency, michaela: Person, csp_violations: list[str]
) -> None:
    sign_in(page, cj_user("patrol", agency), live_server)
    page.goto("/ciss/search/")
    results = page.locator("#search-results")
    page.get_by_label("Name", exact=True).fill("Mickey Neumann")
    expect(results).to_contain_text("Results need a purpose")
    page.get_by_label("Purpose of this search").select_option(label=Purpose.AUDIT.label)
    expect(results).to_contain_text("matched alias Mickey Neumann")

    # Enter submits the form as a page of its own, with the purpose remembered.
    page.get_by_label("Name", exact=True).press("Enter")
    expect(page).to_have_url(re.compile(r"/ciss/search/\?.*name=Mickey\+Neumann"))
    expect(page.locator("#search-results")).to_contain_text("matched alias Mickey Neumann")
    page.goto("/ciss/search/?name=Neumann")
    expect(page.get_by_label("Purpose of this search")).to_have_value("audit")
    expect(results.get_by_role("link", name="Michaela Neumann")).to_be_visible()
    assert csp_violations == []


def test_officer_finds_a_stolen_car_and_its_wanted_owner_by_a_partial_plate(
    page: Page, live_server: LiveServer, agency: Agency, michaela: Person, csp_violations: list[str]
) -> None:
    Vehicle.objects.create(
        source_system="DMV-REG",
        source_id="CT-ABC1234",
        as_of="2026-11-01T12:00:00Z",
        plate="ABC1234",
        plate_key=plate_key("ABC1234"),
        plate_state="CT",
        person=michaela,
        owner_name="Michaela Neumann",
        make="Honda",
        registration_expires=date(2020, 5, 31),
        stolen=True,
    )
    sign_in(page, cj_user("patrol", agency), live_server)
    page.goto("/ciss/search/")
    page.get_by_role("link", name="Vehicle").click()
    page.get_by_label("Purpose of this search").select_option(label=Purpose.TRAFFIC_STOP.label)
    page.get_by_label("Plate").press_sequentially("ABC*", delay=30)

    card = page.locator("#search-results").get_by_role("listitem").filter(has_text="CT ABC1234")
    expect(card.get_by_text("Stolen", exact=True)).to_be_visible()
    expect(card).to_contain_text("Registration: Expired, expired 2020-05-31")
    owner_flags = card.get_by_role("list", name="Flags").get_by_role("listitem")
    expect(owner_flags.first).to_have_text(Flag.WANTED.label)
    card.get_by_role("link", name="Michaela Neumann").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Michaela Neumann")
    assert csp_violations == []
