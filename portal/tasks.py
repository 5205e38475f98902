"""Periodic account housekeeping (scheduled in cjis/celery.py). Both are idempotent."""

from celery import shared_task

from portal import services


@shared_task
def disable_inactive_accounts() -> int:
    return services.accounts_disable_inactive()


@shared_task
def expire_temporary_passwords() -> int:
    return services.temporary_passwords_expire()
