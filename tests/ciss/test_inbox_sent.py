"""What the sending agency sees (``/ciss/sent/``): the exchanges its records system sent,
and for each one every recipient's delivery state — delivered, read, acknowledged. Other
agencies see none of it."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from ciss.models import Delivery, DeliveryStatus, Exchange, ExchangeType
from portal.models import Agency, AuditEvent, User
from portal.roles import Role
from tests.ciss.exchange_factories import Court, court_setup
from tests.ciss.test_inbox import (
    acknowledge_url,
    delivery_of,
    detail_url,
    full_notice,
    make_delivery,
)
from tests.factories import UserFactory, add_totp_device

pytestmark = pytest.mark.django_db

LIST = "ciss:sent"


@pytest.fixture
def court() -> Court:
    return court_setup()


@pytest.fixture
def exchange(court: Court) -> Exchange:
    return full_notice(court, Client())


def user_of(agency: Agency, username: str, role: Role) -> User:
    user = UserFactory.create(username=username, agency=agency, roles=[role])
    add_totp_device(user)
    return user


@pytest.fixture
def sender(court: Court) -> User:
    """An officer of the Hartford police, whose records system sent the notice."""
    return user_of(court.police, "hpd-officer", Role.OFFICER)


def sent_url(exchange: Exchange) -> str:
    return reverse("ciss:sent_detail", args=[exchange.public_id])


def row_of(text: str, username: str) -> str:
    start = text.index(f'data-recipient="{username}"')
    return text[start : text.index("</tr>", start)]


# ---------------------------------------------------------------------------------------
# Who reaches the pages


def test_anonymous_visitor_is_sent_to_sign_in(client: Client, exchange: Exchange) -> None:
    for url in (reverse(LIST), sent_url(exchange)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("portal:login"))


def test_court_clerk_has_no_sent_page(
    signed_in: Callable[[User], Client], court: Court, exchange: Exchange
) -> None:
    client = signed_in(court.clerk)
    assert client.get(reverse(LIST)).status_code == 403
    assert client.get(sent_url(exchange)).status_code == 403


def test_officer_of_another_agency_does_not_see_what_was_sent(
    signed_in: Callable[[User], Client], other_agency: Agency, exchange: Exchange
) -> None:
    stranger = signed_in(user_of(other_agency, "nhpd-officer", Role.OFFICER))

    listed = stranger.get(reverse(LIST)).content.decode()
    assert "Neumann" not in listed
    assert "Your agency has sent nothing" in listed
    assert stranger.get(sent_url(exchange)).status_code == 404
    assert not AuditEvent.objects.filter(action="ciss.exchange.sent_viewed").exists()


def test_manager_of_another_agency_does_not_see_what_was_sent(
    signed_in: Callable[[User], Client], other_agency: Agency, exchange: Exchange
) -> None:
    manager = signed_in(user_of(other_agency, "nhpd-manager", Role.AGENCY_MANAGER))
    assert manager.get(sent_url(exchange)).status_code == 404


def test_sent_pages_refuse_post(
    signed_in: Callable[[User], Client], sender: User, exchange: Exchange
) -> None:
    client = signed_in(sender)
    assert client.post(reverse(LIST)).status_code == 405
    assert client.post(sent_url(exchange)).status_code == 405


# ---------------------------------------------------------------------------------------
# The list


def test_sender_sees_how_far_each_exchange_got(
    signed_in: Callable[[User], Client], court: Court, sender: User, exchange: Exchange
) -> None:
    signed_in(court.clerk).get(detail_url(delivery_of(court.clerk, exchange)))
    signed_in(court.prosecutor).post(acknowledge_url(delivery_of(court.prosecutor, exchange)))

    text = signed_in(sender).get(reverse(LIST)).content.decode()

    assert "Neumann, Michaela" in text
    assert "<li>1 acknowledged</li>" in text
    assert "<li>1 read</li>" in text
    assert "<li>1 delivered, not read</li>" in text


def test_agency_manager_of_the_sender_sees_the_list(
    signed_in: Callable[[User], Client], court: Court, exchange: Exchange
) -> None:
    manager = user_of(court.police, "hpd-manager", Role.AGENCY_MANAGER)
    text = signed_in(manager).get(reverse(LIST)).content.decode()
    assert "Neumann, Michaela" in text
    assert "<li>3 delivered, not read</li>" in text


def test_exchange_nobody_received_says_so(
    signed_in: Callable[[User], Client], court: Court, sender: User
) -> None:
    delivery = make_delivery(court.clerk, court.police)
    exchange = delivery.exchange
    delivery.delete()
    exchange.status = "no_recipients"
    exchange.save(update_fields=["status"])
    text = signed_in(sender).get(reverse(LIST)).content.decode()
    assert "No recipient found" in text
    detail = signed_in(sender).get(sent_url(exchange)).content.decode()
    assert "No recipient was found for this exchange" in detail


def test_sent_list_filters_by_type_and_search(
    signed_in: Callable[[User], Client], court: Court, sender: User
) -> None:
    make_delivery(court.clerk, court.police, subject={"last_name": "Arrested"})
    make_delivery(
        court.clerk,
        court.police,
        type=ExchangeType.INFRACTION,
        incident_number="2026-777777",
        subject={"last_name": "Ticketed"},
    )
    client = signed_in(sender)
    by_type = client.get(reverse(LIST), {"type": ExchangeType.INFRACTION}).content.decode()
    assert "Ticketed" in by_type
    assert "Arrested" not in by_type
    by_number = client.get(reverse(LIST), {"q": "777777"}).content.decode()
    assert "Ticketed" in by_number
    assert "Arrested" not in by_number
    nothing = client.get(reverse(LIST), {"q": "Zyzzyva"}).content.decode()
    assert "Nothing your agency sent matches these filters" in nothing


def test_invalid_type_filter_is_a_400(signed_in: Callable[[User], Client], sender: User) -> None:
    response = signed_in(sender).get(reverse(LIST), {"type": "carrier_pigeon"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("rows", [2, 20])
def test_sent_list_queries_do_not_grow_with_rows(
    signed_in: Callable[[User], Client],
    court: Court,
    sender: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    rows: int,
) -> None:
    for _ in range(rows):
        make_delivery(court.clerk, court.police)
    client = signed_in(sender)
    client.get(reverse(LIST))
    with django_assert_max_num_queries(8):
        response = client.get(reverse(LIST))
    assert response.content.decode().count("data-exchange=") == rows


# ---------------------------------------------------------------------------------------
# One exchange and its recipients


def test_sender_sees_each_recipients_state(
    signed_in: Callable[[User], Client], court: Court, sender: User, exchange: Exchange
) -> None:
    signed_in(court.clerk).get(detail_url(delivery_of(court.clerk, exchange)))
    signed_in(court.prosecutor).post(acknowledge_url(delivery_of(court.prosecutor, exchange)))

    response = signed_in(sender).get(sent_url(exchange))

    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-state="read">Read<' in row_of(text, "clerk")
    assert 'data-state="delivered">Delivered<' in row_of(text, "clerk2")
    acknowledged = row_of(text, "prosecutor")
    assert 'data-state="acknowledged">Acknowledged<' in acknowledged
    assert "State&#x27;s Attorney, Hartford" in acknowledged
    assert "clerk3" not in text  # not a recipient


def test_sender_sees_pending_and_failed_deliveries_in_words(
    signed_in: Callable[[User], Client], court: Court, sender: User, exchange: Exchange
) -> None:
    Delivery.objects.filter(recipient=court.clerk).update(status=DeliveryStatus.PENDING)
    Delivery.objects.filter(recipient=court.second_clerk).update(status=DeliveryStatus.FAILED)

    text = signed_in(sender).get(sent_url(exchange)).content.decode()

    assert "On the way" in row_of(text, "clerk")
    assert "Failed: the CJIS help desk" in row_of(text, "clerk2")


def test_sender_reads_the_exchange_as_a_document(
    signed_in: Callable[[User], Client], sender: User, exchange: Exchange
) -> None:
    text = signed_in(sender).get(sent_url(exchange)).content.decode()
    assert "<h1>Early arrest notice: Michaela Neumann</h1>" in text
    assert "Larceny 6th degree" in text
    assert "<dt>Badge number</dt><dd>4417</dd>" in text
    assert "&quot;statute&quot;" not in text


def test_sender_opening_an_exchange_is_audited(
    signed_in: Callable[[User], Client], sender: User, exchange: Exchange
) -> None:
    signed_in(sender).get(sent_url(exchange))
    event = AuditEvent.objects.get(action="ciss.exchange.sent_viewed")
    assert event.actor == sender
    assert event.object_id == str(exchange.public_id)


def test_viewing_as_sender_does_not_mark_anyone_read(
    signed_in: Callable[[User], Client], sender: User, exchange: Exchange
) -> None:
    signed_in(sender).get(sent_url(exchange))
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
