"""Statistical reports: who reaches them, what each counts, CSV export, audit."""

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse

from obts import reports
from obts.models import CustodyStatus, PersonStatus, SupervisionKind
from portal.models import Agency, AuditEvent, User
from portal.roles import Role
from tests.obts.factories_records import (
    CaseFactory,
    CustodyFactory,
    PersonFactory,
    ProtectiveOrderFactory,
    SupervisionFactory,
    WarrantFactory,
    cj_user,
)

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

SignIn = Callable[[User], Client]
PERIOD = reports.Period(start=date(2025, 1, 1), end=date(2025, 12, 31))
RANGE = {"start": "2025-01-01", "end": "2025-12-31"}


def rows(report: reports.Report) -> list[list[reports.Cell]]:
    return report.rows


# ---------------------------------------------------------------------------------------
# Who reaches them


def test_anonymous_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(reverse("obts:reports"))
    assert response.status_code == 302


def test_outsider_gets_403(signed_in: SignIn, outsider: User) -> None:
    assert signed_in(outsider).get(reverse("obts:reports")).status_code == 403


def test_officer_gets_403(signed_in: SignIn, officer: User) -> None:
    assert signed_in(officer).get(reverse("obts:reports")).status_code == 403


@pytest.mark.parametrize(
    "role", [Role.AUDITOR, Role.CJIS_SECURITY, Role.ADMINISTRATOR, Role.AGENCY_MANAGER]
)
def test_report_roles_see_every_report(signed_in: SignIn, agency: Agency, role: str) -> None:
    response = signed_in(cj_user("reader", agency, roles=[role])).get(reverse("obts:reports"))
    assert response.status_code == 200
    assert [report.slug for report in response.context["reports"]] == list(reports.REPORTS)


def test_post_is_not_allowed(signed_in: SignIn, auditor: User) -> None:
    assert signed_in(auditor).post(reverse("obts:reports")).status_code == 405


def test_start_after_end_is_refused(signed_in: SignIn, auditor: User) -> None:
    response = signed_in(auditor).get(
        reverse("obts:reports"), {"start": "2025-02-01", "end": "2025-01-01"}
    )
    assert response.status_code == 400
    assert "must not be after" in response.content.decode()


def test_viewing_is_audited_with_the_period(signed_in: SignIn, auditor: User) -> None:
    signed_in(auditor).get(reverse("obts:reports"), RANGE)
    event = AuditEvent.objects.get(action=reports.REPORT_VIEWED)
    assert event.actor == auditor
    assert event.details == {"start": "2025-01-01", "end": "2025-12-31"}


def test_page_runs_one_query_per_report(
    signed_in: SignIn, auditor: User, django_assert_max_num_queries: Any
) -> None:
    client = signed_in(auditor)
    with django_assert_max_num_queries(5 + len(reports.REPORTS) + 9):
        client.get(reverse("obts:reports"), RANGE)


# ---------------------------------------------------------------------------------------
# Charts

CHART_TITLES = {
    "people-by-status": "People by status",
    "arrests-by-agency": "Arrests per month, all agencies",
    "active-orders": "Active protective orders by issuing court",
    "active-warrants": "Active warrants by court",
    "custody-population": "People in custody by facility",
    "supervision-caseload": "People supervised by office",
}


@pytest.fixture
def something_to_count() -> None:
    PersonFactory.create(status=PersonStatus.ON_PAROLE)
    CaseFactory.create(arresting_agency_ori="CT0006400", arrest_date=date(2025, 3, 1))
    ProtectiveOrderFactory.create(issuing_court="GA14", expires_on=None)
    WarrantFactory.create(court="GA14")
    CustodyFactory.create(facility="HCC", admitted_on=date(2025, 6, 1), released_on=None)
    SupervisionFactory.create(office="Hartford", start_date=date(2025, 1, 1))


def charts_on(page: str) -> dict[str, str]:
    """Each chart image on the page: its report's slug and the chart's title."""
    svgs = re.findall(r'<svg [^>]*role="img"[^>]*data-chart="chart-([a-z-]+)"[^>]*>', page)
    titles = dict(re.findall(r'<title id="chart-([a-z-]+)-title">([^<]+)</title>', page))
    return {slug: titles.get(slug, "") for slug in svgs}


@pytest.mark.usefixtures("something_to_count")
def test_every_report_has_a_chart_image_with_a_title(signed_in: SignIn, auditor: User) -> None:
    page = signed_in(auditor).get(reverse("obts:reports"), RANGE).content.decode()
    assert charts_on(page) == CHART_TITLES


@pytest.mark.usefixtures("something_to_count")
def test_each_chart_comes_before_the_table_of_its_report(signed_in: SignIn, auditor: User) -> None:
    page = signed_in(auditor).get(reverse("obts:reports"), RANGE).content.decode()
    for slug in reports.REPORTS:
        section = page.index(f'<h2 id="{slug}">')
        chart = page.index(f'data-chart="chart-{slug}"')
        table = page.index(f'data-report="{slug}"')
        assert section < chart < table


def test_chart_description_names_the_largest_bar(signed_in: SignIn, auditor: User) -> None:
    PersonFactory.create_batch(3, status=PersonStatus.ON_PAROLE)
    CaseFactory.create_batch(2, arrest_date=date(2025, 3, 1))
    page = signed_in(auditor).get(reverse("obts:reports"), RANGE).content.decode()
    assert "Largest: On parole, 3 of 5." in page
    assert "Highest: 2025-03, 2 of 2." in page


def test_report_without_rows_has_no_chart(signed_in: SignIn, auditor: User) -> None:
    page = signed_in(auditor).get(reverse("obts:reports"), RANGE).content.decode()
    # People by status always has a row per status, if only zeros.
    assert list(charts_on(page)) == ["people-by-status"]
    assert page.count("Nothing to count for this period.") == len(reports.REPORTS) - 1


# ---------------------------------------------------------------------------------------
# What each report counts


def test_people_by_status_counts_everyone_not_merged_away() -> None:
    survivor = PersonFactory.create(status=PersonStatus.ON_PAROLE)
    PersonFactory.create(status=PersonStatus.ON_PAROLE, merged_into=survivor)
    PersonFactory.create()
    counts = {row[0]: row[1] for row in rows(reports.people_by_status(PERIOD))}
    assert counts["On parole"] == 1
    assert counts["No active involvement"] == 1


def test_arrests_are_counted_by_agency_and_month_within_the_range() -> None:
    CaseFactory.create(arresting_agency_ori="CT0006400", arrest_date=date(2025, 3, 1))
    CaseFactory.create(arresting_agency_ori="CT0006400", arrest_date=date(2025, 3, 31))
    CaseFactory.create(arresting_agency_ori="CT0009300", arrest_date=date(2025, 4, 2))
    CaseFactory.create(arresting_agency_ori="CT0006400", arrest_date=date(2024, 12, 31))
    assert rows(reports.arrests_by_agency_by_month(PERIOD)) == [
        ["CT0006400", "2025-03", 2],
        ["CT0009300", "2025-04", 1],
    ]


def test_sealed_arrests_are_not_counted() -> None:
    CaseFactory.create(arrest_date=date(2025, 3, 1), is_sealed=True)
    assert rows(reports.arrests_by_agency_by_month(PERIOD)) == []


def test_active_orders_leave_out_expired_and_vacated_ones() -> None:
    ProtectiveOrderFactory.create(issuing_court="GA14", expires_on=None)
    ProtectiveOrderFactory.create(issuing_court="GA14", expires_on=date(2025, 12, 31))
    ProtectiveOrderFactory.create(issuing_court="GA14", expires_on=date(2025, 12, 30))
    ProtectiveOrderFactory.create(issuing_court="GA14", status="vacated")
    assert rows(reports.active_protective_orders(PERIOD)) == [["GA14", "protective", 2]]


def test_active_warrants_are_counted_by_court() -> None:
    WarrantFactory.create(court="GA14")
    WarrantFactory.create(court="GA14", status="served", served_on=date(2025, 5, 1))
    WarrantFactory.create(court="GA14", issued_on=date(2026, 1, 1))
    assert rows(reports.active_warrants(PERIOD)) == [["GA14", "paperless re-arrest", 1]]


def test_custody_population_counts_who_is_in_on_the_last_day() -> None:
    CustodyFactory.create(facility="HCC", admitted_on=date(2025, 6, 1), released_on=None)
    CustodyFactory.create(
        facility="HCC",
        custody_status=CustodyStatus.SENTENCED,
        admitted_on=date(2025, 6, 1),
        released_on=date(2026, 1, 5),
    )
    CustodyFactory.create(
        facility="HCC", admitted_on=date(2025, 6, 1), released_on=date(2025, 12, 31)
    )
    CustodyFactory.create(facility="HCC", admitted_on=date(2026, 1, 2), released_on=None)
    assert rows(reports.custody_population(PERIOD)) == [["HCC", 1, 1, 2]]


def test_supervision_caseload_counts_active_supervision_by_office() -> None:
    SupervisionFactory.create(office="Hartford", start_date=date(2025, 1, 1))
    SupervisionFactory.create(
        office="Hartford", kind=SupervisionKind.PAROLE, start_date=date(2025, 1, 1)
    )
    SupervisionFactory.create(office="Hartford", status="completed", start_date=date(2025, 1, 1))
    assert rows(reports.supervision_caseload(PERIOD)) == [
        ["Hartford", "Parole (BOPP)", 1],
        ["Hartford", "Probation (CSSD)", 1],
    ]


# ---------------------------------------------------------------------------------------
# CSV


def export(client: Client, report: str, **params: str) -> "Response":
    return client.get(reverse("obts:report_export"), {"report": report, **RANGE, **params})


def test_export_is_a_csv_with_the_report_columns(signed_in: SignIn, auditor: User) -> None:
    WarrantFactory.create(court="GA14")
    response = export(signed_in(auditor), "active-warrants")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table == [["Court", "Kind", "Warrants"], ["GA14", "paperless re-arrest", "1"]]


def test_export_is_audited_with_the_report(signed_in: SignIn, auditor: User) -> None:
    export(signed_in(auditor), "active-warrants")
    event = AuditEvent.objects.get(action=reports.REPORT_EXPORTED)
    assert event.details["report"] == "active-warrants"


def test_export_of_unknown_report_is_404(signed_in: SignIn, auditor: User) -> None:
    assert export(signed_in(auditor), "everyone").status_code == 404


def test_export_escapes_values_a_spreadsheet_would_run(signed_in: SignIn, auditor: User) -> None:
    WarrantFactory.create(court="=HYPERLINK(1)")
    content = export(signed_in(auditor), "active-warrants").content.decode()
    assert "'=HYPERLINK(1)" in content


def test_officer_cannot_export(signed_in: SignIn, officer: User) -> None:
    assert export(signed_in(officer), "active-warrants").status_code == 403
