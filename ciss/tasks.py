"""Delivery of exchanges (``ciss.exchanges.delivery``): thin tasks that take ids and call
a service, so running one twice changes nothing the first run did.

Retries are scheduled as new messages with a countdown rather than with ``Task.retry``:
the number of attempts lives on the delivery rows, so a retry queued by the task and one
queued by the sweeper count against the same limit.
"""

import logging
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from ciss import batch_tasks  # noqa: F401 - registers the batch search tasks with workers
from ciss.exchanges import delivery
from ciss.subscription_tasks import alert_exchange_followers, alert_exchanges_followers

logger = logging.getLogger(__name__)


@shared_task
def deliver_exchange(exchange_id: int, alert_followers: bool = False) -> int:
    """Deliver an exchange's pending deliveries; on failure, try again after a capped
    backoff, and after the last attempt fail them, with the reason, for the help desk.
    With ``alert_followers`` (intake's first task of an exchange), then alert the
    followers of what it names, whether or not the delivery succeeded."""
    try:
        alert_ids = delivery.exchange_deliver(exchange_id=exchange_id)
    except Exception as error:  # any failure is retried; the last one is recorded
        reason = f"{type(error).__name__}: {error}"
        logger.warning("exchange %s: delivery failed: %s", exchange_id, reason)
        delay = delivery.delivery_attempt_failed(exchange_id=exchange_id, reason=reason)
        if delay is not None:
            deliver_exchange.apply_async((exchange_id,), countdown=delay)
        alert_ids = []
    if alert_ids:
        send_alerts.delay(alert_ids)
    if alert_followers:
        _alert_followers(alert_exchange_followers, exchange_id)
    return len(alert_ids)


def _alert_followers(task: "Task[Any, int]", exchanges: int | list[int]) -> None:
    """Run ``task`` (the follower alerts of one exchange, or of a lot) here, right after
    delivering; should that fail, it is queued to run on its own."""
    try:
        task(exchanges)
    except Exception:  # the inboxes are filled; the alerts get a task of their own
        logger.warning("exchange %s: follower alerts failed here, queued", exchanges, exc_info=True)
        task.delay(exchanges)


@shared_task
def send_alerts(delivery_ids: list[int], attempt: int = 0) -> int:
    """E-mail the recipients who asked for it; a mail server error is tried again after
    a capped backoff, and after the last attempt the reason is kept on the delivery."""
    try:
        return delivery.alerts_send(delivery_ids=delivery_ids)
    except Exception as error:  # mail servers fail in many ways; all are retried
        reason = f"{type(error).__name__}: {error}"
        if attempt >= settings.CISS_DELIVERY_MAX_RETRIES:
            delivery.alerts_fail(delivery_ids=delivery_ids, reason=reason)
            return 0
        send_alerts.apply_async(
            (delivery_ids, attempt + 1), countdown=delivery.retry_delay(attempt)
        )
        return 0


@shared_task
def sweep_pending_deliveries() -> int:
    """Queue again the deliveries whose task was lost (see ``exchanges_due_for_sweep``)."""
    due = delivery.exchanges_due_for_sweep()
    for exchange_id in due:
        deliver_exchange.delay(exchange_id)
    return len(due)


@shared_task
def deliver_exchanges(exchange_ids: list[int], alert_followers: bool = False) -> int:
    """Deliver several exchanges accepted together, in one transaction, then alert their
    followers; should that fail, each is delivered on its own, as ``deliver_exchange``
    does (its own retries and failure for the help desk)."""
    try:
        alert_ids = delivery.exchanges_deliver(exchange_ids=exchange_ids)
    except Exception:  # each then takes its own path, with its own retries
        logger.warning("exchanges %s: delivered one by one", exchange_ids, exc_info=True)
        return sum(
            deliver_exchange(exchange_id, alert_followers=alert_followers)
            for exchange_id in exchange_ids
        )
    if alert_ids:
        send_alerts.delay(alert_ids)
    if alert_followers:
        _alert_followers(alert_exchanges_followers, exchange_ids)
    return len(alert_ids)
