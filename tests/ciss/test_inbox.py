"""The recipient's inbox (``/ciss/inbox/``): who reaches it, the list with its filters,
search, pagination and htmx polling, the unread count in the header, the exchange as a
readable document (opening it marks it read, audited), acknowledging it, and the alert
preference."""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from ciss.inbox import unread_count
from ciss.models import (
    AlertChannel,
    Delivery,
    DeliveryStatus,
    Exchange,
    ExchangeType,
    InboxPreference,
)
from portal.models import Agency, AuditEvent, User
from portal.roles import Role
from tests.ciss.exchange_factories import Court, court_setup, delivered_exchange, notice
from tests.conftest import sign_in
from tests.factories import UserFactory, add_totp_device

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

LIST = "ciss:inbox"
ITEMS = "ciss:inbox_items"
SETTINGS = "ciss:inbox_settings"


# ---------------------------------------------------------------------------------------
# Helpers shared with the other inbox tests


@pytest.fixture
def court() -> Court:
    return court_setup()


@pytest.fixture
def api() -> Client:
    """A client for the records system's API calls, apart from the signed-in browser."""
    return Client()


def delivery_of(user: User, exchange: Exchange) -> Delivery:
    return Delivery.objects.get(recipient=user, exchange=exchange)


def make_delivery(
    recipient: User,
    sender: Agency,
    *,
    status: str = DeliveryStatus.DELIVERED,
    received: datetime | None = None,
    **changes: Any,
) -> Delivery:
    """An exchange from ``sender`` delivered to ``recipient``, written directly (without
    intake), for lists that need many rows or set dates. ``changes`` go into the payload;
    the exchange's columns follow from it as intake would set them."""
    payload = notice(**changes)
    subject = payload.get("subject") or {}
    received = received or timezone.now()
    exchange = Exchange.objects.create(
        type=payload["type"],
        sender_agency=sender,
        idempotency_key=str(uuid.uuid4()),
        body_hash="0" * 64,
        payload=payload,
        incident_number=payload.get("incident_number", ""),
        docket_number=payload.get("docket_number", ""),
        court_code=(payload.get("court") or {}).get("code", ""),
        court_date=payload.get("court_date") or payload.get("arraignment_date"),
        subject_name=f"{subject.get('last_name', '')}, {subject.get('first_name', '')}",
        received_at=received,
    )
    assert recipient.agency is not None
    return Delivery.objects.create(
        exchange=exchange,
        recipient=recipient,
        agency=recipient.agency,
        status=status,
        created_at=received,
        delivered_at=None if status == DeliveryStatus.PENDING else received,
    )


def page_text(response: "Response") -> str:
    return response.content.decode()


def detail_url(delivery: Delivery) -> str:
    return reverse("ciss:inbox_detail", args=[delivery.public_id])


def acknowledge_url(delivery: Delivery) -> str:
    return reverse("ciss:inbox_acknowledge", args=[delivery.public_id])


def full_notice(court: Court, api: Client) -> Exchange:
    """An early arrest notice of Michaela Neumann for GA14 with a vehicle, a location and
    the officer, delivered to the two clerks with the claim and the prosecutor."""
    return delivered_exchange(
        court,
        api,
        vehicle={"plate": "ABC1234", "state": "CT", "make": "Honda", "model": "Civic"},
        location={"line1": "100 Main St", "city": "Hartford", "state": "CT"},
        officer={"name": "Sgt. Dana Reyes", "badge": "4417"},
    )


@pytest.fixture
def exchange(court: Court, api: Client) -> Exchange:
    return full_notice(court, api)


@pytest.fixture
def clerk_client(signed_in: Callable[[User], Client], court: Court) -> Client:
    return signed_in(court.clerk)


# ---------------------------------------------------------------------------------------
# Who reaches the pages


@pytest.mark.parametrize("name", [LIST, ITEMS, SETTINGS])
def test_anonymous_visitor_is_sent_to_sign_in(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_anonymous_visitor_cannot_open_an_item(client: Client, exchange: Exchange) -> None:
    delivery = Delivery.objects.filter(exchange=exchange).first()
    assert delivery is not None
    response = client.get(detail_url(delivery))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_anonymous_visitor_cannot_acknowledge(
    client: Client, court: Court, exchange: Exchange
) -> None:
    response = client.post(acknowledge_url(delivery_of(court.clerk, exchange)))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    assert delivery_of(court.clerk, exchange).status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize("name", [LIST, ITEMS, SETTINGS])
def test_user_without_an_inbox_role_is_refused(
    signed_in: Callable[[User], Client], outsider: User, name: str
) -> None:
    assert signed_in(outsider).get(reverse(name)).status_code == 403


def test_recipient_cannot_open_another_recipients_copy(
    signed_in: Callable[[User], Client], court: Court, exchange: Exchange
) -> None:
    theirs = delivery_of(court.second_clerk, exchange)
    response = signed_in(court.clerk).get(detail_url(theirs))
    assert response.status_code == 404
    assert delivery_of(court.second_clerk, exchange).status == DeliveryStatus.DELIVERED


def test_clerk_who_did_not_receive_the_exchange_cannot_open_it(
    signed_in: Callable[[User], Client], court: Court, exchange: Exchange
) -> None:
    # clerk3 works at the same court but lacks the claim the routing rule asks for.
    delivery = delivery_of(court.clerk, exchange)
    assert signed_in(court.clerk_without_claim).get(detail_url(delivery)).status_code == 404
    assert not AuditEvent.objects.filter(action="ciss.exchange.viewed").exists()


def test_officer_of_another_agency_cannot_open_an_item(
    signed_in: Callable[[User], Client], other_agency: Agency, court: Court, exchange: Exchange
) -> None:
    stranger = UserFactory.create(username="stranger", agency=other_agency, roles=[Role.OFFICER])
    add_totp_device(stranger)
    response = signed_in(stranger).get(detail_url(delivery_of(court.clerk, exchange)))
    assert response.status_code == 404


def test_pending_delivery_is_neither_listed_nor_opened(clerk_client: Client, court: Court) -> None:
    pending = make_delivery(court.clerk, court.police, status=DeliveryStatus.PENDING)
    assert clerk_client.get(detail_url(pending)).status_code == 404
    assert str(pending.public_id) not in page_text(clerk_client.get(reverse(LIST)))


def test_failed_delivery_is_not_listed(clerk_client: Client, court: Court) -> None:
    failed = make_delivery(court.clerk, court.police, status=DeliveryStatus.FAILED)
    assert clerk_client.get(detail_url(failed)).status_code == 404
    assert "Your inbox is empty" in page_text(clerk_client.get(reverse(LIST)))


@pytest.mark.parametrize("name", [LIST, ITEMS])
def test_list_refuses_post(clerk_client: Client, name: str) -> None:
    assert clerk_client.post(reverse(name)).status_code == 405


def test_detail_refuses_post(clerk_client: Client, court: Court, exchange: Exchange) -> None:
    response = clerk_client.post(detail_url(delivery_of(court.clerk, exchange)))
    assert response.status_code == 405


def test_acknowledge_refuses_get(clerk_client: Client, court: Court, exchange: Exchange) -> None:
    delivery = delivery_of(court.clerk, exchange)
    assert clerk_client.get(acknowledge_url(delivery)).status_code == 405
    assert delivery_of(court.clerk, exchange).status == DeliveryStatus.DELIVERED


def test_settings_refuses_put(clerk_client: Client) -> None:
    assert clerk_client.put(reverse(SETTINGS)).status_code == 405


# ---------------------------------------------------------------------------------------
# The list


def test_delivered_notice_is_listed_unread(clerk_client: Client, exchange: Exchange) -> None:
    text = page_text(clerk_client.get(reverse(LIST)))
    assert "Neumann, Michaela" in text
    assert "Early arrest notice" in text
    assert "Incident 2026-000123" in text
    assert "Hartford Police Department" in text
    assert "Unread" in text


def test_empty_inbox_says_what_will_arrive(clerk_client: Client, court: Court) -> None:
    response = clerk_client.get(reverse(LIST))
    assert response.status_code == 200
    assert "Your inbox is empty" in page_text(response)


def test_every_filter_field_is_labelled(clerk_client: Client, court: Court) -> None:
    text = page_text(clerk_client.get(reverse(LIST)))
    for field, label in [
        ("q", "Search"),
        ("type", "Type"),
        ("court", "Court"),
        ("status", "Status"),
        ("received_from", "Received from"),
        ("received_to", "Received to"),
        ("court_date", "Court date"),
    ]:
        assert f'for="id_{field}">{label}' in text, field


def test_list_shows_only_the_users_own_items(
    signed_in: Callable[[User], Client], court: Court
) -> None:
    make_delivery(court.clerk, court.police, subject={"first_name": "Ann", "last_name": "Mine"})
    make_delivery(
        court.second_clerk, court.police, subject={"first_name": "Bo", "last_name": "Theirs"}
    )
    text = page_text(signed_in(court.clerk).get(reverse(LIST)))
    assert "Mine, Ann" in text
    assert "Theirs" not in text


def _listed(client: Client, **params: str) -> str:
    response = client.get(reverse(LIST), params)
    assert response.status_code == 200, response.content
    return page_text(response)


def test_type_filter(clerk_client: Client, court: Court) -> None:
    make_delivery(court.clerk, court.police, subject={"last_name": "Arrested"})
    make_delivery(
        court.clerk,
        court.police,
        type=ExchangeType.MISDEMEANOR_SUMMONS,
        subject={"last_name": "Summoned"},
    )
    text = _listed(clerk_client, type=ExchangeType.MISDEMEANOR_SUMMONS)
    assert "Summoned" in text
    assert "Arrested" not in text


def test_court_filter(clerk_client: Client, court: Court) -> None:
    make_delivery(court.clerk, court.police, subject={"last_name": "Hartford"})
    make_delivery(
        court.clerk, court.police, court={"code": "GA23"}, subject={"last_name": "NewHaven"}
    )
    text = _listed(clerk_client, court="GA14")
    assert "Hartford," in text
    assert "NewHaven" not in text


def test_status_filter_unread_and_acknowledged(clerk_client: Client, court: Court) -> None:
    make_delivery(court.clerk, court.police, subject={"last_name": "Fresh"})
    make_delivery(
        court.clerk,
        court.police,
        status=DeliveryStatus.ACKNOWLEDGED,
        subject={"last_name": "Handled"},
    )
    make_delivery(
        court.clerk, court.police, status=DeliveryStatus.READ, subject={"last_name": "Seen"}
    )
    unread = _listed(clerk_client, status="unread")
    assert "Fresh" in unread
    assert "Handled" not in unread
    assert "Seen" not in unread
    done = _listed(clerk_client, status="acknowledged")
    assert "Handled" in done
    assert "Fresh" not in done
    open_items = _listed(clerk_client, status="not_acknowledged")
    assert "Fresh" in open_items
    assert "Seen" in open_items
    assert "Handled" not in open_items


def test_received_date_filter(clerk_client: Client, court: Court) -> None:
    tz = timezone.get_current_timezone()
    make_delivery(
        court.clerk,
        court.police,
        received=datetime(2026, 11, 2, 10, 0, tzinfo=tz),
        subject={"last_name": "Early"},
    )
    make_delivery(
        court.clerk,
        court.police,
        received=datetime(2026, 11, 20, 10, 0, tzinfo=tz),
        subject={"last_name": "Late"},
    )
    text = _listed(clerk_client, received_from="2026-11-10", received_to="2026-11-21")
    assert "Late," in text
    assert "Early," not in text
    text = _listed(clerk_client, received_to="2026-11-02")
    assert "Early," in text
    assert "Late," not in text


def test_court_date_filter(clerk_client: Client, court: Court) -> None:
    make_delivery(
        court.clerk, court.police, arraignment_date="2026-11-24", subject={"last_name": "Monday"}
    )
    make_delivery(
        court.clerk, court.police, arraignment_date="2026-11-25", subject={"last_name": "Tuesday"}
    )
    text = _listed(clerk_client, court_date="2026-11-25")
    assert "Tuesday" in text
    assert "Monday" not in text


@pytest.mark.parametrize("query", ["neumann", "Michaela Neumann", "2026-000999", "hartford police"])
def test_search_finds_by_name_number_or_sender(
    clerk_client: Client, court: Court, query: str
) -> None:
    make_delivery(court.clerk, court.police, incident_number="2026-000999")
    make_delivery(
        court.clerk,
        court.police,
        incident_number="2026-000111",
        subject={"first_name": "Oscar", "last_name": "Other"},
    )
    # The second row comes from an agency whose name does not match "hartford police".
    other = Exchange.objects.get(incident_number="2026-000111")
    other.sender_agency = court.prosecutor_office
    other.save(update_fields=["sender_agency"])
    text = _listed(clerk_client, q=query)
    assert "Neumann, Michaela" in text
    assert "Other, Oscar" not in text


def test_filters_that_match_nothing_say_so(clerk_client: Client, court: Court) -> None:
    make_delivery(court.clerk, court.police)
    text = _listed(clerk_client, q="Zyzzyva")
    assert "Nothing in your inbox matches these filters" in text
    assert "Clear filters" in text


def test_dates_out_of_order_are_a_400_naming_the_field(clerk_client: Client, court: Court) -> None:
    make_delivery(court.clerk, court.police)
    response = clerk_client.get(
        reverse(LIST), {"received_from": "2026-11-20", "received_to": "2026-11-01"}
    )
    assert response.status_code == 400
    text = page_text(response)
    assert "This date is before the “Received from” date." in text
    assert "Neumann, Michaela" not in text


def test_list_is_paginated(clerk_client: Client, court: Court) -> None:
    for number in range(27):
        make_delivery(court.clerk, court.police, incident_number=f"2026-{number:06d}")
    first = page_text(clerk_client.get(reverse(LIST), {"type": ExchangeType.EARLY_ARREST_NOTICE}))
    assert "Page 1 of 2" in first
    assert "type=early_arrest_notice&amp;page=2" in first
    second = page_text(
        clerk_client.get(reverse(LIST), {"type": ExchangeType.EARLY_ARREST_NOTICE, "page": "2"})
    )
    assert "Page 2 of 2" in second
    assert second.count("data-delivery=") == 2


@pytest.mark.parametrize("rows", [3, 25])
def test_list_queries_do_not_grow_with_rows(
    clerk_client: Client,
    court: Court,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    rows: int,
) -> None:
    for _ in range(rows):
        make_delivery(court.clerk, court.police)
    clerk_client.get(reverse(LIST))  # the session's first request writes to it
    with django_assert_max_num_queries(10):
        response = clerk_client.get(reverse(LIST), {"q": "Neumann", "status": "unread"})
    assert page_text(response).count("data-delivery=") == rows


# ---------------------------------------------------------------------------------------
# Polling: new items appear without a reload


def _poll(client: Client, version: str = "") -> "Response":
    params = {"version": version} if version else {}
    return client.get(reverse(ITEMS), params, headers={"HX-Request": "true"})


def _version(client: Client) -> str:
    text = page_text(client.get(reverse(LIST)))
    start = text.index("version=") + len("version=")
    return text[start : text.index('"', start)]


def test_poll_answers_204_while_nothing_changed(clerk_client: Client, court: Court) -> None:
    make_delivery(court.clerk, court.police)
    assert _poll(clerk_client, _version(clerk_client)).status_code == 204


def test_poll_returns_the_new_item_and_the_new_unread_count(
    clerk_client: Client, court: Court, api: Client
) -> None:
    version = _version(clerk_client)
    delivered_exchange(court, api)

    response = _poll(clerk_client, version)

    assert response.status_code == 200
    text = page_text(response)
    assert "Neumann, Michaela" in text
    assert 'id="inbox-unread" class="text-no-wrap" hx-swap-oob="true"' in text
    assert 'data-unread="1"' in text
    assert "Inbox updated: 1 unread." in text
    assert "<html" not in text


def test_poll_keeps_the_filters_and_the_page(clerk_client: Client, court: Court) -> None:
    response = clerk_client.get(reverse(LIST), {"type": ExchangeType.INFRACTION, "page": "1"})
    text = page_text(response)
    assert "/ciss/inbox/items/?type=infraction&amp;page=1&amp;version=" in text


def test_polling_does_not_keep_the_session_alive(clerk_client: Client, court: Court) -> None:
    text = page_text(clerk_client.get(reverse(LIST)))
    assert 'hx-headers=\'{"X-CJIS-Passive": "1"}\'' in text


def test_opening_an_item_changes_the_version(
    clerk_client: Client, court: Court, exchange: Exchange
) -> None:
    version = _version(clerk_client)
    clerk_client.get(detail_url(delivery_of(court.clerk, exchange)))
    assert _poll(clerk_client, version).status_code == 200


# ---------------------------------------------------------------------------------------
# Unread count in the header


def test_header_shows_the_unread_count_on_every_page(
    clerk_client: Client, court: Court, exchange: Exchange
) -> None:
    make_delivery(court.clerk, court.police)
    text = page_text(clerk_client.get(reverse("portal:home")))
    assert 'data-unread="2"' in text
    assert '<span class="usa-sr-only"> unread</span>' in text


def test_unread_count_drops_once_an_item_is_opened(
    clerk_client: Client, court: Court, exchange: Exchange
) -> None:
    assert 'data-unread="1"' in page_text(clerk_client.get(reverse(LIST)))
    clerk_client.get(detail_url(delivery_of(court.clerk, exchange)))
    text = page_text(clerk_client.get(reverse(LIST)))
    assert "data-unread=" not in text
    assert 'id="inbox-unread"' in text


def test_unread_count_is_the_users_own_delivered_items_only(court: Court) -> None:
    for status in DeliveryStatus.values:
        make_delivery(court.clerk, court.police, status=status)
    make_delivery(court.clerk, court.police)
    make_delivery(court.prosecutor, court.police)

    assert unread_count(court.clerk) == 2  # delivered, not pending, read, acknowledged or failed
    assert unread_count(court.prosecutor) == 1
    assert unread_count(court.second_clerk) == 0


def test_header_has_no_inbox_for_roles_without_one(
    signed_in: Callable[[User], Client], agency: Agency
) -> None:
    manager = UserFactory.create(username="manager", agency=agency, roles=[Role.AGENCY_MANAGER])
    add_totp_device(manager)
    text = page_text(signed_in(manager).get(reverse("portal:home")))
    assert 'id="inbox-unread"' not in text
    assert reverse(LIST) not in text


# ---------------------------------------------------------------------------------------
# One item as a document


def test_item_reads_as_a_document_not_json(
    clerk_client: Client, court: Court, exchange: Exchange
) -> None:
    response = clerk_client.get(detail_url(delivery_of(court.clerk, exchange)))

    assert response.status_code == 200
    text = page_text(response)
    for expected in [
        "<h1>Early arrest notice: Michaela Neumann</h1>",
        "<dt>Date of birth</dt><dd>Monday, November 11, 1985</dd>",
        "<dt>Sex</dt><dd>Female</dd>",
        "<dt>Address</dt><dd>8 Stanley St, Hartford, CT</dd>",
        "<dt>Incident number</dt><dd>2026-000123</dd>",
        "<dt>Sending agency</dt><dd>Hartford Police Department (CT0006400)</dd>",
        "53a-125b",
        "Larceny 6th degree",
        "Misdemeanor, class C",
        "<dt>Court</dt><dd>GA14 — Geographical Area 14, Hartford</dd>",
        "<dt>Arraignment date</dt><dd>Saturday, November 21, 2026</dd>",
        "Observed concealing merchandise; admitted the theft.",
        "<dt>Plate</dt><dd>CT ABC1234</dd>",
        "<dt>Vehicle</dt><dd>Honda Civic</dd>",
        "100 Main St, Hartford, CT",
        "<dt>Name</dt><dd>Sgt. Dana Reyes</dd>",
        "<dt>Badge number</dt><dd>4417</dd>",
        "No attachments were sent",
    ]:
        assert expected in text, expected
    assert '"statute"' not in text
    assert "&quot;statute&quot;" not in text
    assert "{&#x27;" not in text


def test_narrative_markup_is_escaped(clerk_client: Client, court: Court) -> None:
    delivery = make_delivery(court.clerk, court.police, narrative="<script>alert(1)</script>")
    text = page_text(clerk_client.get(detail_url(delivery)))
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_schedule_notification_shows_docket_hearing_and_court_date(
    clerk_client: Client, court: Court
) -> None:
    delivery = make_delivery(
        court.clerk,
        court.police,
        type=ExchangeType.COURT_SCHEDULE_NOTIFICATION,
        docket_number="H14H-CR26-0001234-S",
        court_date="2026-12-02",
        hearing="pretrial",
    )
    text = page_text(clerk_client.get(detail_url(delivery)))
    assert "<dt>Docket number</dt><dd>H14H-CR26-0001234-S</dd>" in text
    assert "<dt>Court date</dt><dd>Wednesday, December 2, 2026</dd>" in text
    assert "<dt>Hearing</dt><dd>Pretrial</dd>" in text


def test_opening_marks_read_and_is_audited(
    clerk_client: Client, court: Court, exchange: Exchange
) -> None:
    delivery = delivery_of(court.clerk, exchange)

    clerk_client.get(detail_url(delivery))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.READ
    assert delivery.read_at is not None
    event = AuditEvent.objects.get(action="ciss.exchange.viewed")
    assert event.actor == court.clerk
    assert event.object_id == str(exchange.public_id)
    assert exchange.person is not None
    assert event.details["person"] == str(exchange.person.public_id)


def test_each_opening_is_audited(clerk_client: Client, court: Court, exchange: Exchange) -> None:
    delivery = delivery_of(court.clerk, exchange)
    clerk_client.get(detail_url(delivery))
    clerk_client.get(detail_url(delivery))
    assert AuditEvent.objects.filter(action="ciss.exchange.viewed").count() == 2


def test_item_links_to_the_persons_record_and_timeline(
    clerk_client: Client, court: Court, exchange: Exchange
) -> None:
    assert exchange.person is not None
    text = page_text(clerk_client.get(detail_url(delivery_of(court.clerk, exchange))))
    record = reverse("obts:person", kwargs={"public_id": exchange.person.public_id})
    assert f'href="{record}"' in text
    assert "record and timeline" in text


# ---------------------------------------------------------------------------------------
# Acknowledging


def test_acknowledge_button_is_a_real_button_in_a_post_form_with_csrf(
    clerk_client: Client, court: Court, exchange: Exchange
) -> None:
    delivery = delivery_of(court.clerk, exchange)
    text = page_text(clerk_client.get(detail_url(delivery)))
    assert f'<form method="post" action="{acknowledge_url(delivery)}"' in text
    assert 'name="csrfmiddlewaretoken"' in text
    assert '<button type="submit" class="usa-button">Acknowledge</button>' in text


def test_acknowledging_records_it_and_says_so(
    clerk_client: Client, court: Court, exchange: Exchange
) -> None:
    delivery = delivery_of(court.clerk, exchange)

    response = clerk_client.post(acknowledge_url(delivery), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == detail_url(delivery)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.ACKNOWLEDGED
    assert delivery.acknowledged_at is not None
    text = page_text(response)
    assert "Acknowledged. Hartford Police Department can now see" in text
    assert '<button type="submit" class="usa-button">Acknowledge</button>' not in text
    assert AuditEvent.objects.filter(action="ciss.delivery.acknowledged").count() == 1


def test_acknowledging_twice_says_it_was_already_done(
    clerk_client: Client, court: Court, exchange: Exchange
) -> None:
    delivery = delivery_of(court.clerk, exchange)
    clerk_client.post(acknowledge_url(delivery))

    response = clerk_client.post(acknowledge_url(delivery), follow=True)

    assert response.status_code == 200
    assert "You already acknowledged this on" in page_text(response)
    assert "nothing changed" in page_text(response)
    assert AuditEvent.objects.filter(action="ciss.delivery.acknowledged").count() == 1


def test_acknowledging_an_unread_item_counts_it_read(
    clerk_client: Client, court: Court, exchange: Exchange
) -> None:
    delivery = delivery_of(court.clerk, exchange)
    clerk_client.post(acknowledge_url(delivery))
    delivery.refresh_from_db()
    assert delivery.read_at is not None


def test_acknowledging_needs_the_csrf_token(court: Court, exchange: Exchange) -> None:
    browser = sign_in(Client(enforce_csrf_checks=True), court.clerk)
    response = browser.post(acknowledge_url(delivery_of(court.clerk, exchange)))
    assert response.status_code == 403
    assert delivery_of(court.clerk, exchange).status == DeliveryStatus.DELIVERED


def test_someone_else_cannot_acknowledge_a_copy(
    signed_in: Callable[[User], Client], court: Court, exchange: Exchange
) -> None:
    theirs = delivery_of(court.second_clerk, exchange)
    response = signed_in(court.clerk).post(acknowledge_url(theirs))
    assert response.status_code == 404
    assert delivery_of(court.second_clerk, exchange).status == DeliveryStatus.DELIVERED


# ---------------------------------------------------------------------------------------
# Alert preference


def test_settings_show_the_current_choice_with_a_label_for_each(clerk_client: Client) -> None:
    text = page_text(clerk_client.get(reverse(SETTINGS)))
    assert '<legend class="usa-legend">How should the portal tell you of new items?' in text
    assert 'value="portal" id="id_alert_0" checked' in text
    assert '<label class="usa-radio__label" for="id_alert_1">In the portal and by e-mail' in text


def test_choosing_email_alerts_is_saved_and_audited(clerk_client: Client, court: Court) -> None:
    response = clerk_client.post(reverse(SETTINGS), {"alert": AlertChannel.EMAIL}, follow=True)

    assert response.status_code == 200
    assert "Saved: in the portal and by e-mail." in page_text(response)
    assert InboxPreference.objects.get(user=court.clerk).alert == AlertChannel.EMAIL
    event = AuditEvent.objects.get(action="ciss.inbox.preference_saved")
    assert event.actor == court.clerk
    assert event.details == {"alert": "email", "before": "portal"}


def test_email_alert_carries_no_criminal_justice_information(
    clerk_client: Client, court: Court, api: Client
) -> None:
    clerk_client.post(reverse(SETTINGS), {"alert": AlertChannel.EMAIL})

    delivered_exchange(court, api)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [court.clerk.email]
    body = f"{message.subject}\n{message.body}"
    for secret in ["Neumann", "Michaela", "53a-125b", "Larceny", "2026-000123", "1985"]:
        assert secret not in body
    assert reverse(LIST) in body


def test_portal_only_alerts_send_no_email(clerk_client: Client, court: Court, api: Client) -> None:
    clerk_client.post(reverse(SETTINGS), {"alert": AlertChannel.PORTAL})
    delivered_exchange(court, api)
    assert mail.outbox == []


def test_email_alerts_need_an_email_address(
    signed_in: Callable[[User], Client], court: Court
) -> None:
    court.clerk.email = ""
    court.clerk.save(update_fields=["email"])

    response = signed_in(court.clerk).post(reverse(SETTINGS), {"alert": AlertChannel.EMAIL})

    assert response.status_code == 400
    assert "Your account has no e-mail address" in page_text(response)
    assert not InboxPreference.objects.filter(alert=AlertChannel.EMAIL).exists()


def test_unknown_alert_choice_is_a_400(clerk_client: Client) -> None:
    response = clerk_client.post(reverse(SETTINGS), {"alert": "pigeon"})
    assert response.status_code == 400
    assert "Select a valid choice" in page_text(response)


def test_settings_need_the_csrf_token(court: Court) -> None:
    browser = sign_in(Client(enforce_csrf_checks=True), court.clerk)
    assert browser.post(reverse(SETTINGS), {"alert": AlertChannel.EMAIL}).status_code == 403
