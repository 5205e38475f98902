"""Event search: incident reports and court cases together, newest first, by number,
dates, agency and kind; people with roles and flags; court cases only for readers of
criminal history, sealed and juvenile ones only for readers with those claims; through
the service, ``GET /api/v1/search/events`` and the Event tab of the search page, each
search audited with its purpose and what was shown."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from ciss.event_search import EVENTS_SEARCHED, parse_query, search_events
from ciss.models import Incident
from ciss.place_search import PlaceQueryError
from obts.access import API_VISIBILITY
from obts.models import Case, Flag, Person
from obts.selectors import Visibility
from portal.models import Agency, AuditEvent, User
from portal.models.api_clients import ApiScope
from portal.roles import Claim
from tests.ciss.test_location_search import api_get, incident, page, place, text
from tests.factories import make_api_client
from tests.obts.factories_records import CaseFactory, PersonFactory, cj_user

pytestmark = pytest.mark.django_db

TRAFFIC_STOP = "traffic_stop"
NUMBER = "2026-000123"
DOCKET = "H14H-CR26-0000123"


@pytest.fixture
def search_key(agency: Agency) -> str:
    return make_api_client(agency, [ApiScope.SEARCH_READ])[1]


@pytest.fixture
def records_key(agency: Agency) -> str:
    scopes: list[str] = [ApiScope.SEARCH_READ, ApiScope.RECORDS_READ]
    return make_api_client(agency, scopes, name="Records")[1]


@pytest.fixture
def officer_client(signed_in: Callable[[User], Client], officer: User) -> Client:
    return signed_in(officer)


@pytest.fixture
def historian(signed_in: Callable[[User], Client], agency: Agency) -> Client:
    """An officer who may read criminal history."""
    return signed_in(cj_user("historian", agency, claims=[Claim.CRIMINAL_HISTORY]))


@pytest.fixture
def suspect() -> Person:
    return PersonFactory.create(name="Sid Suspect", flags=[Flag.PAROLE, Flag.WANTED])


@pytest.fixture
def burglary(suspect: Person) -> Incident:
    """A burglary on 1 March 2026 that went to court (the case arrested on 2 March)."""
    report = incident(
        NUMBER,
        kind="Burglary 3rd degree",
        at=place("12 N Main St Apt 3"),
        occurred=datetime(2026, 3, 1, 15, 0, tzinfo=UTC),
        docket=DOCKET,
        people=[("witness", "Wanda Witness"), ("suspect", suspect)],
    )
    CaseFactory.create(
        person=suspect,
        docket_number=DOCKET,
        incident_number=NUMBER,
        arrest_date=date(2026, 3, 2),
        arresting_agency_ori="CT0006400",
    )
    return report


def events(visibility: Visibility = API_VISIBILITY, cases: bool = True, **params: Any) -> list[Any]:
    return search_events(parse_query(**params), visibility=visibility, cases_visible=cases)


def test_the_incident_number_finds_the_report_and_the_case_newest_first(
    burglary: Incident,
) -> None:
    found = events(number=NUMBER.lower())
    assert [(r.kind, r.date) for r in found] == [
        ("case", date(2026, 3, 2)),
        ("incident", date(2026, 3, 1)),
    ]
    assert [r.matched for r in found] == ["incident number", "incident number"]


def test_the_docket_number_finds_the_case_and_the_report_that_carries_it(
    burglary: Incident,
) -> None:
    found = events(number=DOCKET)
    assert {r.kind for r in found} == {"incident", "case"}
    assert {r.matched for r in found} == {"docket number"}


def test_people_come_with_roles_and_flags_and_the_case_with_its_defendant(
    burglary: Incident, suspect: Person
) -> None:
    case, report = events(number=NUMBER)
    assert [(p.role, p.name) for p in report.people] == [
        ("suspect", "Sid Suspect"),
        ("witness", "Wanda Witness"),
    ]
    assert report.people[0].person.flags == ["wanted", "parole"]
    assert report.people[1].person is None
    assert [(p.role, p.person.id) for p in case.people] == [("defendant", str(suspect.public_id))]
    assert report.location == "12 N MAIN ST APT 3, HARTFORD, CT 06105"


def test_dates_agency_and_kind_narrow_the_incidents(db: None) -> None:
    incident("A-1", kind="Burglary", occurred=datetime(2026, 1, 10, 12, tzinfo=UTC))
    incident("A-2", kind="Assault", occurred=datetime(2026, 2, 10, 12, tzinfo=UTC))
    incident("A-3", kind="Burglary", occurred=datetime(2026, 2, 11, 12, tzinfo=UTC))
    incident(
        "B-1", kind="Burglary", agency="CT0009300", occurred=datetime(2026, 2, 12, 12, tzinfo=UTC)
    )
    numbers = [r.number for r in events(date_from="2026-02-01", date_to="2026-02-11")]
    assert numbers == ["A-3", "A-2"]
    assert [r.number for r in events(kind="burg", agency="ct0006400")] == ["A-3", "A-1"]


def test_a_case_is_found_by_a_charge_when_a_kind_is_given(db: None) -> None:
    case = CaseFactory.create(arrest_date=date(2026, 4, 1))
    case.charges.create(statute="53a-103", description="Burglary 3rd degree")
    CaseFactory.create(arrest_date=date(2026, 4, 2))
    assert [r.id for r in events(kind="burglary")] == [str(case.public_id)]


def test_cases_are_left_out_for_a_reader_without_criminal_history(burglary: Incident) -> None:
    assert [r.kind for r in events(number=NUMBER, cases=False)] == ["incident"]


def test_a_sealed_case_does_not_exist_for_a_reader_without_the_claim(
    burglary: Incident,
) -> None:
    Case.objects.filter(docket_number=DOCKET).update(is_sealed=True)
    assert events(number=DOCKET) == []  # neither the case nor the report's link to it
    (report,) = events(number=NUMBER)
    assert report.docket_number == ""
    sealed_reader = Visibility(criminal_history=True, sealed=True)
    assert {r.kind for r in events(sealed_reader, number=DOCKET)} == {"incident", "case"}


def test_a_juvenile_case_is_left_out_too(burglary: Incident) -> None:
    Case.objects.filter(docket_number=DOCKET).update(is_juvenile=True)
    assert [r.kind for r in events(number=NUMBER)] == ["incident"]


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({}, None),
        ({"date_from": "2026-13-01"}, "from"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "to"),
        ({"agency": "Hartford"}, "agency"),
        ({"kind": "ab"}, "kind"),
        ({"number": "--"}, "number"),
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


def test_the_api_answers_incidents_and_cases_for_a_records_key(
    client: Client, records_key: str, burglary: Incident, suspect: Person
) -> None:
    response = api_get(client, "api-search-events", records_key, number=NUMBER)
    assert response.status_code == 200
    body = response.json()
    assert [r["type"] for r in body["results"]] == ["case", "incident"]
    report = body["results"][1]
    assert report["title"] == "Burglary 3rd degree"
    assert report["people"][0] == {
        "role": "suspect",
        "name": "Sid Suspect",
        "person": {
            "id": str(suspect.public_id),
            "name": "Sid Suspect",
            "flags": ["wanted", "parole"],
        },
    }


def test_a_search_only_key_gets_no_court_cases(
    client: Client, search_key: str, burglary: Incident
) -> None:
    body = api_get(client, "api-search-events", search_key, number=NUMBER).json()
    assert [r["type"] for r in body["results"]] == ["incident"]


def test_the_api_takes_from_and_to(client: Client, search_key: str, burglary: Incident) -> None:
    inside = {"from": "2026-03-01", "to": "2026-03-01"}
    assert api_get(client, "api-search-events", search_key, **inside).json()["count"] == 1
    outside = {"from": "2026-03-02"}
    assert api_get(client, "api-search-events", search_key, **outside).json()["count"] == 0


def test_the_api_search_is_audited_with_purpose_incidents_cases_and_persons(
    client: Client, records_key: str, burglary: Incident, suspect: Person
) -> None:
    api_get(client, "api-search-events", records_key, number=NUMBER, purpose=TRAFFIC_STOP)
    event = AuditEvent.objects.get(action=EVENTS_SEARCHED)
    assert event.details["purpose"] == TRAFFIC_STOP
    assert event.details["query"] == {"number": NUMBER}
    assert event.details["incidents"] == [str(burglary.public_id)]
    assert len(event.details["cases"]) == 1
    assert event.details["persons"] == [str(suspect.public_id)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "non_field_errors"),
        ({"from": "01/03/2026"}, "from"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"agency": "HPD"}, "agency"),
        ({"number": NUMBER, "limit": "500"}, "limit"),
        ({"number": NUMBER, "purpose": "curiosity"}, "purpose"),
    ],
)
def test_bad_api_parameters_are_a_400_naming_the_field(
    client: Client, search_key: str, params: dict[str, str], field: str
) -> None:
    response = api_get(client, "api-search-events", search_key, **params)
    assert response.status_code == 400
    assert field in response.json()
    assert not AuditEvent.objects.filter(action=EVENTS_SEARCHED).exists()


def test_the_api_needs_the_search_scope(client: Client, agency: Agency) -> None:
    records_only = make_api_client(agency, [ApiScope.RECORDS_READ], name="Other")[1]
    assert api_get(client, "api-search-events", records_only, number=NUMBER).status_code == 403
    assert client.get(reverse("api-search-events"), {"number": NUMBER}).status_code == 401


def test_the_schema_documents_from_and_to(client: Client) -> None:
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/search/events"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"number", "from", "to", "agency", "kind", "limit", "purpose"} <= names


# ---------------------------------------------------------------------------------------
# The Event tab of the search page


def test_the_event_tab_has_number_dates_agency_and_kind(officer_client: Client) -> None:
    body = text(page(officer_client, kind="event"))
    for name in ("number", "date_from", "date_to", "agency", "kind_of_event"):
        assert f'name="{name}"' in body
    assert 'data-state="empty"' in body


def test_without_a_purpose_no_event_is_shown_nor_audited(
    officer_client: Client, burglary: Incident
) -> None:
    body = text(page(officer_client, kind="event", number=NUMBER))
    assert 'data-state="purpose"' in body
    assert "data-event=" not in body
    assert not AuditEvent.objects.filter(action=EVENTS_SEARCHED).exists()


def test_an_officer_without_criminal_history_sees_the_report_and_why_no_case(
    officer_client: Client, burglary: Incident, suspect: Person
) -> None:
    body = text(page(officer_client, kind="event", number=NUMBER, purpose=TRAFFIC_STOP))
    assert body.count('data-event="incident"') == 1
    assert 'data-event="case"' not in body
    assert "Criminal history data" in body
    record = reverse("obts:person", kwargs={"public_id": suspect.public_id})
    assert f"{record}?purpose={TRAFFIC_STOP}" in body
    card = body[body.index('data-event="incident"') :]
    assert card.index("Sid Suspect") < card.index("Wanda Witness")  # flagged first
    assert 'data-flag="wanted"' in card


def test_a_reader_of_criminal_history_sees_the_case_too(
    historian: Client, burglary: Incident
) -> None:
    body = text(page(historian, kind="event", number=NUMBER, purpose=TRAFFIC_STOP))
    assert body.index('data-event="case"') < body.index('data-event="incident"')
    assert f"Court case {DOCKET}" in body
    assert "Criminal history data" not in body


def test_a_page_search_is_audited_with_the_officer_and_purpose(
    officer_client: Client, officer: User, burglary: Incident
) -> None:
    page(officer_client, kind="event", number=NUMBER, purpose=TRAFFIC_STOP)
    event = AuditEvent.objects.get(action=EVENTS_SEARCHED)
    assert (event.actor, event.details["purpose"]) == (officer, TRAFFIC_STOP)
    assert event.details["incidents"] == [str(burglary.public_id)]
    assert event.details["cases"] == []


def test_a_reversed_date_range_on_the_page_says_why(officer_client: Client) -> None:
    response = page(
        officer_client,
        kind="event",
        date_from="2026-03-02",
        date_to="2026-03-01",
        purpose=TRAFFIC_STOP,
    )
    assert response.status_code == 400
    assert "To: The end of the date range is before its start." in text(response)


def test_no_event_found_suggests_what_to_try(officer_client: Client) -> None:
    body = text(page(officer_client, kind="event", number="NOPE-1", purpose=TRAFFIC_STOP))
    assert 'data-state="none"' in body
    assert "widen the dates" in body


def test_a_full_page_of_events_says_only_the_newest_ten_are_shown(
    officer_client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for day in range(1, 13):
        suspect = PersonFactory.create(flags=[Flag.WANTED])
        incident(
            f"K-{day}",
            kind="Larceny",
            occurred=datetime(2026, 5, day, 12, tzinfo=UTC),
            people=[("suspect", suspect), ("victim", "Vic Tim")],
        )
    with django_assert_max_num_queries(32):  # a fixed handful, however many events
        body = text(
            page(
                officer_client, results=True, kind="event", kind_of_event="larceny", purpose="audit"
            )
        )
    assert body.count('data-event="incident"') == 10
    assert "Showing the newest 10" in body
    assert body.index("K-12") < body.index("K-11")
