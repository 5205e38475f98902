"""Delivery of exchanges: exactly one inbox row per recipient however often delivery runs,
retries with capped backoff, failures kept for the help desk, the sweeper, a broker down
at submission, and e-mail alerts that carry no criminal-justice information."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from ciss import tasks
from ciss.exchanges import delivery
from ciss.models import (
    AlertChannel,
    Delivery,
    DeliveryStatus,
    DeliveryTransitionError,
    Exchange,
    ExchangeStatus,
    InboxPreference,
)
from portal.models import AuditEvent
from tests.ciss.exchange_factories import Court, court_setup, notice, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def court() -> Court:
    return court_setup()


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.deliver_exchange, "delay", refuse)


def test_delivering_twice_shows_each_exchange_once(client: Client, court: Court) -> None:
    exchange = Exchange.objects.get(public_id=submit(client, court.key, notice()).json()["id"])
    delivered_at = dict(Delivery.objects.values_list("pk", "delivered_at"))

    assert delivery.exchange_deliver(exchange_id=exchange.pk) == []
    tasks.deliver_exchange.delay(exchange.pk)

    assert Delivery.objects.filter(recipient=court.clerk).count() == 1
    assert dict(Delivery.objects.values_list("pk", "delivered_at")) == delivered_at
    assert AuditEvent.objects.filter(action="ciss.exchange.delivered").count() == 1


def pending_lot(client: Client, court: Court, size: int) -> list[int]:
    """``size`` notices whose deliveries wait for the task (the broker was down)."""
    ids = []
    for number in range(size):
        answer = submit(client, court.key, notice(incident_number=f"2026-0009{number:02d}"))
        ids.append(Exchange.objects.get(public_id=answer.json()["id"]).pk)
    return ids


@pytest.mark.usefixtures("broker_down")
def test_a_lot_is_delivered_in_the_same_statements_whatever_its_size(
    client: Client,
    court: Court,
    django_assert_num_queries: Any,
    django_assert_max_num_queries: Any,
) -> None:
    InboxPreference.objects.create(user=court.clerk, alert=AlertChannel.EMAIL)
    small, large = pending_lot(client, court, 2), pending_lot(client, court, 5)
    with django_assert_max_num_queries(10) as first:
        emailed = delivery.exchanges_deliver(exchange_ids=small)
    with django_assert_num_queries(len(first.captured_queries)):
        emailed += delivery.exchanges_deliver(exchange_ids=large)

    clerk_rows = Delivery.objects.filter(recipient=court.clerk)
    assert sorted(emailed) == sorted(clerk_rows.values_list("pk", flat=True))
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert set(Exchange.objects.values_list("status", flat=True)) == {ExchangeStatus.DELIVERED}
    delivered_rows = AuditEvent.objects.filter(action="ciss.exchange.delivered")
    assert sorted(delivered_rows.values_list("object_type", "object_id")) == sorted(
        ("ciss.exchange", str(public_id))
        for public_id in Exchange.objects.filter(pk__in=small + large).values_list(
            "public_id", flat=True
        )
    )
    audited = delivered_rows.order_by("pk").last()
    assert audited is not None
    assert sorted(audited.details["delivered"]) == sorted(
        [court.clerk.username, court.second_clerk.username, court.prosecutor.username]
    )


def test_broker_down_still_answers_202_and_leaves_deliveries_pending(
    client: Client, court: Court, broker_down: None
) -> None:
    answer = submit(client, court.key, notice())

    assert answer.status_code == 202
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}


def test_sweeper_delivers_what_the_broker_missed(
    client: Client, court: Court, broker_down: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    submit(client, court.key, notice())
    monkeypatch.undo()  # the broker is back
    Delivery.objects.update(created_at=timezone.now() - timedelta(minutes=1))

    assert tasks.sweep_pending_deliveries.delay().get() == 1

    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert Exchange.objects.get().status == ExchangeStatus.DELIVERED


def test_sweeper_leaves_fresh_deliveries_to_their_task(
    client: Client, court: Court, broker_down: None
) -> None:
    submit(client, court.key, notice())

    assert delivery.exchanges_due_for_sweep() == []


def test_sweeper_leaves_deliveries_waiting_for_a_retry(
    client: Client, court: Court, broker_down: None
) -> None:
    submit(client, court.key, notice())
    Delivery.objects.update(
        created_at=timezone.now() - timedelta(minutes=1),
        next_attempt_at=timezone.now() + timedelta(minutes=1),
    )

    assert delivery.exchanges_due_for_sweep() == []


def test_failure_is_retried_until_delivered(
    client: Client, court: Court, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = delivery.exchange_deliver
    failures = iter([OperationalError("database is restarting")] * 2)

    def flaky(**kwargs: Any) -> list[int]:
        error = next(failures, None)
        if error is not None:
            raise error
        return real(**kwargs)

    monkeypatch.setattr(delivery, "exchange_deliver", flaky)

    submit(client, court.key, notice())

    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_failure_after_the_last_retry_is_kept_with_its_reason(
    client: Client, court: Court, monkeypatch: pytest.MonkeyPatch, settings: SettingsWrapper
) -> None:
    settings.CISS_DELIVERY_MAX_RETRIES = 2

    def broken(**kwargs: Any) -> list[int]:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(delivery, "exchange_deliver", broken)

    submit(client, court.key, notice())

    failed = Delivery.objects.filter(status=DeliveryStatus.FAILED)
    assert failed.count() == 3
    assert {d.last_error for d in failed} == {"OperationalError: could not connect to server"}
    assert Exchange.objects.get().status == ExchangeStatus.DELIVERY_FAILED
    assert AuditEvent.objects.filter(action="ciss.exchange.delivery_failed").exists()


def test_recipient_disabled_before_delivery_gets_a_failed_delivery(
    client: Client, court: Court, broker_down: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    submit(client, court.key, notice())
    court.clerk.is_active = False
    court.clerk.save(update_fields=["is_active"])

    delivery.exchange_deliver(exchange_id=Exchange.objects.get().pk)

    failed = Delivery.objects.get(recipient=court.clerk)
    assert failed.status == DeliveryStatus.FAILED
    assert "disabled" in failed.last_error
    assert Exchange.objects.get().status == ExchangeStatus.DELIVERY_FAILED


def test_help_desk_retry_delivers_a_failed_delivery(
    client: Client, court: Court, broker_down: None, helpdesk: Any
) -> None:
    submit(client, court.key, notice())
    court.clerk.is_active = False
    court.clerk.save(update_fields=["is_active"])
    delivery.exchange_deliver(exchange_id=Exchange.objects.get().pk)
    court.clerk.is_active = True
    court.clerk.save(update_fields=["is_active"])
    failed = Delivery.objects.get(recipient=court.clerk)

    delivery.delivery_retry(delivery=failed, actor=helpdesk)
    delivery.exchange_deliver(exchange_id=failed.exchange_id)

    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.DELIVERED
    assert failed.attempts == 2
    assert Exchange.objects.get().status == ExchangeStatus.DELIVERED


def test_retry_of_a_delivered_delivery_is_refused(
    client: Client, court: Court, helpdesk: Any
) -> None:
    submit(client, court.key, notice())
    delivered = Delivery.objects.get(recipient=court.clerk)

    with pytest.raises(DeliveryTransitionError, match="delivered cannot become pending"):
        delivery.delivery_retry(delivery=delivered, actor=helpdesk)


def test_acknowledging_twice_is_refused(client: Client, court: Court) -> None:
    submit(client, court.key, notice())
    received = Delivery.objects.get(recipient=court.clerk)
    delivery.delivery_acknowledge(delivery=received, actor=court.clerk)

    with pytest.raises(DeliveryTransitionError, match="acknowledged cannot become acknowledged"):
        delivery.delivery_acknowledge(delivery=received, actor=court.clerk)


def test_retry_delay_doubles_and_is_capped(settings: SettingsWrapper) -> None:
    settings.CISS_DELIVERY_RETRY_BASE_SECONDS = 2
    settings.CISS_DELIVERY_RETRY_CAP_SECONDS = 60

    delays = [delivery.retry_delay(n) for n in range(8)]

    assert 2 <= delays[0] <= 2.4
    assert 8 <= delays[2] <= 9.6
    assert all(60 <= d <= 72 for d in delays[5:])


def test_email_alert_says_only_that_something_arrived(client: Client, court: Court) -> None:
    InboxPreference.objects.create(user=court.clerk, alert=AlertChannel.EMAIL)

    submit(client, court.key, notice())

    [message] = mail.outbox
    assert message.to == [court.clerk.email]
    assert "early arrest notice" in message.body
    for secret in ("Neumann", "Michaela", "53a-125b", "Larceny", "2026-000123", "1985"):
        assert secret not in message.body
        assert secret not in message.subject
    assert Delivery.objects.get(recipient=court.clerk).alerted_at is not None


def test_no_email_for_portal_only_recipients(client: Client, court: Court) -> None:
    submit(client, court.key, notice())

    assert mail.outbox == []


def test_email_failure_keeps_the_reason_and_the_inbox_row(
    client: Client, court: Court, monkeypatch: pytest.MonkeyPatch, settings: SettingsWrapper
) -> None:
    settings.CISS_DELIVERY_MAX_RETRIES = 1
    InboxPreference.objects.create(user=court.clerk, alert=AlertChannel.EMAIL)

    def smtp_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("SMTP server refused the connection")

    monkeypatch.setattr(delivery, "send_mail", smtp_down)

    submit(client, court.key, notice())

    received = Delivery.objects.get(recipient=court.clerk)
    assert received.status == DeliveryStatus.DELIVERED
    assert received.alerted_at is None
    assert "SMTP server refused" in received.alert_error
