"""Daily recomputation of status and flags (scheduled in cjis/celery.py): "recently"
and expiry dates move with the calendar even when no record changes."""

from celery import shared_task

from obts.status import persons_recompute_all


@shared_task
def recompute_person_status() -> int:
    return persons_recompute_all()
