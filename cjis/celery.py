"""The Celery application.

Reliability settings live in ``cjis/settings.py`` (``CELERY_*``): tasks are acknowledged
only after they finish (``acks_late``) and given back to the broker when a worker dies
(``task_reject_on_worker_lost``); each worker takes one message at a time (prefetch 1);
Redis's visibility timeout is longer than any countdown or retry backoff
(``CELERY_MAX_TASK_DELAY``), so a delayed task is never handed out twice. Without
``REDIS_URL`` tasks run eagerly in the web process.

Database connections: Celery's Django fixup closes a worker's connections after every
task, so each task would open a new one (a PostgreSQL backend started, authenticated and
its catalog caches filled, for a task of a few statements). A worker process instead
treats each task as Django treats a request: before and after it, a connection that is
broken, left in a transaction or older than ``CONN_MAX_AGE`` is closed, and any other is
kept for the next task. ``CELERY_DB_REUSE_MAX`` (settings) turns the fixup's own
closing into a full close every that many tasks.
"""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cjis.settings")

app = Celery("cjis")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _freeze_loaded(**_: object) -> None:
    """A worker process, its tasks loaded, freezes what it holds out of the garbage
    collector's full collections, as the web workers do (``cjis/wsgi.py``)."""
    from portal.collector import freeze_loaded

    freeze_loaded()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task: object = None, **_: object) -> None:
    """Around a task a worker runs, the connections Django would close around a request
    (see the module's description). A task run eagerly, inside the caller's request and
    perhaps its transaction, is left alone, as the fixup leaves it."""
    if getattr(getattr(task, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


app.conf.beat_schedule = {
    "sweep-pending-deliveries": {
        "task": "ciss.tasks.sweep_pending_deliveries",
        "schedule": float(os.environ.get("CISS_SWEEP_EVERY_SECONDS", "15")),
    },
    "disable-inactive-accounts": {
        "task": "portal.tasks.disable_inactive_accounts",
        "schedule": crontab(hour=2, minute=15),
    },
    "recompute-person-status": {
        "task": "obts.tasks.recompute_person_status",
        "schedule": crontab(hour=0, minute=20),
    },
    "expire-temporary-passwords": {
        "task": "portal.tasks.expire_temporary_passwords",
        "schedule": crontab(minute=5),
    },
    # Subscriptions (ciss/subscription_tasks.py). Beat runs in UTC: the digest goes out
    # early in the morning, Eastern time.
    "send-subscription-digests": {
        "task": "ciss.subscription_tasks.send_daily_digests",
        "schedule": crontab(hour=11, minute=0),
    },
    "send-subscription-reminders": {
        "task": "ciss.subscription_tasks.send_renewal_reminders",
        "schedule": crontab(hour=13, minute=0),
    },
    "end-expired-subscriptions": {
        "task": "ciss.subscription_tasks.end_expired_subscriptions",
        "schedule": crontab(minute=35),
    },
    "fail-stuck-batch-searches": {
        "task": "ciss.batch_tasks.fail_stuck_batch_searches",
        "schedule": crontab(minute="*/10"),
    },
}
