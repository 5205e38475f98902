"""OBTS pages in a real browser: an officer states a purpose and reads a wanted person's
record; a reader without the criminal-history claim does not see the cases; an auditor
reads a report's chart and table and downloads it as CSV, with no Content-Security-Policy
violation on the way."""

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from pytest_django.live_server_helper import LiveServer

from obts.access import Purpose
from obts.models import PersonStatus
from portal.models import Agency, User
from portal.roles import Claim, Role
from tests.e2e.test_signin_flow import sign_in_with_device
from tests.obts.factories_records import (
    CaseFactory,
    PersonFactory,
    Subject,
    cj_user,
    subject_with_every_kind_of_record,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def subject() -> Subject:
    """Casey Subject: an active warrant (so "Wanted"), the adult case ADULT-0001 and more."""
    return subject_with_every_kind_of_record()


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """Console messages about the Content-Security-Policy, which Chromium writes when it
    refuses an inline script or style (an SVG ``style`` attribute, say)."""
    found: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", listen)
    return found


def sign_in(page: Page, user: User, live_server: LiveServer) -> None:
    sign_in_with_device(page, user)
    expect(page).to_have_url(f"{live_server.url}/")


def open_record(page: Page, subject: Subject, purpose_label: str) -> None:
    page.goto(f"/obts/persons/{subject.person.public_id}/")
    expect(page.get_by_role("heading", name="Why are you looking at this record?")).to_be_visible()
    page.get_by_label("Purpose of this look-up").select_option(label=purpose_label)
    page.get_by_role("button", name="Show the record").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Casey Subject")


# ---------------------------------------------------------------------------------------
# The person record


def test_officer_states_a_purpose_and_sees_wanted_first_the_timeline_and_the_cases(
    page: Page, live_server: LiveServer, agency: Agency, subject: Subject, csp_violations: list[str]
) -> None:
    officer = cj_user("historian", agency, claims=[Claim.CRIMINAL_HISTORY])
    sign_in(page, officer, live_server)

    open_record(page, subject, Purpose.TRAFFIC_STOP.label)

    expect(page.get_by_text("Purpose: Traffic stop")).to_be_visible()
    flags = page.get_by_role("list", name="Flags").get_by_role("listitem")
    expect(flags.first).to_have_text("Wanted")
    expect(flags.filter(has_text="Officer caution")).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_role("row").filter(has_text="Arrested by CT0006400")).to_contain_text(
        "2025-01-10"
    )
    expect(timeline.get_by_role("row").filter(has_text="warrant")).not_to_have_count(0)
    cases = page.get_by_role("region", name="Cases and charges")
    expect(cases.get_by_role("heading", name="Docket ADULT-0001")).to_be_visible()
    expect(cases.get_by_role("table", name="Charges on docket ADULT-0001")).to_contain_text(
        "53a-125b"
    )
    assert csp_violations == []


def test_reader_without_the_criminal_history_claim_does_not_see_the_cases(
    page: Page, live_server: LiveServer, agency: Agency, subject: Subject, csp_violations: list[str]
) -> None:
    officer = cj_user("patrol", agency, roles=[Role.OFFICER])
    sign_in(page, officer, live_server)

    open_record(page, subject, Purpose.CRIMINAL_INVESTIGATION.label)

    expect(page.get_by_role("list", name="Flags").get_by_role("listitem").first).to_have_text(
        "Wanted"
    )
    cases = page.get_by_role("region", name="Cases and charges")
    expect(cases).to_contain_text(f"need the “{Claim.CRIMINAL_HISTORY.label}” claim")
    expect(cases.locator("[data-case]")).to_have_count(0)
    expect(page.get_by_text("ADULT-0001")).to_have_count(0)
    expect(page.get_by_text("53a-125b")).to_have_count(0)
    # Warrants are not criminal history: officer safety keeps them in view.
    expect(page.get_by_role("region", name="Warrants")).to_contain_text("W-0001")
    assert csp_violations == []


# ---------------------------------------------------------------------------------------
# Reports


def test_auditor_reads_the_chart_and_table_of_people_by_status_and_downloads_the_csv(
    page: Page,
    live_server: LiveServer,
    agency: Agency,
    csp_violations: list[str],
    screenshot_dir: Path,
) -> None:
    PersonFactory.create_batch(3, status=PersonStatus.ON_PAROLE)
    PersonFactory.create_batch(2, status=PersonStatus.RELEASED)
    CaseFactory.create(arrest_date=date(2025, 3, 1))  # and its person, with no status
    auditor = cj_user("auditor", agency, roles=[Role.AUDITOR])
    sign_in(page, auditor, live_server)

    page.goto("/obts/reports/")
    page.get_by_role("textbox", name="From").fill("2025-01-01")
    page.get_by_role("textbox", name="To").fill("2025-12-31")
    page.get_by_role("button", name="Show reports").click()
    expect(page.get_by_text("Period: 2025-01-01 to 2025-12-31.")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "reports.png"), full_page=True)

    section = page.get_by_role("region", name="People by status")
    chart = section.get_by_role("img", name="People by status")
    expect(chart).to_be_visible()
    expect(chart.locator("desc")).to_contain_text("Largest: On parole, 3 of 6.")
    expect(chart.locator("rect.obts-chart__bar")).to_have_count(len(PersonStatus.choices))
    expect(chart.locator("rect.obts-chart__bar").first).to_have_css("fill", "rgb(0, 94, 162)")
    table = section.get_by_role("table", name="People by status")
    expect(table).to_be_visible()
    expect(table.get_by_role("row").filter(has_text="On parole")).to_contain_text("3")
    total = table.locator("tfoot td").inner_text()
    assert total == "6"
    expect(page.get_by_role("img", name="Arrests per month, all agencies")).to_be_visible()

    with page.expect_download() as download_info:
        section.get_by_role("link", name="Download “People by status” as CSV").click()
    download = download_info.value
    assert download.suggested_filename == "obts-people-by-status-2025-01-01-2025-12-31.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == ["Status", "People"]
    assert ["On parole", "3"] in rows
    assert sum(int(count) for _, count in rows[1:]) == int(total)
    assert csp_violations == []
