"""The help desk's view of delivery problems: failed deliveries (and sending them again),
e-mail alerts that could not be sent, exchanges nobody received. Who may see it, that it
shows the reasons and never what an exchange says about its subject, and that "Send
again" delivers a failed delivery or says why it cannot."""

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from ciss import routing_views
from ciss.exchanges.delivery import exchange_deliver
from ciss.models import CourtLocation, Delivery, DeliveryStatus, Exchange, ExchangeStatus
from portal.models import AgencyKind, AuditEvent, User
from portal.roles import Role
from tests.ciss.exchange_factories import Court, court_setup, notice, submit
from tests.factories import AgencyFactory, UserFactory, add_totp_device

pytestmark = pytest.mark.django_db

SignIn = Callable[[User], Client]
PROBLEMS = reverse("ciss:delivery_problems")
DISABLED = "The recipient's account was disabled before delivery."
# What the notice says about its subject: never on this page.
SUBJECT_DETAILS = ("Neumann", "Michaela", "1985-11-11", "Larceny", "53a-125b", "merchandise")


@pytest.fixture
def court() -> Court:
    return court_setup()


@pytest.fixture
def security(db: None) -> User:
    cjis = AgencyFactory.create(ori="CTCJIS000", name="CJIS", kind=AgencyKind.CJIS)
    user = UserFactory.create(username="security", agency=cjis, roles=[Role.CJIS_SECURITY])
    add_totp_device(user)
    return user


def received(setup: Court, client: Client, **changes: Any) -> Exchange:
    """An early arrest notice received, its deliveries still pending: the delivery task
    is lost, as with a broker down at commit."""
    with mock.patch("ciss.exchanges.intake.queue_delivery"):
        answer = submit(client, setup.key, notice(**changes))
    assert answer.status_code == 202, answer.content
    return Exchange.objects.get(public_id=answer.json()["id"])


def failed_delivery(setup: Court, client: Client, **changes: Any) -> Delivery:
    """A notice whose delivery to the first clerk failed: the account was disabled
    between routing and delivery. The account is enabled again afterwards, as the help
    desk would before sending it again."""
    exchange = received(setup, client, **changes)
    User.objects.filter(pk=setup.clerk.pk).update(is_active=False)
    exchange_deliver(exchange_id=exchange.pk)
    User.objects.filter(pk=setup.clerk.pk).update(is_active=True)
    delivery = Delivery.objects.get(exchange=exchange, recipient=setup.clerk)
    assert delivery.status == DeliveryStatus.FAILED
    return delivery


# ---------------------------------------------------------------------------------------
# Who may


def test_anonymous_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(PROBLEMS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_outsider_cannot_see_delivery_problems(signed_in: SignIn, outsider: User) -> None:
    assert signed_in(outsider).get(PROBLEMS).status_code == 403


def test_recipient_cannot_see_delivery_problems(
    signed_in: SignIn, court: Court, client: Client
) -> None:
    assert signed_in(court.clerk).get(PROBLEMS).status_code == 403


@pytest.mark.parametrize("fixture", ["helpdesk", "security", "administrator"])
def test_help_desk_and_cjis_staff_see_delivery_problems(
    signed_in: SignIn, request: pytest.FixtureRequest, fixture: str
) -> None:
    response = signed_in(request.getfixturevalue(fixture)).get(PROBLEMS)
    assert response.status_code == 200


def test_delivery_problems_refuse_post(signed_in: SignIn, helpdesk: User) -> None:
    assert signed_in(helpdesk).post(PROBLEMS).status_code == 405


def test_outsider_cannot_send_again(
    signed_in: SignIn, outsider: User, court: Court, client: Client
) -> None:
    delivery = failed_delivery(court, client)
    response = signed_in(outsider).post(reverse("ciss:delivery_retry", args=[delivery.public_id]))
    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_send_again_refuses_get(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    delivery = failed_delivery(court, client)
    response = signed_in(helpdesk).get(reverse("ciss:delivery_retry", args=[delivery.public_id]))
    assert response.status_code == 405


def test_listing_is_audited(signed_in: SignIn, helpdesk: User) -> None:
    signed_in(helpdesk).get(PROBLEMS, {"show": "unrouted"})
    event = AuditEvent.objects.get(action=routing_views.PROBLEMS_LISTED)
    assert event.actor == helpdesk
    assert event.details["show"] == "unrouted"


# ---------------------------------------------------------------------------------------
# Failed deliveries


def test_failed_delivery_is_listed_with_its_reason(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    delivery = failed_delivery(court, client)
    response = signed_in(helpdesk).get(PROBLEMS)
    page = response.content.decode()
    assert str(delivery.public_id) in page
    assert "Early arrest notice, Incident 2026-000123" in page
    assert "Hartford Police Department (CT0006400)" in page
    assert "(clerk)" in page
    assert "Superior Court GA 14, Hartford (CT015013J)" in page
    assert DISABLED.replace("'", "&#x27;") in page
    assert "Failed deliveries (1)" in page


def test_failed_deliveries_show_nothing_about_the_subject(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    failed_delivery(court, client)
    page = signed_in(helpdesk).get(PROBLEMS).content.decode()
    for detail in SUBJECT_DETAILS:
        assert detail not in page


def test_delivered_exchanges_are_not_problems(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    exchange = received(court, client)
    exchange_deliver(exchange_id=exchange.pk)
    page = signed_in(helpdesk).get(PROBLEMS).content.decode()
    assert "No failed deliveries" in page


def test_failed_deliveries_are_paged(
    signed_in: SignIn,
    helpdesk: User,
    court: Court,
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routing_views, "PAGE_SIZE", 1)
    failed_delivery(court, client)
    failed_delivery(court, client, incident_number="2026-000124")
    page = signed_in(helpdesk).get(PROBLEMS).content.decode()
    assert "Page 1 of 2" in page
    assert "?show=failed&amp;page=2" in page
    second = signed_in(helpdesk).get(PROBLEMS, {"show": "failed", "page": "2"}).content.decode()
    assert "Incident 2026-000123" in second


def test_failed_deliveries_query_count_does_not_grow_with_rows(
    signed_in: SignIn,
    helpdesk: User,
    court: Court,
    client: Client,
    django_assert_max_num_queries: Any,
) -> None:
    for number in range(5):
        failed_delivery(court, client, incident_number=f"2026-00020{number}")
    browser = signed_in(helpdesk)
    with django_assert_max_num_queries(16):
        assert browser.get(PROBLEMS).status_code == 200


# ---------------------------------------------------------------------------------------
# Send again


def test_send_again_delivers_a_failed_delivery(
    signed_in: SignIn,
    helpdesk: User,
    court: Court,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    delivery = failed_delivery(court, client)
    browser = signed_in(helpdesk)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(reverse("ciss:delivery_retry", args=[delivery.public_id]))
    assert response.status_code == 302
    assert response["Location"] == f"{PROBLEMS}?show=failed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert Exchange.objects.get(pk=delivery.exchange_id).status == ExchangeStatus.DELIVERED


def test_send_again_is_audited_with_the_reason(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    delivery = failed_delivery(court, client)
    signed_in(helpdesk).post(reverse("ciss:delivery_retry", args=[delivery.public_id]))
    event = AuditEvent.objects.get(action="ciss.delivery.retried")
    assert (event.actor, event.object_id) == (helpdesk, str(delivery.public_id))
    assert event.details["reason"] == DISABLED


def test_send_again_says_it_is_queued(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    delivery = failed_delivery(court, client)
    url = reverse("ciss:delivery_retry", args=[delivery.public_id])
    response = signed_in(helpdesk).post(url, follow=True)
    assert "queued for delivery" in response.content.decode()


def test_send_again_of_a_delivery_that_has_not_failed_says_why(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    exchange = received(court, client)
    exchange_deliver(exchange_id=exchange.pk)
    delivery = Delivery.objects.get(exchange=exchange, recipient=court.clerk)
    url = reverse("ciss:delivery_retry", args=[delivery.public_id])
    response = signed_in(helpdesk).post(url, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not sent again to" in page
    assert "A delivery that is delivered cannot become pending." in page
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert not AuditEvent.objects.filter(action="ciss.delivery.retried").exists()


def test_send_again_of_an_unknown_delivery_is_404(signed_in: SignIn, helpdesk: User) -> None:
    url = reverse("ciss:delivery_retry", args=["5a1d1c83-8a43-4c0e-9e2e-000000000000"])
    assert signed_in(helpdesk).post(url).status_code == 404


# ---------------------------------------------------------------------------------------
# E-mail alerts not sent


def test_alert_not_sent_is_listed_with_its_reason(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    exchange = received(court, client)
    exchange_deliver(exchange_id=exchange.pk)
    Delivery.objects.filter(exchange=exchange, recipient=court.clerk).update(
        alert_error="SMTPRecipientsRefused: clerk@example.test"
    )
    response = signed_in(helpdesk).get(PROBLEMS, {"show": "alerts"})
    page = response.content.decode()
    assert "E-mail alerts not sent (1)" in page
    assert "SMTPRecipientsRefused: clerk@example.test" in page
    assert "Early arrest notice, Incident 2026-000123" in page
    for detail in SUBJECT_DETAILS:
        assert detail not in page


def test_alert_sent_later_is_no_longer_listed(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    exchange = received(court, client)
    exchange_deliver(exchange_id=exchange.pk)
    Delivery.objects.filter(exchange=exchange).update(
        alert_error="timed out", alerted_at=exchange.received_at
    )
    page = signed_in(helpdesk).get(PROBLEMS, {"show": "alerts"}).content.decode()
    assert "No e-mail alert is stuck" in page


# ---------------------------------------------------------------------------------------
# Exchanges nobody received


def test_exchange_for_an_unknown_court_is_listed_with_the_likely_cause(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    exchange = received(court, client, court={"code": "GA99"})
    assert exchange.status == ExchangeStatus.NO_RECIPIENTS
    response = signed_in(helpdesk).get(PROBLEMS, {"show": "unrouted"})
    page = response.content.decode()
    assert "Exchanges nobody received (1)" in page
    assert str(exchange.public_id) in page
    assert "Court location GA99 is not in the portal." in page
    for detail in SUBJECT_DETAILS:
        assert detail not in page


def test_help_desk_is_not_offered_the_routing_check(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    received(court, client, court={"code": "GA99"})
    page = signed_in(helpdesk).get(PROBLEMS, {"show": "unrouted"}).content.decode()
    assert "Check routing" not in page
    assert "ask CJIS security" in page


def test_cjis_security_is_offered_the_routing_check(
    signed_in: SignIn, security: User, court: Court, client: Client
) -> None:
    received(court, client, court={"code": "GA99"})
    page = signed_in(security).get(PROBLEMS, {"show": "unrouted"}).content.decode()
    assert "court_code=GA99&amp;sending_agency=CT0006400" in page


def test_nothing_unrouted_says_so(signed_in: SignIn, helpdesk: User) -> None:
    page = signed_in(helpdesk).get(PROBLEMS, {"show": "unrouted"}).content.decode()
    assert "Every exchange found someone to send it to." in page


def test_an_unknown_tab_shows_failed_deliveries(signed_in: SignIn, helpdesk: User) -> None:
    response = signed_in(helpdesk).get(PROBLEMS, {"show": "everything", "page": "x"})
    assert response.status_code == 200
    assert response.context["show"] == "failed"


# ---------------------------------------------------------------------------------------
# Route again, once routing is fixed


def reroute_url(exchange: Exchange) -> str:
    return reverse("ciss:exchange_reroute", args=[exchange.public_id])


def test_route_again_after_the_court_location_is_added_reaches_its_clerks(
    signed_in: SignIn,
    helpdesk: User,
    court: Court,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    exchange = received(court, client, court={"code": "GA99"})
    CourtLocation.objects.create(
        code="GA99",
        name="Geographical Area 99",
        town="Hartford",
        court_agency=court.location.court_agency,
        prosecutor_agency=court.location.prosecutor_agency,
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(helpdesk).post(reroute_url(exchange), follow=True)

    page = response.content.decode()
    assert "routed again" in page
    exchange.refresh_from_db()
    assert exchange.status == ExchangeStatus.DELIVERED  # Celery runs eagerly in tests
    recipients = set(Delivery.objects.filter(exchange=exchange).values_list("recipient", flat=True))
    assert court.clerk.pk in recipients
    assert court.clerk_without_claim.pk not in recipients
    event = AuditEvent.objects.get(action="ciss.exchange.rerouted")
    assert event.actor == helpdesk
    assert court.clerk.username in event.details["recipients"]


def test_route_again_while_routing_is_still_broken_says_so_and_changes_nothing(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    exchange = received(court, client, court={"code": "GA99"})

    page = signed_in(helpdesk).post(reroute_url(exchange), follow=True).content.decode()

    assert "still finds nobody" in page
    exchange.refresh_from_db()
    assert exchange.status == ExchangeStatus.NO_RECIPIENTS
    assert not Delivery.objects.filter(exchange=exchange).exists()


def test_route_again_of_an_exchange_that_has_recipients_is_refused(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    exchange = received(court, client)
    before = Delivery.objects.filter(exchange=exchange).count()

    page = signed_in(helpdesk).post(reroute_url(exchange), follow=True).content.decode()

    assert "was not routed again: it already has recipients." in page
    assert Delivery.objects.filter(exchange=exchange).count() == before


def test_route_again_is_for_the_help_desk_and_refuses_get(
    signed_in: SignIn, court: Court, client: Client, helpdesk: User
) -> None:
    exchange = received(court, client, court={"code": "GA99"})

    assert signed_in(court.clerk).post(reroute_url(exchange)).status_code == 403
    assert signed_in(helpdesk).get(reroute_url(exchange)).status_code == 405


# ---------------------------------------------------------------------------------------
# Send an e-mail alert again


def alert_again_url(delivery: Delivery) -> str:
    return reverse("ciss:alert_resend", args=[delivery.public_id])


def test_send_alert_again_mails_the_recipient_and_clears_the_problem(
    signed_in: SignIn,
    helpdesk: User,
    court: Court,
    client: Client,
    mailoutbox: list[Any],
) -> None:
    exchange = received(court, client)
    exchange_deliver(exchange_id=exchange.pk)
    delivery = Delivery.objects.get(exchange=exchange, recipient=court.clerk)
    User.objects.filter(pk=court.clerk.pk).update(email="clerk@example.test")
    Delivery.objects.filter(pk=delivery.pk).update(alert_error="SMTPRecipientsRefused")

    page = signed_in(helpdesk).post(alert_again_url(delivery), follow=True).content.decode()

    assert "queued to be sent again" in page
    assert [message.to for message in mailoutbox] == [["clerk@example.test"]]
    delivery.refresh_from_db()
    assert delivery.alerted_at is not None
    assert delivery.alert_error == ""
    event = AuditEvent.objects.get(action="ciss.delivery.alert_resent")
    assert event.details["reason"] == "SMTPRecipientsRefused"


def test_send_alert_again_of_an_alert_that_did_not_fail_is_refused(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client, mailoutbox: list[Any]
) -> None:
    exchange = received(court, client)
    delivery = Delivery.objects.get(exchange=exchange, recipient=court.clerk)

    page = signed_in(helpdesk).post(alert_again_url(delivery), follow=True).content.decode()

    assert "was not sent again: its alert has not failed." in page
    assert mailoutbox == []


def test_alert_that_cannot_be_queued_stays_listed_with_the_reason(
    signed_in: SignIn, helpdesk: User, court: Court, client: Client
) -> None:
    exchange = received(court, client)
    exchange_deliver(exchange_id=exchange.pk)
    delivery = Delivery.objects.get(exchange=exchange, recipient=court.clerk)
    Delivery.objects.filter(pk=delivery.pk).update(alert_error="timed out")

    with mock.patch("ciss.tasks.send_alerts.delay", side_effect=ConnectionError("down")):
        page = signed_in(helpdesk).post(alert_again_url(delivery), follow=True).content.decode()

    assert "could not be queued" in page
    delivery.refresh_from_db()
    assert "could not be queued" in delivery.alert_error
