"""Routing from the cached book: an exchange is routed by the rules, court locations and
people as they stand, even right after someone changed them, and routing an exchange
reads no table once the book is cached."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ciss.exchanges.routing import BOOK_CACHE_KEY, recipients_for, routing_book
from ciss.exchanges.rules import court_location_save, routing_rule_set_active
from ciss.models import Delivery, Exchange, RoutingRule
from portal.models import AgencyKind
from portal.roles import Claim, Role
from portal.services import claim_revoke, role_grant, role_revoke
from tests.ciss.exchange_factories import Court, court_setup, notice, submit
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def court() -> Court:
    return court_setup()


def routed_to(client: Client, court: Court, incident: str) -> set[str]:
    answer = submit(client, court.key, notice(incident_number=incident))
    assert answer.status_code == 202, answer.content
    return set(
        Delivery.objects.filter(exchange__public_id=answer.json()["id"]).values_list(
            "recipient__username", flat=True
        )
    )


EVERYONE = {"clerk", "clerk2", "prosecutor"}


def test_a_second_exchange_is_routed_without_reading_the_rules(
    client: Client, court: Court
) -> None:
    assert routed_to(client, court, "2026-1") == EVERYONE
    exchange = Exchange.objects.select_related("sender_agency").get(incident_number="2026-1")
    with CaptureQueriesContext(connection) as queries:
        recipients = recipients_for(exchange, arresting_ori=court.police.ori)
    assert {r.user.username for r in recipients} == EVERYONE
    assert len(queries) == 0


def test_a_clerk_given_the_role_receives_the_next_notice(client: Client, court: Court) -> None:
    assert routed_to(client, court, "2026-1") == EVERYONE
    newcomer = UserFactory.create(
        username="clerk4", agency=court.court, claims=[Claim.RECEIVE_ARREST_NOTICES]
    )
    role_grant(actor=None, user=newcomer, role=Role.COURT_CLERK)
    assert routed_to(client, court, "2026-2") == EVERYONE | {"clerk4"}


def test_a_clerk_whose_role_or_claim_is_revoked_receives_no_more(
    client: Client, court: Court
) -> None:
    assert routed_to(client, court, "2026-1") == EVERYONE
    role_revoke(actor=None, user=court.clerk, role=Role.COURT_CLERK)
    assert routed_to(client, court, "2026-2") == EVERYONE - {"clerk"}
    claim_revoke(actor=None, user=court.second_clerk, claim=Claim.RECEIVE_ARREST_NOTICES)
    assert routed_to(client, court, "2026-3") == {"prosecutor"}


def test_a_disabled_account_receives_no_more(client: Client, court: Court) -> None:
    assert routed_to(client, court, "2026-1") == EVERYONE
    court.second_clerk.is_active = False
    court.second_clerk.save()
    assert routed_to(client, court, "2026-2") == EVERYONE - {"clerk2"}


def test_a_rule_turned_off_routes_no_more(client: Client, court: Court) -> None:
    assert routed_to(client, court, "2026-1") == EVERYONE
    staff = UserFactory.create(username="cjis", agency=court.police, roles=[Role.CJIS_SECURITY])
    for rule in RoutingRule.objects.filter(role=Role.PROSECUTOR):
        routing_rule_set_active(rule=rule, active=False, actor=staff)
    assert routed_to(client, court, "2026-2") == {"clerk", "clerk2"}


def test_a_court_location_served_by_another_office_routes_there_next(
    client: Client, court: Court
) -> None:
    assert routed_to(client, court, "2026-1") == EVERYONE
    office = AgencyFactory.create(
        ori="CT015021A", name="State's Attorney, New Britain", kind=AgencyKind.PROSECUTOR
    )
    UserFactory.create(
        username="prosecutor2",
        agency=office,
        roles=[Role.PROSECUTOR],
        claims=[Claim.RECEIVE_ARREST_NOTICES],
    )
    staff = UserFactory.create(username="cjis", agency=court.police, roles=[Role.CJIS_SECURITY])
    court.location.prosecutor_agency = office
    court_location_save(location=court.location, actor=staff)
    assert routed_to(client, court, "2026-2") == {"clerk", "clerk2", "prosecutor2"}


def test_an_agency_deactivated_receives_no_more(client: Client, court: Court) -> None:
    assert routed_to(client, court, "2026-1") == EVERYONE
    court.prosecutor_office.is_active = False
    court.prosecutor_office.save()
    assert routed_to(client, court, "2026-2") == {"clerk", "clerk2"}


def test_signing_in_keeps_the_book(client: Client, court: Court) -> None:
    routing_book()
    court.clerk.last_login = timezone.now()
    court.clerk.save(update_fields=["last_login"])
    assert cache.get(BOOK_CACHE_KEY) is not None
    court.clerk.first_name = "Renamed"
    court.clerk.save()
    assert cache.get(BOOK_CACHE_KEY) is None


def test_court_codes_and_towns_match_in_any_case(client: Client, court: Court) -> None:
    answer = submit(client, court.key, notice(incident_number="2026-9", court={"code": "ga14"}))
    assert answer.status_code == 202, answer.content
    assert len(answer.json()["deliveries"]) == len(EVERYONE)


def test_the_cached_book_holds_no_password_hash(court: Court) -> None:
    book = routing_book()
    users = [user for holders in book.holders.values() for user in holders]
    assert {user.username for user in users} == {"clerk", "clerk2", "clerk3", "prosecutor"}
    for user in users:
        assert "password" in user.get_deferred_fields()
        assert "password" not in user.__dict__
