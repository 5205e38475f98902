"""Faults with the real parts: gunicorn answering the API, a Celery worker and beat, and a
Redis of the test's own (so stopping it disturbs nothing else), on the test's PostgreSQL
database. Nothing lost, nothing doubled:

- Redis stopped while a notice is submitted: the API still answers 202, and the notice
  reaches every inbox once Redis is back (the sweeper re-queues it);
- the worker killed while it delivers a burst: every notice is delivered, once;
- a replay storm of one key: one exchange, one delivery per recipient.

Runs only with ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` set, as ``make test``'s
second pass does.
"""

import json
import os
import shutil
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count

from bench.stack import Redis, Stack, free_port, wait_for
from ciss.models import Delivery, DeliveryStatus, Exchange
from portal.models import AuditEvent
from tests.ciss.exchange_factories import Court, court_setup, notice

REDIS_SERVER = shutil.which("redis-server")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (
            os.environ.get("DATABASE_URL", "").startswith("postgres")
            and os.environ.get("REDIS_URL")
        ),
        reason="needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL): make test's second pass",
    ),
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server"),
]


def stack_env(redis: Redis) -> dict[str, str]:
    """The processes' environment: the test's database, the test's own Redis, a sweeper
    that comes round every second and short retries."""
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}",
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
        "CISS_SWEEP_EVERY_SECONDS": "1",
        "CISS_SWEEP_AFTER_SECONDS": "2",
        "CISS_DELIVERY_RETRY_BASE_SECONDS": "1",
        "CISS_DELIVERY_RETRY_CAP_SECONDS": "2",
        "DEBUG": "true",
        "LOG_LEVEL": "WARNING",
    }


def submit(
    stack: Stack, key: str, payload: Any, idempotency_key: str
) -> tuple[int, dict[str, Any], float]:
    """POST an exchange to the stack's gunicorn: status, body (JSON, or the text when it
    is not) and seconds taken."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.web_port}/api/v1/exchanges/",
        data=json.dumps(payload).encode(),
        headers={
            "Authorization": f"Bearer {key}",
            "Idempotency-Key": idempotency_key,
            "Content-Type": "application/json",
        },
        method="POST",
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310  (http, local)
            return answer.status, json.loads(answer.read()), time.monotonic() - started
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            body = json.loads(text)
        except ValueError:
            body = {"not_json": text[:3000]}
        return error.code, body, time.monotonic() - started


def start_worker(stack: Stack) -> None:
    stack.start_worker(pool="solo", concurrency=1)


@pytest.fixture
def redis() -> Iterator[Redis]:
    server = Redis(port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(redis: Redis, tmp_path: Path) -> Iterator[Stack]:
    parts = Stack(env=stack_env(redis), workdir=tmp_path)
    try:
        parts.start_web(workers=2, threads=4, keep_alive=5, max_requests=0, access_log=False)
        start_worker(parts)
        parts.start_beat()
        yield parts
    finally:
        parts.stop_all()
        for problem in parts.problems():
            print(problem)


@pytest.fixture
def court() -> Court:
    return court_setup()


def all_delivered(count: int) -> Callable[[], bool]:
    def check() -> bool:
        statuses = list(Delivery.objects.values_list("status", flat=True))
        return len(statuses) == count and set(statuses) == {DeliveryStatus.DELIVERED}

    return check


def test_notice_submitted_while_redis_is_down_is_delivered_once_it_is_back(
    stack: Stack, redis: Redis, court: Court
) -> None:
    redis.stop()

    status, body, seconds = submit(stack, court.key, notice(), str(uuid.uuid4()))

    assert status == 202, body
    assert seconds < 10
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}

    redis.start()

    wait_for(all_delivered(3), seconds=60, what="the three deliveries once Redis is back")
    assert Delivery.objects.filter(recipient=court.clerk).count() == 1


def test_worker_killed_while_delivering_still_delivers_each_notice_once(
    stack: Stack, court: Court
) -> None:
    notices = 30
    for number in range(notices):
        status, body, _ = submit(
            stack, court.key, notice(incident_number=f"2026-{number:06d}"), f"burst-{number}"
        )
        assert status == 202, body
        if number == 10:
            stack.kill("worker")
            start_worker(stack)

    wait_for(all_delivered(notices * 3), seconds=90, what="every notice delivered")
    assert Exchange.objects.count() == notices
    per_exchange = AuditEvent.objects.filter(action="ciss.exchange.delivered").values("object_id")
    counts = per_exchange.annotate(n=Count("pk")).values_list("n", flat=True)
    assert sorted(set(counts)) == [1]
    assert len(counts) == notices


def test_replay_storm_makes_one_exchange(stack: Stack, court: Court) -> None:
    payload = notice()

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda _: submit(stack, court.key, payload, "storm-key"), range(40))
        )

    assert {status for status, _, _ in answers} == {202}
    assert len({body["id"] for _, body, _ in answers}) == 1
    assert Exchange.objects.count() == 1
    wait_for(all_delivered(3), seconds=30, what="the three deliveries")


def test_replays_among_new_notices_create_no_duplicates(stack: Stack, court: Court) -> None:
    keys = [f"mixed-{n}" for n in range(30)]
    plan = [(key, n) for n, key in enumerate(keys)] + [(keys[n], n) for n in range(0, 30, 10)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(
                lambda item: submit(
                    stack, court.key, notice(incident_number=f"2026-{item[1]:06d}"), item[0]
                ),
                plan,
            )
        )

    assert {status for status, _, _ in answers} == {202}
    assert Exchange.objects.count() == 30
    wait_for(all_delivered(90), seconds=60, what="every notice delivered")
