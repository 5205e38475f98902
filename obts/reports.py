"""Statistical and administrative reports over OBTS records: counts only, never a person.

Each report is one aggregate query. The date range means, per report:

- people by status: a snapshot of the current status of every person not merged away
  (the range does not apply);
- arrests by agency by month: cases whose arrest date falls in the range;
- active protective orders and active warrants: active on the last day of the range
  (for orders, not expired by then), issued within the range or before it;
- custody population by facility: people in custody on the last day of the range;
- supervision caseload: supervisions running on the last day of the range, by office
  and kind.

Sealed cases are left out of every count (sealed records are not disseminated, not even
as numbers); juvenile cases are counted, as no person is identified.

Each report also says how it is charted (``ChartSpec``); ``obts.charts`` draws it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from obts.models import (
    Case,
    CustodyPeriod,
    CustodyStatus,
    OrderStatus,
    Person,
    PersonStatus,
    ProtectiveOrder,
    Supervision,
    SupervisionStatus,
    Warrant,
    WarrantStatus,
)
from portal import audit

REPORT_VIEWED = "obts.report.viewed"
REPORT_EXPORTED = "obts.report.exported"
audit.register_actions(
    {REPORT_VIEWED: "OBTS: statistical reports viewed", REPORT_EXPORTED: "OBTS: report exported"}
)

Cell = str | int


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def describe(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


@dataclass(frozen=True)
class ChartSpec:
    """How a report is charted: its last column (the count) added up by the column ``by``.

    ``over_time`` charts keep the order of ``categories`` (months) and are never capped;
    the others are sorted largest first. ``categories`` are charted even without a row
    (as 0), so a month without arrests still has its place on the axis.
    """

    title: str
    by: int = 0
    over_time: bool = False
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    scope: str
    columns: list[str]
    rows: list[list[Cell]]
    chart: ChartSpec

    @property
    def labelled_rows(self) -> list[list[tuple[str, Cell]]]:
        return [list(zip(self.columns, row, strict=True)) for row in self.rows]

    @property
    def total(self) -> int:
        return sum(int(row[-1]) for row in self.rows)


def people_by_status(period: Period) -> Report:
    counts = dict(
        Person.objects.filter(merged_into__isnull=True)
        .values_list("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    return Report(
        slug="people-by-status",
        title="People by status",
        scope="Current status of every person (the date range does not apply).",
        columns=["Status", "People"],
        rows=[[label, counts.get(value, 0)] for value, label in PersonStatus.choices],
        chart=ChartSpec(title="People by status"),
    )


def arrests_by_agency_by_month(period: Period) -> Report:
    rows = (
        Case.objects.filter(
            is_sealed=False, arrest_date__gte=period.start, arrest_date__lte=period.end
        )
        .annotate(month=TruncMonth("arrest_date"))
        .values("arresting_agency_ori", "month")
        .annotate(count=Count("pk"))
        .order_by("arresting_agency_ori", "month")
    )
    return Report(
        slug="arrests-by-agency",
        title="Arrests by agency by month",
        scope=f"Cases with an arrest date from {period.describe()}.",
        columns=["Agency (ORI)", "Month", "Arrests"],
        rows=[
            [
                row["arresting_agency_ori"] or "Not recorded",
                row["month"].strftime("%Y-%m"),
                row["count"],
            ]
            for row in rows
        ],
        chart=ChartSpec(
            title="Arrests per month, all agencies",
            by=1,
            over_time=True,
            categories=_months(period),
        ),
    )


def _months(period: Period) -> tuple[str, ...]:
    """Every month the period touches, as ``YYYY-MM``, oldest first."""
    months = []
    year, month = period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


def active_protective_orders(period: Period) -> Report:
    rows = (
        ProtectiveOrder.objects.filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=period.end),
            status=OrderStatus.ACTIVE,
            issued_on__lte=period.end,
        )
        .values("issuing_court", "kind")
        .annotate(count=Count("pk"))
        .order_by("issuing_court", "kind")
    )
    return Report(
        slug="active-orders",
        title="Active protective orders",
        scope=f"Orders active and unexpired on {period.end.isoformat()}, by issuing court.",
        columns=["Issuing court", "Kind", "Orders"],
        rows=[[row["issuing_court"] or "Not recorded", row["kind"], row["count"]] for row in rows],
        chart=ChartSpec(title="Active protective orders by issuing court"),
    )


def active_warrants(period: Period) -> Report:
    rows = (
        Warrant.objects.filter(status=WarrantStatus.ACTIVE, issued_on__lte=period.end)
        .values("court", "kind")
        .annotate(count=Count("pk"))
        .order_by("court", "kind")
    )
    return Report(
        slug="active-warrants",
        title="Active warrants",
        scope=f"Warrants active and issued on or before {period.end.isoformat()}, by court.",
        columns=["Court", "Kind", "Warrants"],
        rows=[[row["court"] or "Not recorded", row["kind"], row["count"]] for row in rows],
        chart=ChartSpec(title="Active warrants by court"),
    )


def custody_population(period: Period) -> Report:
    on = period.end
    rows = (
        CustodyPeriod.objects.filter(
            Q(released_on__isnull=True) | Q(released_on__gt=on), admitted_on__lte=on
        )
        .values("facility")
        .annotate(
            pretrial=Count("pk", filter=Q(custody_status=CustodyStatus.PRETRIAL)),
            sentenced=Count("pk", filter=Q(custody_status=CustodyStatus.SENTENCED)),
            count=Count("pk"),
        )
        .order_by("facility")
    )
    return Report(
        slug="custody-population",
        title="Custody population by facility",
        scope=f"People in custody on {on.isoformat()}.",
        columns=["Facility", "Pretrial", "Sentenced", "Total"],
        rows=[[row["facility"], row["pretrial"], row["sentenced"], row["count"]] for row in rows],
        chart=ChartSpec(title="People in custody by facility"),
    )


def supervision_caseload(period: Period) -> Report:
    on = period.end
    rows = (
        Supervision.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=on),
            start_date__lte=on,
            status=SupervisionStatus.ACTIVE,
        )
        .values("office", "kind")
        .annotate(count=Count("pk"))
        .order_by("office", "kind")
    )
    labels = dict(Supervision._meta.get_field("kind").flatchoices)
    return Report(
        slug="supervision-caseload",
        title="Supervision caseload",
        scope=f"Active supervisions on {on.isoformat()}, by office.",
        columns=["Office", "Kind", "People supervised"],
        rows=[
            [
                row["office"] or "Not recorded",
                str(labels.get(row["kind"], row["kind"])),
                row["count"],
            ]
            for row in rows
        ],
        chart=ChartSpec(title="People supervised by office"),
    )


REPORTS: dict[str, Callable[[Period], Report]] = {
    "people-by-status": people_by_status,
    "arrests-by-agency": arrests_by_agency_by_month,
    "active-orders": active_protective_orders,
    "active-warrants": active_warrants,
    "custody-population": custody_population,
    "supervision-caseload": supervision_caseload,
}


def reports_all(period: Period) -> list[Report]:
    """Every report for ``period``, one query each."""
    return [build(period) for build in REPORTS.values()]


def report_build(slug: str, period: Period) -> Report:
    """One report by its slug; KeyError for an unknown one."""
    return REPORTS[slug](period)
