"""Sessions end after 30 idle minutes and 12 hours after sign-in, whatever the activity."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from portal.models import AuditEvent, User
from tests.conftest import sign_in

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def officer_client(client: Client, officer: User, clock: time_machine.Traveller) -> Client:
    return sign_in(client, officer)


def home(client: Client, **headers: str) -> int:
    return client.get(reverse("portal:home"), headers=headers).status_code


def test_idle_session_is_sent_to_sign_in(
    officer_client: Client, clock: time_machine.Traveller
) -> None:
    clock.shift(timedelta(minutes=31))

    response = officer_client.get(reverse("portal:home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_idle_sign_out_says_why(officer_client: Client, clock: time_machine.Traveller) -> None:
    clock.shift(timedelta(minutes=31))

    response = officer_client.get(reverse("portal:home"), follow=True)

    assert b"You were signed out after 30 minutes without activity" in response.content


def test_idle_sign_out_returns_to_the_page_after_sign_in(
    officer_client: Client, clock: time_machine.Traveller
) -> None:
    clock.shift(timedelta(minutes=31))

    response = officer_client.get(reverse("portal:password_change"))

    assert response["Location"] == (
        reverse("portal:login") + "?next=" + reverse("portal:password_change").replace("/", "%2F")
    )


def test_idle_session_stays_signed_out(
    officer_client: Client, clock: time_machine.Traveller
) -> None:
    clock.shift(timedelta(minutes=31))
    officer_client.get(reverse("portal:home"))

    assert home(officer_client) == 302


def test_idle_sign_out_is_audited(
    officer_client: Client, officer: User, clock: time_machine.Traveller
) -> None:
    clock.shift(timedelta(minutes=31))

    officer_client.get(reverse("portal:home"))

    event = AuditEvent.objects.get(action="signin.session_expired")
    assert event.actor == officer
    assert event.details == {"reason": "idle"}


def test_activity_within_the_idle_limit_keeps_the_session(
    officer_client: Client, clock: time_machine.Traveller
) -> None:
    clock.shift(timedelta(minutes=29))
    assert home(officer_client) == 200

    clock.shift(timedelta(minutes=29))

    assert home(officer_client) == 200
    assert not AuditEvent.objects.filter(action="signin.session_expired").exists()


def test_session_ends_twelve_hours_after_sign_in_despite_activity(
    officer_client: Client, clock: time_machine.Traveller
) -> None:
    for _ in range(12 * 60 // 20 - 1):
        clock.shift(timedelta(minutes=20))
        assert home(officer_client) == 200

    clock.shift(timedelta(minutes=21))  # 12 h 01 min after sign-in, 21 min after the last

    response = officer_client.get(reverse("portal:home"), follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("portal:login"))
    assert b"Sessions last at most 12 hours" in response.content
    event = AuditEvent.objects.get(action="signin.session_expired")
    assert event.details == {"reason": "max_age"}


def test_htmx_request_of_an_idle_session_is_told_where_to_go(
    officer_client: Client, clock: time_machine.Traveller
) -> None:
    clock.shift(timedelta(minutes=31))

    response = officer_client.get(reverse("portal:home"), headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("portal:login")


def test_passive_requests_do_not_count_as_activity(
    officer_client: Client, clock: time_machine.Traveller
) -> None:
    clock.shift(timedelta(minutes=20))
    assert home(officer_client, **{"X-CJIS-Passive": "1"}) == 200

    clock.shift(timedelta(minutes=11))  # 31 min after the last real activity

    assert home(officer_client) == 302
    assert AuditEvent.objects.get(action="signin.session_expired").details == {"reason": "idle"}


def test_idle_passive_request_is_also_signed_out(
    officer_client: Client, clock: time_machine.Traveller
) -> None:
    clock.shift(timedelta(minutes=31))

    assert home(officer_client, **{"X-CJIS-Passive": "1"}) == 302


def test_anonymous_requests_are_not_audited_as_expired(
    client: Client, db: None, clock: time_machine.Traveller
) -> None:
    clock.shift(timedelta(hours=13))

    client.get(reverse("portal:home"))

    assert not AuditEvent.objects.filter(action="signin.session_expired").exists()
