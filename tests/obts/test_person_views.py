"""Who viewed this record: every view listed with who, agency, channel, purpose and what
was shown; managers see their own agency's; the listing is itself audited."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from obts.access import Purpose
from obts.models import Person
from obts.views import VIEWS_LISTED
from portal.models import Agency, AuditEvent, User
from portal.models.api_clients import ApiScope
from portal.roles import Claim, Role
from tests.factories import make_api_client
from tests.obts.factories_records import PersonFactory, WarrantFactory, cj_user

pytestmark = pytest.mark.django_db

SignIn = Callable[[User], Client]


def look(client: Client, person: Person, purpose: str = Purpose.TRAFFIC_STOP) -> None:
    url = reverse("obts:person", kwargs={"public_id": person.public_id})
    assert client.get(url, {"purpose": purpose}).status_code == 200


def views_page(client: Client, person: Person) -> str:
    response = client.get(reverse("obts:person_views", kwargs={"public_id": person.public_id}))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def person() -> Person:
    subject = PersonFactory.create(name="Jordan Viewed")
    WarrantFactory.create(person=subject)
    return subject


def test_an_auditor_sees_every_view_with_purpose_and_channel(
    signed_in: SignIn, agency: Agency, other_agency: Agency, person: Person
) -> None:
    look(signed_in(cj_user("nosy", other_agency)), person, Purpose.CRIMINAL_INVESTIGATION)
    _, key = make_api_client(agency, [ApiScope.RECORDS_READ], name="Town RMS")
    api = Client()
    url = reverse("api-person", kwargs={"public_id": person.public_id})
    api.get(url, {"purpose": "court_proceeding"}, headers={"Authorization": f"Bearer {key}"})

    page = views_page(signed_in(cj_user("auditor", agency, roles=[Role.AUDITOR])), person)

    assert "nosy" in page
    assert other_agency.name in page
    assert "Criminal investigation" in page
    assert "API: Town RMS" in page
    assert "Court proceeding" in page
    assert "1 warrant" in page
    assert page.index("Town RMS") < page.index("nosy")  # newest first


def test_a_manager_sees_only_their_agencys_views(
    signed_in: SignIn, agency: Agency, other_agency: Agency, person: Person
) -> None:
    look(signed_in(cj_user("ours", agency)), person)
    look(signed_in(cj_user("theirs", other_agency)), person)
    manager = cj_user("manager", agency, roles=[Role.AGENCY_MANAGER])

    page = views_page(signed_in(manager), person)

    assert "ours" in page
    assert "theirs" not in page
    assert f"views by users and systems of {agency.name}" in page


def test_no_views_is_said_plainly(signed_in: SignIn, agency: Agency, person: Person) -> None:
    page = views_page(signed_in(cj_user("auditor", agency, roles=[Role.AUDITOR])), person)
    assert "No one has viewed this record." in page


def test_listing_the_views_is_audited(signed_in: SignIn, agency: Agency, person: Person) -> None:
    auditor = cj_user("auditor", agency, roles=[Role.AUDITOR])
    views_page(signed_in(auditor), person)
    event = AuditEvent.objects.get(action=VIEWS_LISTED)
    assert event.actor == auditor
    assert event.object_id == str(person.public_id)


def test_an_officer_may_not_list_the_views(
    signed_in: SignIn, agency: Agency, person: Person
) -> None:
    officer = cj_user("officer", agency, claims=[Claim.CRIMINAL_HISTORY])
    url = reverse("obts:person_views", kwargs={"public_id": person.public_id})
    assert signed_in(officer).get(url).status_code == 403


def test_the_record_page_links_to_the_list_for_those_who_may_see_it(
    signed_in: SignIn, agency: Agency, person: Person
) -> None:
    link = reverse("obts:person_views", kwargs={"public_id": person.public_id})
    url = reverse("obts:person", kwargs={"public_id": person.public_id})
    auditor = signed_in(cj_user("auditor", agency, roles=[Role.AUDITOR]))
    assert link in auditor.get(url, {"purpose": "audit"}).content.decode()
    officer = signed_in(cj_user("officer", agency))
    assert link not in officer.get(url, {"purpose": "traffic_stop"}).content.decode()
