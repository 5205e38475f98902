"""Deliveries: from the outbox to the recipient's inbox, and what recipients do there.

Delivery is at-least-once and shown exactly once. The delivery task may run twice for one
exchange (a worker killed before it acknowledged, a sweeper re-queueing, a replayed
message): ``exchange_deliver`` takes only deliveries still pending, locked and skipping
rows another worker holds, and every state change goes through ``Delivery.TRANSITIONS``,
so the second run finds nothing to do. Each (exchange, recipient) pair has one row.

E-mail alerts are a separate step, after the inbox row exists: an alert that cannot be
sent never holds an exchange back from the inbox.
"""

import random
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils import timezone

from ciss.exchanges.routing import recipients_for
from ciss.models import (
    AlertChannel,
    Delivery,
    DeliveryStatus,
    Exchange,
    ExchangeStatus,
    ExchangeType,
)
from portal import audit
from portal.models import User
from portal.models.audit import Outcome

ERROR_MAX = 500
DISABLED_RECIPIENT = "The recipient's account was disabled before delivery."


def retry_delay(retries: int) -> float:
    """Seconds before retry number ``retries + 1``: doubling from the base, capped, with
    up to 20% jitter so failures do not come back in step."""
    base: float = settings.CISS_DELIVERY_RETRY_BASE_SECONDS * 2.0**retries
    delay = min(float(settings.CISS_DELIVERY_RETRY_CAP_SECONDS), base)
    return delay * (1 + random.random() / 5)  # noqa: S311 — jitter, not security


def exchange_deliver(*, exchange_id: int) -> list[int]:
    """Put the exchange's pending deliveries in their recipients' inboxes (a recipient
    whose account was disabled meanwhile gets a failed delivery instead, with the reason).
    Returns the ids of delivered rows whose recipient asked for an e-mail alert."""
    return exchanges_deliver(exchange_ids=[exchange_id])


@transaction.atomic
def exchanges_deliver(*, exchange_ids: list[int]) -> list[int]:
    """``exchange_deliver`` for several exchanges (a lot intake accepted together) in one
    transaction: one read of their pending deliveries, one UPDATE per outcome, their
    statuses worked out together, and one audit row for each exchange delivered."""
    now = timezone.now()
    # Only what delivering reads: a recipient's whole account row is some thirty
    # columns, read for every delivery of every lot.
    pending = list(
        Delivery.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(exchange_id__in=exchange_ids, status=DeliveryStatus.PENDING)
        .select_related("recipient", "recipient__inbox_preference")
        .only(
            "exchange",
            "status",
            "recipient__is_active",
            "recipient__username",
            "recipient__email",
            "recipient__inbox_preference__alert",
        )
        .order_by("pk")
    )
    if not pending:
        return []
    delivered = [d for d in pending if d.recipient.is_active]
    failed = [d for d in pending if not d.recipient.is_active]
    # One UPDATE per outcome (usually only "delivered"), not a CASE per row and field.
    outcomes = (
        (delivered, {"status": DeliveryStatus.DELIVERED, "delivered_at": now, "last_error": ""}),
        (failed, {"status": DeliveryStatus.FAILED, "last_error": DISABLED_RECIPIENT}),
    )
    for rows, values in outcomes:
        if rows:
            Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(
                attempts=F("attempts") + 1, next_attempt_at=None, **values
            )
    names: dict[int, dict[str, list[str]]] = {}
    for outcome, rows in (("delivered", delivered), ("failed", failed)):
        for d in rows:
            names.setdefault(d.exchange_id, {"delivered": [], "failed": []})[outcome].append(
                d.recipient.username
            )
    public_ids = _refresh_statuses(sorted(names))
    audit.record_many(
        [
            {
                "action": "ciss.exchange.delivered",
                "object_type": Exchange._meta.label_lower,
                "object_id": str(public_ids[exchange_id]),
                "details": names[exchange_id],
            }
            for exchange_id in sorted(names)
        ]
    )
    return [d.pk for d in delivered if _wants_email(d.recipient)]


def _wants_email(user: User) -> bool:
    preference = getattr(user, "inbox_preference", None)
    return bool(user.email) and preference is not None and preference.alert == AlertChannel.EMAIL


def exchange_status_refresh(exchange_id: int) -> Exchange:
    """Recompute the exchange's status from its deliveries."""
    exchange = exchanges_status_refresh([exchange_id]).get(exchange_id)
    if exchange is None:
        raise Exchange.DoesNotExist(f"No exchange {exchange_id}.")
    return exchange


def exchanges_status_refresh(exchange_ids: list[int]) -> dict[int, Exchange]:
    """Recompute the exchanges' statuses from their deliveries. Returns the exchanges by
    id, as stored after the refresh."""
    _refresh_statuses(exchange_ids)
    # Without the submitted payload and the answer: their JSON is the most of a row.
    return {
        exchange.pk: exchange
        for exchange in Exchange.objects.filter(pk__in=exchange_ids).defer("payload", "answer")
    }


def _refresh_statuses(exchange_ids: list[int]) -> dict[int, Any]:
    """Recompute the exchanges' statuses from their deliveries: one read of each
    exchange's status and delivery counts, one UPDATE per status that changed. Returns
    each exchange's public id. (Each delivery runs this: built as the ORM would build it,
    the read alone was a tenth of the worker's CPU.)"""
    if not exchange_ids:
        return {}
    quote = connection.ops.quote_name
    exchange, delivery = Exchange._meta.db_table, Delivery._meta.db_table
    placeholders = ", ".join(["%s"] * len(exchange_ids))
    sql = (
        f"SELECT e.id, e.public_id, e.status, COUNT(d.id), "  # noqa: S608
        "COALESCE(SUM(CASE WHEN d.status = %s THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN d.status = %s THEN 1 ELSE 0 END), 0) "
        f"FROM {quote(exchange)} e LEFT JOIN {quote(delivery)} d ON d.exchange_id = e.id "
        f"WHERE e.id IN ({placeholders}) GROUP BY e.id, e.public_id, e.status"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [DeliveryStatus.PENDING, DeliveryStatus.FAILED, *exchange_ids])
        rows = cursor.fetchall()
    public_id = Exchange._meta.get_field("public_id")
    found: dict[int, Any] = {}
    changed: dict[str, list[int]] = {}
    for exchange_id, public, was, total, pending, failed in rows:
        found[exchange_id] = public_id.to_python(public)
        status = _status({"total": total, "pending": pending, "failed": failed})
        if was != status:
            changed.setdefault(status, []).append(exchange_id)
    for status, ids in changed.items():
        Exchange.objects.filter(pk__in=ids).update(status=status)
    return found


def _status(counts: Mapping[str, Any] | None) -> str:
    if not counts or counts["total"] == 0:
        return ExchangeStatus.NO_RECIPIENTS
    if counts["pending"]:
        return ExchangeStatus.ACCEPTED
    if counts["failed"]:
        return ExchangeStatus.DELIVERY_FAILED
    return ExchangeStatus.DELIVERED


def delivery_attempt_failed(*, exchange_id: int, reason: str) -> float | None:
    """Count a failed attempt on the exchange's pending deliveries and note why. Returns
    the delay before the next attempt (the sweeper leaves them alone until then), or None
    when that was the last attempt: they have failed, for the help desk to see."""
    pending = Delivery.objects.filter(exchange_id=exchange_id, status=DeliveryStatus.PENDING)
    with transaction.atomic():
        pending.update(attempts=F("attempts") + 1)
        attempts = pending.aggregate(most=Max("attempts"))["most"] or 0
        if attempts > settings.CISS_DELIVERY_MAX_RETRIES:
            deliveries_fail(exchange_id=exchange_id, reason=reason)
            return None
        delay = retry_delay(attempts - 1)
        pending.update(
            last_error=reason[:ERROR_MAX],
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
    return delay


@transaction.atomic
def deliveries_fail(*, exchange_id: int, reason: str) -> int:
    """After the last retry: the pending deliveries fail with ``reason``, for the help
    desk to see and retry."""
    failed = Delivery.objects.filter(exchange_id=exchange_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, last_error=reason[:ERROR_MAX], next_attempt_at=None
    )
    if failed:
        exchange = exchange_status_refresh(exchange_id)
        audit.record(
            "ciss.exchange.delivery_failed",
            target=exchange,
            outcome=Outcome.FAILURE,
            details={"failed": failed, "reason": reason[:ERROR_MAX]},
        )
    return failed


def exchanges_due_for_sweep(*, limit: int = 500) -> list[int]:
    """Exchanges with deliveries still pending a while after they were written and not
    waiting for a scheduled retry: their task was lost (a broker down at commit, a
    message dropped). Oldest first."""
    now = timezone.now()
    older = now - timedelta(seconds=settings.CISS_SWEEP_AFTER_SECONDS)
    rows = (
        Delivery.objects.filter(status=DeliveryStatus.PENDING, created_at__lt=older)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .values_list("exchange_id", flat=True)
        .order_by("exchange_id")
        .distinct()
    )
    return list(rows[:limit])


def alerts_send(*, delivery_ids: Iterable[int]) -> int:
    """E-mail each recipient that something arrived: no criminal-justice information, only
    the type of exchange and a link to the inbox. Skips alerts already sent, so running it
    twice sends each once. Raises on a mail server error (the task retries)."""
    sent = 0
    deliveries = (
        Delivery.objects.filter(pk__in=list(delivery_ids), alerted_at__isnull=True)
        .select_related("recipient", "exchange")
        .order_by("pk")
    )
    link = f"{settings.PORTAL_BASE_URL.rstrip('/')}{reverse('ciss:inbox')}"
    for delivery in deliveries:
        send_mail(
            subject="New item in your CJIS Portal inbox",
            message=(
                f"A new {delivery.exchange.get_type_display().lower()} is in your CJIS Portal "
                f"inbox.\n\nSign in to read it: {link}\n\n"
                "This message holds no criminal-justice information. You receive it because "
                "you asked for e-mail alerts; change that on your inbox settings page."
            ),
            from_email=None,
            recipient_list=[delivery.recipient.email],
        )
        Delivery.objects.filter(pk=delivery.pk).update(alerted_at=timezone.now(), alert_error="")
        sent += 1
    return sent


def alerts_fail(*, delivery_ids: Iterable[int], reason: str) -> int:
    return Delivery.objects.filter(pk__in=list(delivery_ids), alerted_at__isnull=True).update(
        alert_error=reason[:ERROR_MAX]
    )


# What recipients and the help desk do ------------------------------------------------------


def delivery_open(*, delivery: Delivery, actor: User, request: Any = None) -> Delivery:
    """The recipient opens the exchange: a delivered one becomes read. Every opening is
    audited, with the person the exchange is about."""
    with transaction.atomic():
        if delivery.status == DeliveryStatus.DELIVERED:
            delivery.status, delivery.read_at = DeliveryStatus.READ, timezone.now()
            delivery.save(update_fields=["status", "read_at"])
        exchange = delivery.exchange
        audit.record(
            "ciss.exchange.viewed",
            actor=actor,
            request=request,
            target=exchange,
            details={
                "type": exchange.type,
                "person": str(exchange.person.public_id) if exchange.person else None,
            },
        )
    return delivery


def delivery_acknowledge(*, delivery: Delivery, actor: User, request: Any = None) -> Delivery:
    """The recipient confirms they have taken the exchange in hand. Refuses
    (``DeliveryTransitionError``) one that is not in the inbox or already acknowledged."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.check_transition(DeliveryStatus.ACKNOWLEDGED)
        now = timezone.now()
        delivery.status, delivery.acknowledged_at = DeliveryStatus.ACKNOWLEDGED, now
        delivery.read_at = delivery.read_at or now
        delivery.save(update_fields=["status", "acknowledged_at", "read_at"])
        audit.record(
            "ciss.delivery.acknowledged",
            actor=actor,
            request=request,
            target=delivery,
            details={"exchange": str(delivery.exchange.public_id)},
        )
    return delivery


def delivery_retry(*, delivery: Delivery, actor: User, request: Any = None) -> Delivery:
    """The help desk sends a failed delivery again (after fixing its cause). Refuses
    (``DeliveryTransitionError``) one that has not failed. The caller queues delivery."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.check_transition(DeliveryStatus.PENDING)
        reason = delivery.last_error
        delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, None
        delivery.save(update_fields=["status", "next_attempt_at"])
        exchange_status_refresh(delivery.exchange_id)
        audit.record(
            "ciss.delivery.retried",
            actor=actor,
            request=request,
            target=delivery,
            details={"exchange": str(delivery.exchange.public_id), "reason": reason},
        )
    return delivery


# What the help desk and CJIS security do after fixing a cause ----------------------------


def _arresting_ori(exchange: Exchange) -> str:
    """The arresting agency routing rules name, as intake worked it out: the sender for
    notices from police; for a court's schedule, the case's arresting agency."""
    if exchange.type == ExchangeType.COURT_SCHEDULE_NOTIFICATION:
        if exchange.case is not None and exchange.case.arresting_agency_ori:
            return exchange.case.arresting_agency_ori
        return str(exchange.payload.get("arresting_agency_ori", "")) or exchange.sender_agency.ori
    return exchange.sender_agency.ori


def exchange_reroute(*, exchange: Exchange, actor: User, request: Any = None) -> int:
    """Route an exchange that found nobody again, with the rules and court locations as
    they are now (after someone fixed them). Returns the number of deliveries made; the
    caller queues delivery. An exchange that has recipients already is left alone
    (``ValueError``): routing it again would deliver it twice."""
    with transaction.atomic():
        exchange = (
            Exchange.objects.select_for_update(of=("self",))
            .select_related("sender_agency", "case")
            .get(pk=exchange.pk)
        )
        if exchange.status != ExchangeStatus.NO_RECIPIENTS or exchange.deliveries.exists():
            raise ValueError("it already has recipients.")
        recipients = recipients_for(exchange, arresting_ori=_arresting_ori(exchange))
        Delivery.objects.bulk_create(
            Delivery(
                exchange=exchange,
                recipient=recipient.user,
                agency=recipient.agency,
                rule=recipient.rule,
            )
            for recipient in recipients
        )
        exchange_status_refresh(exchange.pk)
        audit.record(
            "ciss.exchange.rerouted",
            actor=actor,
            request=request,
            target=exchange,
            outcome=Outcome.SUCCESS if recipients else Outcome.FAILURE,
            details={"recipients": sorted({r.user.username for r in recipients})},
        )
    return len(recipients)


def alert_resend(*, delivery: Delivery, actor: User, request: Any = None) -> Delivery:
    """Clear the reason an e-mail alert was not sent so that it is tried again (after the
    recipient's address or the mail server was fixed). Refuses (``ValueError``) an alert
    that was sent or never failed. The caller queues the alert."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.alerted_at is not None or not delivery.alert_error:
            raise ValueError("its alert has not failed.")
        reason = delivery.alert_error
        delivery.alert_error = ""
        delivery.save(update_fields=["alert_error"])
        audit.record(
            "ciss.delivery.alert_resent",
            actor=actor,
            request=request,
            target=delivery,
            details={"exchange": str(delivery.exchange.public_id), "reason": reason},
        )
    return delivery
