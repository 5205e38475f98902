"""Finding events: police incident reports and court cases, together, newest first.

- ``number`` is an incident number or a docket number, compared exactly (ignoring case)
  with the incidents' ``incident_number`` and ``docket_number`` and the court cases'
  ``docket_number`` and ``incident_number`` (the arresting agency's report number), so
  one number finds the report and the case that came of it.
- ``date_from`` / ``date_to`` (inclusive) bound when the incident happened or the arrest
  was made; ``agency`` is the reporting or arresting agency's ORI; ``kind`` is contained
  in the incident's kind (``burglary`` finds "Burglary 3rd degree") and, for court cases,
  in a charge's description.

Court cases are criminal history: a portal user sees them only with the criminal history
claim, an agency's system only with the ``records:read`` scope. Juvenile and sealed cases
follow ``obts.access``: without the claims for them they do not exist for the reader —
not listed, not counted, and an incident's docket number that belongs to such a case is
neither shown nor searchable.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import F, Prefetch, Q
from django.http import HttpRequest
from django.utils import timezone

from ciss.models import Incident, IncidentPerson, IncidentRole
from ciss.place_search import (
    DEFAULT_LIMIT,
    PersonSummary,
    PlaceQueryError,
    agency_names,
    check_limit,
    client_reads_records,
    people_summaries,
    reader_visibility,
    record_search,
    unique,
)
from obts.models import Case, CaseStatus
from obts.selectors import Visibility
from portal import audit
from portal.models import ApiClient, User

EVENTS_SEARCHED = "ciss.search.events"
audit.register_actions({EVENTS_SEARCHED: "CISS: events searched"})

INCIDENT, CASE = "incident", "case"
NUMBER_MAX_LENGTH = 40
KIND_MAX_LENGTH = 60
MIN_KIND = 3
PARAMETERS = ("number", "from", "to", "agency", "kind")
NOTHING_TO_SEARCH = (
    "Nothing to search on: give an incident or docket number, a date range, an agency "
    "ORI or a kind of incident."
)
_ORI = re.compile(r"^[A-Z]{2}[A-Z0-9]{7}$")
_ROLE_ORDER = list(IncidentRole.values)


@dataclass(frozen=True)
class EventQuery:
    """A validated event search, and the parameters as given (for the audit row)."""

    number: str = ""
    date_from: date | None = None
    date_to: date | None = None
    agency: str = ""
    kind: str = ""
    limit: int = DEFAULT_LIMIT
    given: dict[str, str] = field(default_factory=dict)


@dataclass
class EventPerson:
    """Someone named in an event with their role: the person in the master name index
    (with flags) when the report names one, otherwise the name as reported."""

    role: str
    role_label: str
    name: str
    person: PersonSummary | None


@dataclass
class EventResult:
    """An incident report or a court case. ``number`` is how it is named: the incident
    number, or the docket (the incident number while the court has assigned none)."""

    kind: str
    id: str
    number: str
    date: date | None
    agency_ori: str
    agency_name: str
    title: str
    status: str
    incident_number: str
    docket_number: str
    court_code: str = ""
    location: str = ""
    location_key: str = ""
    people: list[EventPerson] = field(default_factory=list)
    matched: str = ""

    @property
    def flagged(self) -> bool:
        return any(p.person is not None and p.person.flags for p in self.people)


def _date(name: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PlaceQueryError(name, "Give the date as YYYY-MM-DD.") from None


def parse_query(
    *,
    number: str = "",
    date_from: str = "",
    date_to: str = "",
    agency: str = "",
    kind: str = "",
    limit: int = DEFAULT_LIMIT,
) -> EventQuery:
    """Validate what was asked; raises :class:`PlaceQueryError`. Dates are YYYY-MM-DD."""
    values = {"number": number, "from": date_from, "to": date_to, "agency": agency}
    values |= {"kind": kind}
    given = {name: value.strip() for name, value in values.items() if value.strip()}
    number = given.get("number", "")
    if len(number) > NUMBER_MAX_LENGTH or (number and not re.search(r"[A-Za-z0-9]", number)):
        raise PlaceQueryError(
            "number",
            f"An incident or docket number has letters and digits, at most "
            f"{NUMBER_MAX_LENGTH} characters.",
        )
    start, end = _date("from", given.get("from", "")), _date("to", given.get("to", ""))
    if start and end and start > end:
        raise PlaceQueryError("to", "The end of the date range is before its start.")
    ori = given.get("agency", "").upper()
    if ori and not _ORI.match(ori):
        raise PlaceQueryError(
            "agency",
            "An ORI is the two-letter state code and seven letters or digits, such as CT0006400.",
        )
    kind = given.get("kind", "")
    if kind and not MIN_KIND <= len(kind) <= KIND_MAX_LENGTH:
        raise PlaceQueryError(
            "kind", f"Give {MIN_KIND} to {KIND_MAX_LENGTH} characters of the kind."
        )
    query = EventQuery(
        number=number,
        date_from=start,
        date_to=end,
        agency=ori,
        kind=kind,
        limit=check_limit(limit),
        given=given,
    )
    if not (number or start or end or ori or kind):
        raise PlaceQueryError(None, NOTHING_TO_SEARCH)
    return query


def _spellings(number: str) -> list[str]:
    """The number as typed and in capitals and small letters: stored numbers are compared
    exactly (which their indexes answer), and sources write them in capitals."""
    return list(dict.fromkeys((number, number.upper(), number.lower())))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _incident_condition(query: EventQuery, hidden_dockets: set[str]) -> Q:
    condition = Q()
    if query.number:
        by_number = Q(incident_number__in=_spellings(query.number))
        if query.number.upper() not in hidden_dockets:
            by_number |= Q(docket_number__in=_spellings(query.number))
        condition &= by_number
    if query.date_from:
        condition &= Q(occurred_at__gte=_day_start(query.date_from))
    if query.date_to:
        condition &= Q(occurred_at__lt=_day_start(query.date_to + timedelta(days=1)))
    if query.agency:
        condition &= Q(agency_ori=query.agency)
    if query.kind:
        condition &= Q(kind__icontains=query.kind)
    return condition


def _case_condition(query: EventQuery, visibility: Visibility) -> Q:
    condition = visibility.case_filter()
    if query.number:
        spellings = _spellings(query.number)
        condition &= Q(docket_number__in=spellings) | Q(incident_number__in=spellings)
    if query.date_from:
        condition &= Q(arrest_date__gte=query.date_from)
    if query.date_to:
        condition &= Q(arrest_date__lte=query.date_to)
    if query.agency:
        condition &= Q(arresting_agency_ori=query.agency)
    if query.kind:
        condition &= Q(charges__description__icontains=query.kind)
    return condition


def _hidden_dockets(query: EventQuery, visibility: Visibility) -> set[str]:
    """Docket numbers of cases the reader may not see, among the incidents' dockets a
    search could show (one query; none when the reader sees every case)."""
    hiding = visibility.case_filter()
    if not hiding:
        return set()
    dockets = Incident.objects.filter(_incident_condition(query, set())).exclude(docket_number="")
    hidden = Case.objects.filter(~hiding, docket_number__in=dockets.values("docket_number"))
    return {docket.upper() for docket in hidden.values_list("docket_number", flat=True)}


def search_events(
    query: EventQuery,
    *,
    visibility: Visibility,
    cases_visible: bool,
    today: date | None = None,
) -> list[EventResult]:
    """Incidents and, when ``cases_visible``, the court cases ``visibility`` lets through,
    newest first, at most ``query.limit`` in all. A fixed number of queries."""
    hidden = _hidden_dockets(query, visibility)
    incidents = list(
        Incident.objects.filter(_incident_condition(query, hidden))
        .select_related("location")
        .prefetch_related(Prefetch("people", queryset=IncidentPerson.objects.order_by("pk")))
        .order_by(F("occurred_at").desc(nulls_last=True), "-pk")[: query.limit]
    )
    cases: list[Case] = []
    if cases_visible:
        cases = list(
            Case.objects.filter(_case_condition(query, visibility))
            .distinct()
            .order_by(F("arrest_date").desc(nulls_last=True), "-pk")[: query.limit]
        )
    person_ids = [p.person_id for i in incidents for p in i.people.all() if p.person_id]
    people = people_summaries(
        [*person_ids, *(case.person_id for case in cases)],
        visibility,
        today or timezone.localdate(),
    )
    names = agency_names(
        [*(i.agency_ori for i in incidents), *(case.arresting_agency_ori for case in cases)]
    )
    results = [_incident_result(i, query, people, names, hidden) for i in incidents]
    results += [_case_result(case, query, people, names) for case in cases]
    results.sort(key=lambda r: (r.date is not None, r.date or date.min), reverse=True)
    return results[: query.limit]


def _incident_result(
    incident: Incident,
    query: EventQuery,
    people: dict[int, PersonSummary],
    names: dict[str, str],
    hidden: set[str],
) -> EventResult:
    when = incident.occurred_at or incident.reported_at
    docket = "" if incident.docket_number.upper() in hidden else incident.docket_number
    involved = sorted(incident.people.all(), key=lambda p: _ROLE_ORDER.index(p.role))
    location = incident.location
    return EventResult(
        kind=INCIDENT,
        id=str(incident.public_id),
        number=incident.incident_number,
        date=timezone.localdate(when) if when else None,
        agency_ori=incident.agency_ori,
        agency_name=names.get(incident.agency_ori, ""),
        title=incident.kind or "Incident",
        status=incident.status,
        incident_number=incident.incident_number,
        docket_number=docket,
        location=str(location) if location is not None else incident.location_text,
        location_key=location.key if location is not None else "",
        people=[
            EventPerson(
                role=p.role,
                role_label=p.get_role_display(),
                name=people[p.person_id].name if p.person_id else p.name,
                person=people[p.person_id] if p.person_id else None,
            )
            for p in involved
        ],
        matched=_why(query, incident.incident_number, docket),
    )


def _case_result(
    case: Case, query: EventQuery, people: dict[int, PersonSummary], names: dict[str, str]
) -> EventResult:
    defendant = people[case.person_id]
    return EventResult(
        kind=CASE,
        id=str(case.public_id),
        number=case.docket_number or case.incident_number,
        date=case.arrest_date,
        agency_ori=case.arresting_agency_ori,
        agency_name=names.get(case.arresting_agency_ori, ""),
        title="Court case",
        status=CaseStatus(case.status).label if case.status in CaseStatus.values else "",
        incident_number=case.incident_number,
        docket_number=case.docket_number,
        court_code=case.court_code,
        people=[EventPerson("defendant", "Defendant", defendant.name, defendant)],
        matched=_why(query, case.incident_number, case.docket_number),
    )


def _why(query: EventQuery, incident_number: str, docket_number: str) -> str:
    if not query.number:
        return "date, agency or kind"
    if incident_number.upper() == query.number.upper():
        return "incident number"
    if docket_number.upper() == query.number.upper():
        return "docket number"
    return "number"


@transaction.atomic
def events_search(
    query: EventQuery,
    *,
    purpose: str = "",
    api_client: ApiClient | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> list[EventResult]:
    """Run ``query`` for an agency's system (``api_client``) or a portal user (``actor``)
    and audit it: what was asked, why, and the incidents, cases and persons shown. Court
    cases are searched only for a user with the criminal history claim or a system with
    the ``records:read`` scope. The audit row is written last, in the same transaction."""
    visibility = reader_visibility(api_client=api_client, actor=actor)
    if api_client is not None:
        cases_visible = client_reads_records(api_client)
    else:
        cases_visible = visibility.criminal_history
    results = search_events(query, visibility=visibility, cases_visible=cases_visible)
    record_search(
        EVENTS_SEARCHED,
        object_type="ciss.incident",
        query=query.given,
        purpose=purpose,
        shown={
            "incidents": [r.id for r in results if r.kind == INCIDENT],
            "cases": [r.id for r in results if r.kind == CASE],
            "persons": unique(
                p.person.id for r in results for p in r.people if p.person is not None
            ),
        },
        count=len(results),
        api_client=api_client,
        actor=actor,
        request=request,
    )
    return results
