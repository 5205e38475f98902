"""Delivery of exchanges (``ciss.exchanges.delivery``): thin tasks that take ids and call
a service, so running one twice changes nothing the first run did."""

from celery import shared_task
from celery.app.task import Task
from django.conf import settings

from ciss.exchanges import delivery


@shared_task(bind=True, max_retries=None)
def deliver_exchange(self: Task, exchange_id: int) -> int:  # type: ignore[type-arg]
    """Deliver an exchange's pending deliveries, retrying with capped backoff; after the
    last retry they fail, with the reason, for the help desk."""
    try:
        alert_ids = delivery.exchange_deliver(exchange_id=exchange_id)
    except Exception as error:  # any failure is retried; the last one is recorded
        reason = f"{type(error).__name__}: {error}"
        if self.request.retries >= settings.CISS_DELIVERY_MAX_RETRIES:
            delivery.deliveries_fail(exchange_id=exchange_id, reason=reason)
            return 0
        delay = delivery.retry_delay(self.request.retries)
        delivery.retry_scheduled(exchange_id=exchange_id, delay=delay, reason=reason)
        raise self.retry(exc=error, countdown=delay) from error
    if alert_ids:
        send_alerts.delay(alert_ids)
    return len(alert_ids)


@shared_task(bind=True, max_retries=None)
def send_alerts(self: Task, delivery_ids: list[int]) -> int:  # type: ignore[type-arg]
    """E-mail the recipients who asked for it; a mail server error is retried, and after
    the last retry the reason is kept on the delivery."""
    try:
        return delivery.alerts_send(delivery_ids=delivery_ids)
    except Exception as error:  # mail servers fail in many ways; all are retried
        reason = f"{type(error).__name__}: {error}"
        if self.request.retries >= settings.CISS_DELIVERY_MAX_RETRIES:
            delivery.alerts_fail(delivery_ids=delivery_ids, reason=reason)
            return 0
        raise self.retry(exc=error, countdown=delivery.retry_delay(self.request.retries)) from error


@shared_task
def sweep_pending_deliveries() -> int:
    """Queue again the deliveries whose task was lost (see ``exchanges_due_for_sweep``)."""
    due = delivery.exchanges_due_for_sweep()
    for exchange_id in due:
        deliver_exchange.delay(exchange_id)
    return len(due)
