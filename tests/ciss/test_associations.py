"""Associations: what is linked to a person, vehicle, address, property item, event or
court case, two links out — the page (purpose first, picture, list by kind, audit row),
the API (shape, scope, audit) and the bounds that keep a busy address from blowing up
the page or the number of queries."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ciss.associations import ASSOCIATIONS_VIEWED, MAX_NAMED, Kind, associations
from ciss.models import (
    Incident,
    IncidentPerson,
    IncidentRole,
    IncidentVehicle,
    Location,
    PropertyCategory,
    PropertyItem,
    PropertyStatus,
    Vehicle,
    VehicleRole,
)
from ciss.plates import plate_key
from obts.access import RECORD_VIEWED, Purpose
from obts.addresses import normalize_address, typed_location_key
from obts.models import Address, Case, Flag, Person, PersonSource
from obts.selectors import Visibility
from portal.models import Agency, AuditEvent, User
from portal.models.api_clients import ApiScope
from portal.roles import Claim
from tests.factories import make_api_client
from tests.obts.factories_records import CaseFactory, PersonFactory, cj_user

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

SignIn = Callable[[User], Client]
AS_OF = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
ORI = "CT0006400"
EVERYTHING = Visibility(criminal_history=True, juvenile=True, sealed=True, registry=True)
_serial = iter(range(1, 1_000_000))


def _next() -> str:
    return str(next(_serial))


# ---------------------------------------------------------------------------------------
# Records, made with the ORM (the incident feeds are written elsewhere)


def person(name: str, *, flags: list[str] | None = None) -> Person:
    made = PersonFactory.create(name=name)
    if flags:
        made.flags = flags
        made.save(update_fields=["flags"])
    return made


def address(
    who: Person, line1: str = "12 North Main Street", *, source: str = "DPS-MNI", **fields: Any
) -> Address:
    origin = PersonSource.objects.create(
        person=who, source_system=source, source_id=f"{source}-{_next()}", as_of=AS_OF
    )
    return Address.objects.create(
        person=who, source=origin, line1=line1, city="Hartford", state="CT", **fields
    )


def place(line1: str = "12 North Main Street") -> Location:
    parts = normalize_address(line1, "", "Hartford", "CT", "")
    found, _ = Location.objects.get_or_create(
        key=parts.key,
        defaults={
            "street_number": parts.street_number,
            "street_name": parts.street_name,
            "city": parts.city,
            "state": parts.state,
        },
    )
    return found


def incident(
    *, kind: str = "Burglary", number: str | None = None, at: Location | None = None
) -> Incident:
    return Incident.objects.create(
        source_system="RMS-HPD",
        source_id=f"I-{_next()}",
        as_of=AS_OF,
        incident_number=number or f"2026-{_next():0>6}",
        agency_ori=ORI,
        kind=kind,
        occurred_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        location=at,
    )


def named(event: Incident, who: Person, role: str) -> IncidentPerson:
    return IncidentPerson.objects.create(incident=event, person=who, role=role)


def vehicle(owner: Person | None, plate: str = "ABC1234") -> Vehicle:
    return Vehicle.objects.create(
        source_system="DMV-REG",
        source_id=f"V-{_next()}",
        as_of=AS_OF,
        person=owner,
        plate=plate,
        plate_key=plate_key(plate),
        plate_state="CT",
        make="Honda",
        model="Civic",
    )


def item(**fields: Any) -> PropertyItem:
    return PropertyItem.objects.create(
        source_system="RMS-HPD",
        source_id=f"P-{_next()}",
        as_of=AS_OF,
        category=PropertyCategory.FIREARM,
        serial_number=f"SN{_next()}",
        make="Glock",
        model="19",
        agency_ori=ORI,
        **{"status": PropertyStatus.STOLEN, **fields},
    )


# ---------------------------------------------------------------------------------------
# Helpers


def page_url(kind: str, ident: object, purpose: str | None = Purpose.CRIMINAL_INVESTIGATION) -> str:
    params = {"kind": kind, "id": str(ident)}
    if purpose is not None:
        params["purpose"] = purpose
    return f"{reverse('ciss:associations')}?{urlencode(params)}"


def text(response: "Response") -> str:
    return response.content.decode()


def rows(response: "Response", entry: str) -> str:
    """The table rows of one linked record in the list (``kind:id``)."""
    html = text(response)
    marker = f'data-entry="{entry}"'
    assert marker in html, f"{entry} is not listed"
    start = html.index(marker)
    end = html.index("</tr>", html.rindex(marker))
    return html[start:end]


@pytest.fixture
def officer_with_history(agency: Agency) -> User:
    return cj_user("historian", agency, claims=[Claim.CRIMINAL_HISTORY])


@dataclass
class Scene:
    """Ann (wanted) was the suspect in a burglary at 12 Main St where Bob was the victim;
    Ann lives at 8 Stanley St with Cal and owns a Honda seen at the burglary; a firearm
    stolen in the burglary belongs to Bob; the arrest made a court case."""

    ann: Person
    bob: Person
    cal: Person
    burglary: Incident
    scene: Location
    home: Address
    car: Vehicle
    gun: PropertyItem
    case: Case


@pytest.fixture
def scene() -> Scene:
    ann = person("Ann Archer", flags=[Flag.WANTED])
    bob = person("Bob Baker")
    cal = person("Cal Carter")
    at = place("12 Main St")
    burglary = incident(number="2026-000123", at=at)
    named(burglary, ann, IncidentRole.SUSPECT)
    named(burglary, bob, IncidentRole.VICTIM)
    home = address(ann, "8 Stanley Street", source="DMV-LIC")
    address(cal, "8 Stanley St", source="DPS-MNI")
    address(ann, "3 Old Road", to_date=date(2020, 1, 1))
    car = vehicle(ann)
    IncidentVehicle.objects.create(
        incident=burglary, vehicle=car, plate=car.plate, role=VehicleRole.SUSPECT
    )
    gun = item(incident=burglary, person=bob, location=at)
    case = CaseFactory.create(
        person=ann, incident_number="2026-000123", arresting_agency_ori=ORI, docket_number="D-1"
    )
    return Scene(ann, bob, cal, burglary, at, home, car, gun, case)


def entry(kind: str, ident: object) -> str:
    return f"{kind}:{ident}"


# ---------------------------------------------------------------------------------------
# Who reaches the page


def test_anonymous_visitor_is_sent_to_sign_in(client: Client, scene: Scene) -> None:
    response = client.get(page_url(Kind.PERSON, scene.ann.public_id))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_outsider_without_a_role_gets_403(signed_in: SignIn, outsider: User, scene: Scene) -> None:
    response = signed_in(outsider).get(page_url(Kind.PERSON, scene.ann.public_id))
    assert response.status_code == 403
    assert "Bob Baker" not in text(response)
    assert not AuditEvent.objects.filter(action=ASSOCIATIONS_VIEWED).exists()


def test_the_page_answers_get_only(signed_in: SignIn, officer: User, scene: Scene) -> None:
    response = signed_in(officer).post(page_url(Kind.PERSON, scene.ann.public_id))
    assert response.status_code == 405


# ---------------------------------------------------------------------------------------
# Purpose first, and the audit row


def test_without_a_purpose_the_page_asks_for_one_and_shows_nothing(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    response = signed_in(officer).get(page_url(Kind.PERSON, scene.ann.public_id, purpose=None))
    assert response.status_code == 200
    html = text(response)
    assert "Purpose of this look-up" in html
    assert Purpose.TRAFFIC_STOP.label in html
    assert f'name="id" value="{scene.ann.public_id}"' in html
    assert "Bob Baker" not in html
    assert not AuditEvent.objects.filter(action=ASSOCIATIONS_VIEWED).exists()


def test_an_unknown_purpose_is_refused_with_the_choices_again(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    response = signed_in(officer).get(page_url(Kind.PERSON, scene.ann.public_id, "curiosity"))
    assert response.status_code == 400
    assert "Select a valid choice" in text(response)
    assert "Bob Baker" not in text(response)


def test_each_look_writes_one_audit_row_with_purpose_start_and_records_shown(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    signed_in(officer).get(page_url(Kind.PERSON, scene.ann.public_id))
    event = AuditEvent.objects.get(action=ASSOCIATIONS_VIEWED)
    assert event.actor == officer
    assert event.object_type == "obts.person"
    assert event.object_id == str(scene.ann.public_id)
    assert event.details["purpose"] == Purpose.CRIMINAL_INVESTIGATION
    shown = event.details["records"]
    assert str(scene.bob.public_id) in shown["person"]
    assert str(scene.burglary.public_id) in shown["incident"]
    assert scene.home.location_key in shown["location"]


def test_a_look_from_an_address_is_audited_under_its_key(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    signed_in(officer).get(page_url(Kind.LOCATION, scene.home.location_key))
    event = AuditEvent.objects.get(action=ASSOCIATIONS_VIEWED)
    assert (event.object_type, event.object_id) == ("ciss.location", scene.home.location_key)


def test_an_address_typed_as_people_write_it_finds_its_place(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    typed = "8 Stanley Street, Hartford, CT 06106"
    response = signed_in(officer).get(page_url(Kind.LOCATION, typed))
    assert response.status_code == 200
    assert rows(response, entry(Kind.PERSON, scene.cal.public_id))
    event = AuditEvent.objects.get(action=ASSOCIATIONS_VIEWED)
    assert event.object_id == scene.home.location_key


def test_typed_location_keys_need_street_city_and_state() -> None:
    assert typed_location_key("12 North Main Street, Apt 3, Hartford, CT 06103") == (
        "12 N MAIN ST APT 3, HARTFORD, CT"
    )
    assert typed_location_key("12 North Main Street, Hartford") == ""
    assert typed_location_key("12 Main St, , CT") == ""


# ---------------------------------------------------------------------------------------
# What the page shows


def test_two_hops_reach_the_other_person_of_an_event(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    response = signed_in(officer).get(page_url(Kind.PERSON, scene.ann.public_id))
    assert response.status_code == 200
    event_rows = rows(response, entry(Kind.INCIDENT, scene.burglary.public_id))
    assert "Suspect" in event_rows
    assert "RMS-HPD" in event_rows
    bob_rows = rows(response, entry(Kind.PERSON, scene.bob.public_id))
    assert "Victim" in bob_rows
    assert "Burglary" in bob_rows  # via the event


def test_people_and_vehicles_not_on_file_are_listed_with_their_event(
    signed_in: SignIn, officer: User, scene: Scene, client: Client, records_key: str
) -> None:
    IncidentPerson.objects.create(
        incident=scene.burglary, name="Dana Doe", role=IncidentRole.WITNESS
    )
    IncidentVehicle.objects.create(
        incident=scene.burglary, plate="7XY123", plate_state="NY", role=VehicleRole.SUSPECT
    )
    named = "Dana Doe (witness); NY 7XY123 (suspect vehicle)"
    from_ann = signed_in(officer).get(page_url(Kind.PERSON, scene.ann.public_id))
    assert f"Also named, not on file: {named}" in rows(
        from_ann, entry(Kind.INCIDENT, scene.burglary.public_id)
    )
    from_event = signed_in(officer).get(page_url(Kind.INCIDENT, scene.burglary.public_id))
    assert f"Also named in the report, not on file: {named}" in text(from_event)
    body = api_get(
        client,
        records_key,
        kind=Kind.INCIDENT,
        id=str(scene.burglary.public_id),
        purpose=Purpose.CRIMINAL_INVESTIGATION,
    ).json()
    assert body["start"]["named"] == ["Dana Doe (witness)", "NY 7XY123 (suspect vehicle)"]
    people = {node["id"]: node for node in body["nodes"] if node["kind"] == Kind.PERSON}
    assert all(node["named"] == [] for node in people.values())


def test_an_event_naming_many_off_file_people_lists_the_first_and_counts_the_rest(
    scene: Scene,
) -> None:
    for n in range(MAX_NAMED + 3):
        IncidentPerson.objects.create(
            incident=scene.burglary, name=f"Person {n:02d}", role=IncidentRole.INVOLVED
        )
    graph = associations(Kind.INCIDENT, str(scene.burglary.public_id), visibility=EVERYTHING)
    assert graph.start.named[0] == "Person 00 (involved)"
    assert graph.start.named[-1] == "and 3 more"
    assert len(graph.start.named) == MAX_NAMED + 1


def test_two_hops_reach_another_resident_of_the_same_address(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    response = signed_in(officer).get(page_url(Kind.PERSON, scene.ann.public_id))
    home_rows = rows(response, entry(Kind.LOCATION, scene.home.location_key))
    assert "Resides at" in home_rows
    assert "DMV-LIC" in home_rows
    cal_rows = rows(response, entry(Kind.PERSON, scene.cal.public_id))
    assert "Resides at" in cal_rows
    assert "DPS-MNI" in cal_rows
    assert "8 STANLEY ST" in cal_rows  # via the address, written the same whichever way


def test_a_past_address_reads_resided_at(signed_in: SignIn, officer: User, scene: Scene) -> None:
    response = signed_in(officer).get(page_url(Kind.PERSON, scene.ann.public_id))
    old_key = Address.objects.get(person=scene.ann, to_date__isnull=False).location_key
    assert "Resided at" in rows(response, entry(Kind.LOCATION, old_key))


def test_vehicle_and_property_links_say_role_and_source(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    response = signed_in(officer).get(page_url(Kind.PERSON, scene.ann.public_id))
    car_rows = rows(response, entry(Kind.VEHICLE, scene.car.public_id))
    assert "Registered owner" in car_rows
    assert "DMV-REG" in car_rows
    gun_rows = rows(response, entry(Kind.PROPERTY, scene.gun.public_id))
    assert "Stolen" in gun_rows


def test_the_list_is_grouped_by_kind_in_order(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    html = text(signed_in(officer).get(page_url(Kind.PERSON, scene.ann.public_id)))
    headings = [f'data-group="{title}"' for title in ("People", "Addresses", "Vehicles")]
    headings += ['data-group="Events"', 'data-group="Property"']
    positions = [html.index(heading) for heading in headings]
    assert positions == sorted(positions)


def test_linked_records_link_to_their_associations_and_persons_to_their_record(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    response = signed_in(officer).get(page_url(Kind.PERSON, scene.ann.public_id))
    bob_rows = rows(response, entry(Kind.PERSON, scene.bob.public_id))
    own = page_url(Kind.PERSON, scene.bob.public_id).replace("&", "&amp;")
    record = reverse("obts:person", kwargs={"public_id": scene.bob.public_id})
    assert own in bob_rows
    assert f"{record}?purpose={Purpose.CRIMINAL_INVESTIGATION}" in bob_rows


def test_the_picture_marks_the_wanted_person_and_names_each_record(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    html = text(signed_in(officer).get(page_url(Kind.VEHICLE, scene.car.public_id)))
    assert "<svg" in html
    assert 'data-node="person" data-distance="1" data-wanted' in html
    assert "assoc-node--wanted" in html
    assert "<title>Person: Ann Archer" in html
    assert "registered owner" in html  # a line's role


def test_a_record_with_no_links_says_so(signed_in: SignIn, officer: User) -> None:
    loner = person("Lee Lonely")
    response = signed_in(officer).get(page_url(Kind.PERSON, loner.public_id))
    assert response.status_code == 200
    assert "No linked records on file" in text(response)
    assert '<svg class="assoc-graph"' not in text(response)


def test_a_merged_person_shows_the_survivors_links(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    old = person("Ann Archer")
    old.merged_into = scene.ann
    old.save(update_fields=["merged_into"])
    response = signed_in(officer).get(page_url(Kind.PERSON, old.public_id))
    assert "was merged into this one" in text(response)
    assert rows(response, entry(Kind.PERSON, scene.bob.public_id))


def test_a_vehicle_owned_by_a_merged_person_links_to_the_survivor(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    old = person("Ann Archer")
    old.merged_into = scene.ann
    old.save(update_fields=["merged_into"])
    other = vehicle(old, plate="XYZ999")
    response = signed_in(officer).get(page_url(Kind.VEHICLE, other.public_id))
    assert rows(response, entry(Kind.PERSON, scene.ann.public_id))
    assert f'data-entry="person:{old.public_id}"' not in text(response)


# ---------------------------------------------------------------------------------------
# Court cases are criminal history


def test_without_the_criminal_history_claim_no_case_is_shown(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    html = text(signed_in(officer).get(page_url(Kind.PERSON, scene.ann.public_id)))
    assert str(scene.case.public_id) not in html
    assert 'data-group="Court cases"' not in html


def test_with_the_claim_the_case_and_its_event_are_linked(
    signed_in: SignIn, officer_with_history: User, scene: Scene
) -> None:
    response = signed_in(officer_with_history).get(page_url(Kind.CASE, scene.case.public_id))
    assert response.status_code == 200
    assert "Defendant" in rows(response, entry(Kind.PERSON, scene.ann.public_id))
    assert "Court case of" in rows(response, entry(Kind.INCIDENT, scene.burglary.public_id))


def test_a_sealed_case_is_not_found_without_the_sealed_claim(
    signed_in: SignIn, officer_with_history: User, scene: Scene
) -> None:
    Case.objects.filter(pk=scene.case.pk).update(is_sealed=True)
    response = signed_in(officer_with_history).get(page_url(Kind.PERSON, scene.ann.public_id))
    assert str(scene.case.public_id) not in text(response)
    response = signed_in(officer_with_history).get(page_url(Kind.CASE, scene.case.public_id))
    assert response.status_code == 404


# ---------------------------------------------------------------------------------------
# User mistakes


def test_an_unknown_id_is_a_404_that_says_so(signed_in: SignIn, officer: User) -> None:
    response = signed_in(officer).get(page_url(Kind.VEHICLE, uuid.uuid4()))
    assert response.status_code == 404
    assert "No vehicle with the id" in text(response)
    assert not AuditEvent.objects.filter(action=ASSOCIATIONS_VIEWED).exists()


def test_a_malformed_id_is_a_404_not_a_500(signed_in: SignIn, officer: User) -> None:
    response = signed_in(officer).get(page_url(Kind.PERSON, "not-a-uuid"))
    assert response.status_code == 404
    assert "No person with the id" in text(response)


def test_an_unknown_address_is_a_404(signed_in: SignIn, officer: User) -> None:
    response = signed_in(officer).get(page_url(Kind.LOCATION, "1 NOWHERE RD, HARTFORD, CT"))
    assert response.status_code == 404
    assert "No address" in text(response)


def test_a_bad_kind_is_a_400_that_names_the_kinds(signed_in: SignIn, officer: User) -> None:
    response = signed_in(officer).get(page_url("spaceship", uuid.uuid4()))
    assert response.status_code == 400
    assert "kind must be one of person, location, vehicle" in text(response)


def test_no_id_is_a_400_that_says_so(signed_in: SignIn, officer: User) -> None:
    response = signed_in(officer).get(page_url(Kind.PERSON, ""))
    assert response.status_code == 400
    assert "Say which record to start from" in text(response)


# ---------------------------------------------------------------------------------------
# Bounds: a busy address


@pytest.fixture
def busy_address() -> Address:
    """An address with 30 residents: more than the 25 followed from one record."""
    first = address(person("Resident Zero"), "1 Busy Street")
    for number in range(1, 30):
        address(person(f"Resident N{number}"), "1 Busy Street")
    return first


def test_a_busy_address_is_cut_and_the_page_says_so(
    signed_in: SignIn, officer: User, busy_address: Address
) -> None:
    response = signed_in(officer).get(page_url(Kind.LOCATION, busy_address.location_key))
    html = text(response)
    assert response.status_code == 200
    assert "The picture was cut: showing 25 linked records of more on file" in html
    assert html.count('data-entry="person:') == 25


def test_the_total_number_of_records_is_capped() -> None:
    hub = person("Hub Person")
    for number in range(6):
        event = incident()
        named(event, hub, IncidentRole.SUSPECT)
        for other in range(3):
            named(event, person(f"Other N{number}x{other}"), IncidentRole.WITNESS)
    graph = associations(Kind.PERSON, str(hub.public_id), visibility=EVERYTHING, node_cap=10)
    assert len(graph.linked()) == 10
    assert graph.truncated


def test_a_small_graph_is_not_marked_cut(scene: Scene) -> None:
    graph = associations(Kind.PERSON, str(scene.ann.public_id), visibility=EVERYTHING)
    assert not graph.truncated
    assert graph.start.distance == 0
    assert {node.distance for node in graph.linked()} == {1, 2}


def test_one_hop_stops_at_the_first_ring(scene: Scene) -> None:
    graph = associations(Kind.PERSON, str(scene.ann.public_id), visibility=EVERYTHING, hops=1)
    assert {node.distance for node in graph.linked()} == {1}
    assert str(scene.bob.public_id) not in {node.id for node in graph.nodes}


def _build(width: int) -> Person:
    """A person with ``width`` of each kind of link, each of them linked onwards."""
    hub = person("Hub Person")
    for number in range(width):
        here = place(f"{number + 1} Elm Street")
        event = incident(at=here)
        named(event, hub, IncidentRole.SUSPECT)
        named(event, person(f"Partner N{number}"), IncidentRole.VICTIM)
        address(hub, f"{number + 1} Oak Street")
        address(person(f"Neighbour N{number}"), f"{number + 1} Oak Street")
        car = vehicle(hub, plate=f"CAR{number}")
        IncidentVehicle.objects.create(incident=event, vehicle=car, role=VehicleRole.INVOLVED)
        item(person=hub, incident=event, location=here)
        CaseFactory.create(
            person=hub, incident_number=event.incident_number, arresting_agency_ori=ORI
        )
    return hub


def _queries(hub: Person) -> int:
    with CaptureQueriesContext(connection) as captured:
        associations(Kind.PERSON, str(hub.public_id), visibility=EVERYTHING)
    return len(captured.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_links() -> None:
    few = _queries(_build(1))
    many = _queries(_build(8))
    assert many == few


def test_the_page_stays_within_a_fixed_number_of_queries(
    signed_in: SignIn,
    officer_with_history: User,
    django_assert_max_num_queries: Any,
) -> None:
    hub = _build(8)
    client = signed_in(officer_with_history)
    # Sign-in and session (~6), the start, one query per link kind per hop, one per merge
    # check per hop, one per record kind for the labels, and the audit row (~8): 43 today.
    with django_assert_max_num_queries(45):
        response = client.get(page_url(Kind.PERSON, hub.public_id))
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------
# The person record links here


def test_the_person_record_links_to_its_associations(
    signed_in: SignIn, officer: User, scene: Scene
) -> None:
    record = reverse("obts:person", kwargs={"public_id": scene.ann.public_id})
    response = signed_in(officer).get(f"{record}?purpose={Purpose.TRAFFIC_STOP}")
    link = page_url(Kind.PERSON, scene.ann.public_id, Purpose.TRAFFIC_STOP)
    assert link.replace("&", "&amp;") in text(response)
    assert AuditEvent.objects.filter(action=RECORD_VIEWED).count() == 1


# ---------------------------------------------------------------------------------------
# The API


def api_url(**params: str) -> str:
    return f"{reverse('api-associations')}?{urlencode(params)}"


def api_get(client: Client, key: str, **params: str) -> "Response":
    return client.get(api_url(**params), headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def records_key(agency: Agency) -> str:
    return make_api_client(agency, [ApiScope.RECORDS_READ])[1]


def test_api_answers_start_nodes_edges_and_truncated(
    client: Client, records_key: str, scene: Scene
) -> None:
    response = api_get(
        client,
        records_key,
        kind=Kind.PERSON,
        id=str(scene.ann.public_id),
        purpose=Purpose.CRIMINAL_INVESTIGATION,
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"start", "nodes", "edges", "truncated"}
    assert body["truncated"] is False
    start = body["start"]
    assert start["id"] == str(scene.ann.public_id)
    assert start["flags"] == [Flag.WANTED]
    assert start["distance"] == 0
    assert set(start) == {"kind", "id", "label", "detail", "flags", "distance", "more", "named"}
    by_id = {node["id"]: node for node in body["nodes"]}
    assert by_id[str(scene.bob.public_id)]["distance"] == 2
    assert by_id[str(scene.case.public_id)]["kind"] == Kind.CASE  # records:read grants history
    suspect = {
        "from": {"kind": "person", "id": str(scene.ann.public_id)},
        "to": {"kind": "incident", "id": str(scene.burglary.public_id)},
        "role": "suspect",
        "source_system": "RMS-HPD",
    }
    assert suspect in body["edges"]


def test_api_read_is_audited_with_its_purpose(
    client: Client, records_key: str, scene: Scene
) -> None:
    api_get(
        client, records_key, kind=Kind.VEHICLE, id=str(scene.car.public_id), purpose="traffic_stop"
    )
    event = AuditEvent.objects.get(action=ASSOCIATIONS_VIEWED)
    assert event.api_client is not None
    assert event.details["purpose"] == "traffic_stop"
    assert event.object_id == str(scene.car.public_id)


def test_api_needs_the_records_read_scope(client: Client, agency: Agency, scene: Scene) -> None:
    _, key = make_api_client(agency, [ApiScope.SEARCH_READ], name="Search only")
    response = api_get(
        client, key, kind=Kind.PERSON, id=str(scene.ann.public_id), purpose="traffic_stop"
    )
    assert response.status_code == 403
    assert "records:read" in response.json()["detail"]


def test_api_without_a_key_is_401(client: Client, scene: Scene) -> None:
    response = client.get(api_url(kind="person", id=str(scene.ann.public_id)))
    assert response.status_code == 401


def test_api_says_what_is_missing_or_wrong(client: Client, records_key: str) -> None:
    response = api_get(client, records_key, kind="spaceship")
    assert response.status_code == 400
    assert set(response.json()) == {"kind", "id", "purpose"}


def test_api_unknown_id_is_404(client: Client, records_key: str) -> None:
    response = api_get(
        client, records_key, kind=Kind.INCIDENT, id=str(uuid.uuid4()), purpose="traffic_stop"
    )
    assert response.status_code == 404
    assert "No event with the id" in response.json()["detail"]


def test_schema_documents_the_endpoint(client: Client) -> None:
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/associations/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {
        "kind",
        "id",
        "purpose",
    }
    properties = schema["components"]["schemas"]["Associations"]["properties"]
    assert set(properties) == {"start", "nodes", "edges", "truncated"}
    assert set(schema["components"]["schemas"]["Edge"]["properties"]) == {
        "from",
        "to",
        "role",
        "source_system",
    }
