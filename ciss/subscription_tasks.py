"""Subscription alerts (``ciss.subscription_alerts``): thin tasks that take ids and call
a service. Each is idempotent: alerts are keyed by what touched the subscription and
e-mails are claimed before they go, so a task run twice changes nothing more.

Queued by ``ciss.subscriptions`` (after an exchange or a change of records commits) and
by beat (``cjis/celery.py``: digests, reminders, expiry).
"""

from celery import shared_task
from django.conf import settings

from ciss import subscription_alerts
from ciss.exchanges.delivery import retry_delay


@shared_task
def alert_exchange_followers(exchange_id: int) -> int:
    """Alert the followers of what an exchange names; e-mail the real-time ones."""
    alert_ids = subscription_alerts.alerts_for_exchange(exchange_id)
    if alert_ids:
        email_alerts.delay(alert_ids)
    return len(alert_ids)


@shared_task
def alert_exchanges_followers(exchange_ids: list[int]) -> int:
    """``alert_exchange_followers`` for several exchanges accepted together."""
    alert_ids = subscription_alerts.alerts_for_exchanges(exchange_ids)
    if alert_ids:
        email_alerts.delay(alert_ids)
    return len(alert_ids)


@shared_task
def alert_record_followers(
    kind: str, person_ids: list[int], case_ids: list[int], plates: list[list[str]], change: str
) -> int:
    """Alert the followers of what a change of feed records touched (``change`` names it,
    so a second run alerts no one again); e-mail the real-time ones."""
    alert_ids = subscription_alerts.alerts_for_records(
        kind, person_ids, case_ids, plates, change=change
    )
    if alert_ids:
        email_alerts.delay(alert_ids)
    return len(alert_ids)


@shared_task
def email_alerts(alert_ids: list[int], attempt: int = 0) -> int:
    """E-mail real-time alerts; a mail server error is tried again after a capped
    backoff, and after the last attempt the reason is kept on the alerts."""
    try:
        return subscription_alerts.alerts_email(alert_ids=alert_ids)
    except Exception as error:  # mail servers fail in many ways; all are retried
        reason = f"{type(error).__name__}: {error}"
        if attempt >= settings.CISS_DELIVERY_MAX_RETRIES:
            subscription_alerts.alerts_email_failed(alert_ids=alert_ids, reason=reason)
            return 0
        email_alerts.apply_async((alert_ids, attempt + 1), countdown=retry_delay(attempt))
        return 0


@shared_task
def send_daily_digests() -> int:
    return subscription_alerts.digests_send()


@shared_task
def send_renewal_reminders() -> int:
    return subscription_alerts.reminders_send()


@shared_task
def end_expired_subscriptions() -> int:
    return subscription_alerts.subscriptions_expire()
