"""Batch person search (``ciss.batch``): thin tasks that take ids and call a service.

``run_batch_search`` is idempotent: a batch already done or failed is not searched again,
and one running under another worker is left to it. It runs under ``ciss.batch``'s
``TIME_LIMIT`` (longer than the project's default, for 5,000 rows); at the soft limit the
batch is failed with a message. A batch left "running" by a lost worker is taken over by
a redelivered task once ``STALE_AFTER`` has passed, and failed by
``fail_stuck_batch_searches`` (every ten minutes by beat, ``cjis/celery.py``) so its owner
knows to upload the file again; until then its page says it seems stuck.

Queued by ``ciss.batch_views`` once the upload commits. Registered with workers through
``ciss.tasks``, which Celery's autodiscovery imports.
"""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from ciss import batch

logger = logging.getLogger(__name__)

_SOFT_LIMIT = int(batch.TIME_LIMIT.total_seconds())


@shared_task(soft_time_limit=_SOFT_LIMIT, time_limit=_SOFT_LIMIT + 60)
def run_batch_search(batch_id: int) -> str:
    """Search the batch's rows and store its results; what became of it (for the logs).
    Any error fails the batch with a message its owner can act on; the details are
    logged for the help desk, never shown."""
    try:
        done = batch.batch_run(batch_id=batch_id)
    except SoftTimeLimitExceeded:
        logger.warning("batch search %s: stopped at the time limit", batch_id)
        minutes = _SOFT_LIMIT // 60
        batch.batch_fail(
            batch_id=batch_id,
            reason=f"The search took longer than {minutes} minutes and was stopped. "
            "Split the file into smaller ones and upload them.",
        )
        return "failed"
    except Exception as error:  # whatever it was, the owner must not be left waiting
        logger.exception("batch search %s failed", batch_id)
        batch.batch_fail(
            batch_id=batch_id,
            reason=(
                f"The search stopped because of an unexpected error ({type(error).__name__}). "
                "Upload the file again; if it fails again, tell the help desk."
            ),
        )
        return "failed"
    return "skipped" if done is None else str(done.status)


@shared_task
def fail_stuck_batch_searches() -> int:
    """Fail the batches whose run or message was lost (``ciss.batch.batches_fail_stuck``)."""
    return batch.batches_fail_stuck()
