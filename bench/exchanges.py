"""Early arrest notices through ``POST /api/v1/exchanges/`` with the real parts: PostgreSQL,
a private Redis, gunicorn and one Celery worker (and beat), at a fixed arrival rate.

The targets (CISS exchanges issue), on this 2-core machine:

1. sustained intake of at least 150 notices per second, the answer's p95 under 50 ms;
2. from the API's answer to the recipients' inbox rows (``Delivery.delivered_at``), p95
   under 1 second at 50 notices per second;
3. 10% of the requests replayed (same key and body), with no duplicate.

The script creates its own database (``bench_exchanges`` on the server ``DATABASE_URL``
names, default ``postgres://postgres@127.0.0.1:5432/postgres``), dropped first and at the
end unless ``--keep-database``; migrates it, loads a population for the matcher to search
(``generate_persons``), seeds GA14 as the exchange tests do (``court_setup``: each notice
goes to two clerks and a prosecutor) and an API key. It then starts redis-server on a
free port, gunicorn, a Celery worker and beat with production settings (DEBUG off, a
random SECRET_KEY, LOG_LEVEL=WARNING, the TLS proxy's X-Forwarded-Proto sent), and an
open-loop load generator in this process: requests leave at their scheduled times, on
persistent connections, whatever the answers before them took; each answer time counts
from the scheduled time, so a server that falls behind cannot hide it.

    .venv/bin/python bench/exchanges.py
    .venv/bin/python bench/exchanges.py --seconds 60 --web-workers 3 --web-threads 4
    .venv/bin/python bench/exchanges.py --seconds 10 --profile 300 --py-spy
"""

import argparse
import cProfile
import http.client
import json
import os
import platform
import pstats
import queue
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cjis.settings")

from bench.stack import (  # noqa: E402
    MachineCpu,
    NotReady,
    ProcessSampler,
    Redis,
    Stack,
    cpu_seconds,
    free_port,
    tree_cpu_seconds,
)
from bench.support import cpu_calibration_ms, cpu_model, percentile  # noqa: E402

PATH = "/api/v1/exchanges/"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
RECIPIENTS = 3  # court_setup(): two clerks and a prosecutor receive each notice
EASTERN = ZoneInfo("America/New_York")


# What is sent ------------------------------------------------------------------------------


@dataclass
class Planned:
    offset: float  # seconds after the phase starts
    number: int  # the original request's number
    replay: bool


@dataclass
class Answer:
    status: int
    exchange_id: str
    replayed_header: bool
    scheduled: float  # time.monotonic()
    dispatched: float
    sent: float
    answered: float
    answered_wall: float  # time.time(), to compare with delivered_at
    error: str = ""
    reconnects: int = 0


def _offence(rng: random.Random) -> dict[str, Any]:
    from obts.synthetic import OFFENSES

    statute, description, charge_class = rng.choice(OFFENSES)
    severity, _, level = charge_class.partition("_")
    return {
        "statute": statute,
        "description": description,
        "severity": severity,
        "class": level.upper(),
        "counts": rng.choice([1, 1, 1, 2]),
    }


def notices(count: int, *, seed: int, tag: str, ori: str) -> list[bytes]:
    """``count`` early arrest notices for GA14, each about another synthetic person
    (realistic name frequencies, distinct name and date of birth) and with its own
    incident number; as the bytes sent."""
    from obts.synthetic import Generator

    generator = Generator(seed=seed, today=datetime.now(EASTERN).date())
    rng = random.Random(seed)
    now = datetime.now(EASTERN)
    seen: set[tuple[str, str, date | None]] = set()
    bodies: list[bytes] = []
    number = 0
    while len(bodies) < count:
        person = generator.person(number)
        number += 1
        name = person.primary
        if (name.first, name.last, name.dob) in seen:
            continue
        seen.add((name.first, name.last, name.dob))
        occurred = (now - timedelta(minutes=rng.randint(10, 20 * 60))).replace(microsecond=0)
        address = {k: v for k, v in person.address.items() if k in ("line1", "city", "state")}
        payload = {
            "type": "early_arrest_notice",
            "agency_ori": ori,
            "incident_number": f"{tag}-{len(bodies):06d}",
            "occurred_at": occurred.isoformat(),
            "subject": {
                "first_name": name.first,
                "middle_name": name.middle,
                "last_name": name.last,
                "suffix": name.suffix,
                "dob": name.dob.isoformat() if name.dob else "",
                "sex": person.sex,
                "race": person.race,
                "sid": "",
                "fbi_number": "",
                "dl_number": person.dl_number,
                "dl_state": person.dl_state,
                "address": address,
            },
            "charges": [_offence(rng) for _ in range(rng.choice([1, 1, 2, 3]))],
            "court": {"code": "GA14"},
            "arraignment_date": (occurred.date() + timedelta(days=1)).isoformat(),
            "narrative": "Taken into custody on a complaint; statement and property receipt "
            "attached to the packet.",
        }
        bodies.append(json.dumps(payload).encode())
    return bodies


def schedule(
    rate: float, seconds: float, first: int, *, replay_share: float, rng: random.Random
) -> list[Planned]:
    """Requests at ``rate`` per second for ``seconds``: new notices numbered from
    ``first``, and ``replay_share`` of the slots (chosen at random) a replay of a notice
    sent earlier in the phase."""
    slots = max(1, round(rate * seconds))
    replays = set(rng.sample(range(1, slots), min(slots - 1, round(slots * replay_share))))
    plan: list[Planned] = []
    sent: list[int] = []
    number = first
    for slot in range(slots):
        offset = slot / rate
        if slot in replays and sent:
            plan.append(Planned(offset, rng.choice(sent), True))
        else:
            plan.append(Planned(offset, number, False))
            sent.append(number)
            number += 1
    return plan


def originals(plan: list[Planned]) -> int:
    return sum(1 for p in plan if not p.replay)


# The load generator --------------------------------------------------------------------------


class LoadGenerator:
    """Threads that each keep one HTTP/1.1 connection open; the caller's thread hands
    out requests at their scheduled times (open loop)."""

    def __init__(self, port: int, api_key: str, connections: int, give_up: float) -> None:
        self.port = port
        self.give_up = give_up
        self.headers = {
            "Host": "127.0.0.1",
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            # What the TLS proxy in front of the portal adds (BEHIND_TLS_PROXY).
            "X-Forwarded-Proto": "https",
            "User-Agent": "bench-exchanges",
        }
        # Hand the interpreter lock over sooner (5 ms by default), so the thread that
        # keeps the schedule is not held up by those reading answers.
        sys.setswitchinterval(0.0005)
        self.jobs: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self._work, daemon=True, name=f"load-{n}")
            for n in range(connections)
        ]
        for thread in self.threads:
            thread.start()

    def close(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)
        for thread in self.threads:
            thread.join(timeout=70)

    def run(self, plan: list[Planned], bodies: list[bytes], keys: list[str]) -> list[Answer]:
        """Send ``plan``; return the answers in plan order once all have arrived."""
        answers: list[Answer | None] = [None] * len(plan)
        remaining = [len(plan)]
        finished = threading.Event()
        lock = threading.Lock()

        def done(index: int, answer: Answer) -> None:
            answers[index] = answer
            with lock:
                remaining[0] -= 1
                if remaining[0] == 0:
                    finished.set()

        start = time.monotonic() + 0.2
        for index, planned in enumerate(plan):
            target = start + planned.offset
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = bodies[planned.number]
            self.jobs.put((index, keys[planned.number], body, target, time.monotonic(), done))
        finished.wait()
        return [a for a in answers if a is not None]

    def _work(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while True:
            job = self.jobs.get()
            if job is None:
                if connection is not None:
                    connection.close()
                return
            index, key, body, scheduled, dispatched, done = job
            headers = {**self.headers, "Idempotency-Key": key}
            reconnects, error, status, data = 0, "", 0, b""
            replayed_header = False
            sent = time.monotonic()
            if sent - scheduled > self.give_up:
                # A client would have given up long ago; sending it now would only make
                # the phase last as long as the backlog.
                done(index, Answer(0, "", False, scheduled, dispatched, sent, sent, 0, "dropped"))
                continue
            for attempt in range(2):
                reused = connection is not None
                current = connection or http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=60
                )
                connection = current
                try:
                    current.request("POST", PATH, body=body, headers=headers)
                    response = current.getresponse()
                    data = response.read()
                    status = response.status
                    replayed_header = response.getheader("Idempotent-Replayed") == "true"
                    if response.will_close:
                        current.close()
                        connection = None
                    error = ""
                    break
                except (http.client.HTTPException, OSError) as failure:
                    current.close()
                    connection = None
                    error = f"{type(failure).__name__}: {failure}"
                    # The server may close a kept-alive connection between two requests;
                    # sending again is safe, the key makes it idempotent.
                    if not reused or attempt:
                        break
                    reconnects += 1
            answered, wall = time.monotonic(), time.time()
            exchange_id = ""
            if status == 202:
                try:
                    exchange_id = str(json.loads(data)["id"])
                except (ValueError, KeyError, TypeError):
                    error = f"202 without an id: {data[:200]!r}"
            elif status and not error:
                error = data[:200].decode(errors="replace")
            done(
                index,
                Answer(
                    status=status,
                    exchange_id=exchange_id,
                    replayed_header=replayed_header,
                    scheduled=scheduled,
                    dispatched=dispatched,
                    sent=sent,
                    answered=answered,
                    answered_wall=wall,
                    error=error,
                    reconnects=reconnects,
                ),
            )


# Measuring ---------------------------------------------------------------------------------


@dataclass
class CpuUse:
    """CPU used during a phase, in cores (CPU seconds per second of the phase)."""

    gunicorn: float
    celery_worker: float
    celery_beat: float
    redis: float
    postgres_backends: float
    load_generator: float
    machine: float
    everything_else: float
    steal: float


class CpuMeter:
    def __init__(self, stack: Stack, redis: Redis, database: str) -> None:
        self.stack, self.redis = stack, redis
        # A backend's process title: "postgres: <user> <database> <host> <state>".
        self.backends = ProcessSampler(f" {database} ")
        self.backends.start()

    def close(self) -> None:
        self.backends.stop()

    def _backends(self) -> dict[int, float]:
        return self.backends.sample()

    def snapshot(self) -> dict[str, Any]:
        processes = self.stack.processes
        redis_pid = self.redis.process.pid if self.redis.process else 0
        return {
            "wall": time.monotonic(),
            "gunicorn": tree_cpu_seconds(processes["web"].pid),
            "celery_worker": tree_cpu_seconds(processes["worker"].pid),
            "celery_beat": tree_cpu_seconds(processes["beat"].pid),
            "redis": cpu_seconds(redis_pid),
            "backends": self._backends(),
            "self": time.process_time(),
            "machine": MachineCpu.now(),
        }

    @staticmethod
    def between(before: dict[str, Any], after: dict[str, Any]) -> CpuUse:
        wall = after["wall"] - before["wall"]
        backends = sum(
            seconds - before["backends"].get(pid, 0.0) for pid, seconds in after["backends"].items()
        )
        ours = {
            name: after[name] - before[name]
            for name in ("gunicorn", "celery_worker", "celery_beat", "redis", "self")
        }
        machine = after["machine"].busy - before["machine"].busy
        steal = after["machine"].steal - before["machine"].steal
        rest = machine - sum(ours.values()) - backends
        return CpuUse(
            gunicorn=round(ours["gunicorn"] / wall, 2),
            celery_worker=round(ours["celery_worker"] / wall, 2),
            celery_beat=round(ours["celery_beat"] / wall, 2),
            redis=round(ours["redis"] / wall, 2),
            postgres_backends=round(backends / wall, 2),
            load_generator=round(ours["self"] / wall, 2),
            machine=round(machine / wall, 2),
            everything_else=round(max(0.0, rest) / wall, 2),
            steal=round(steal / wall, 2),
        )


def _commits(database: str) -> tuple[int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = %s",
            [database],
        )
        commit, rollback = cursor.fetchone()
    return int(commit), int(rollback)


@dataclass
class Phase:
    name: str
    rate: float
    seconds: float
    requests: int
    replays: int
    achieved_per_s: float = 0.0
    ok: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    new_p95_ms: float = 0.0
    replay_p50_ms: float = 0.0
    replay_p95_ms: float = 0.0
    dispatch_late_p99_ms: float = 0.0
    dispatch_late_max_ms: float = 0.0
    waited_for_connection: int = 0
    reconnects: int = 0
    generator_behind: bool = False
    inbox_notices: int = 0
    inbox_missing: int = 0
    inbox_p50_ms: float = 0.0
    inbox_p95_ms: float = 0.0
    inbox_p99_ms: float = 0.0
    inbox_max_ms: float = 0.0
    drain_s: float = 0.0
    commits_per_s: float = 0.0
    rollbacks: int = 0
    cpu: CpuUse | None = None
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)
    p95_by_second: list[float] = field(default_factory=list)


def _summarise(phase: Phase, plan: list[Planned], answers: list[Answer], started: float) -> None:
    statuses = Counter(
        str(a.status) if a.status else ("dropped" if a.error == "dropped" else "no answer")
        for a in answers
    )
    phase.statuses = dict(sorted(statuses.items()))
    phase.errors = sorted({a.error for a in answers if a.error and a.error != "dropped"})[:5]
    phase.ok = statuses.get("202", 0)
    last = max(a.answered for a in answers if a.error != "dropped")
    phase.achieved_per_s = round(phase.ok / (last - started), 1)
    times = [(a.answered - a.scheduled) * 1000 for a in answers if a.status == 202]
    new = [
        (a.answered - a.scheduled) * 1000
        for a, p in zip(answers, plan, strict=True)
        if a.status == 202 and not p.replay
    ]
    again = [
        (a.answered - a.scheduled) * 1000
        for a, p in zip(answers, plan, strict=True)
        if a.status == 202 and p.replay
    ]
    phase.p50_ms = round(statistics.median(times), 1) if times else 0.0
    phase.p95_ms = round(percentile(times, 0.95), 1)
    phase.p99_ms = round(percentile(times, 0.99), 1)
    phase.max_ms = round(max(times, default=0.0), 1)
    phase.new_p95_ms = round(percentile(new, 0.95), 1)
    phase.replay_p50_ms = round(statistics.median(again), 1) if again else 0.0
    phase.replay_p95_ms = round(percentile(again, 0.95), 1)
    by_second: dict[int, list[float]] = {}
    for a in answers:
        if a.status == 202:
            second = int(a.scheduled - answers[0].scheduled)
            by_second.setdefault(second, []).append((a.answered - a.scheduled) * 1000)
    phase.p95_by_second = [
        round(percentile(by_second.get(second, []), 0.95), 1)
        for second in range(max(by_second, default=-1) + 1)
    ]
    late = [(a.dispatched - a.scheduled) * 1000 for a in answers]
    phase.dispatch_late_p99_ms = round(percentile(late, 0.99), 1)
    phase.dispatch_late_max_ms = round(max(late), 1)
    phase.waited_for_connection = sum(1 for a in answers if a.sent - a.dispatched > 0.002)
    phase.reconnects = sum(a.reconnects for a in answers)
    # Behind: the dispatcher itself was late (not the server, which shows in the times).
    phase.generator_behind = phase.dispatch_late_p99_ms > 10 or phase.dispatch_late_max_ms > 100


def _run_filter(tag: str) -> Any:
    from ciss.models import Exchange

    return Exchange.objects.filter(idempotency_key__startswith=f"{tag}-")


def _drain(tag: str, expected: int, seconds: float) -> float:
    """Wait until the run's ``expected`` exchanges have all their deliveries delivered;
    the seconds waited (``seconds`` at most)."""
    from ciss.models import Delivery, DeliveryStatus

    started = time.monotonic()
    while time.monotonic() - started < seconds:
        deliveries = Delivery.objects.filter(exchange__idempotency_key__startswith=f"{tag}-")
        done = deliveries.filter(status=DeliveryStatus.DELIVERED).count()
        if (
            done >= expected * RECIPIENTS
            and not deliveries.exclude(status=DeliveryStatus.DELIVERED).exists()
        ):
            break
        time.sleep(0.25)
    return round(time.monotonic() - started, 1)


def _inbox_latency(phase: Phase, plan: list[Planned], answers: list[Answer]) -> None:
    """Per new notice: the last of its deliveries' ``delivered_at`` minus the moment its
    answer arrived (the same machine's clock)."""
    from django.db.models import Count, Max

    from ciss.models import Delivery

    arrived = {
        a.exchange_id: a.answered_wall
        for a, p in zip(answers, plan, strict=True)
        if a.status == 202 and not p.replay and not a.replayed_header
    }
    rows = (
        Delivery.objects.filter(exchange__public_id__in=list(arrived), delivered_at__isnull=False)
        .values("exchange__public_id")
        .annotate(last=Max("delivered_at"), n=Count("pk"))
    )
    latencies = []
    for row in rows:
        if row["n"] == RECIPIENTS:
            latencies.append(row["last"].timestamp() - arrived[str(row["exchange__public_id"])])
    ms = [s * 1000 for s in latencies]
    phase.inbox_notices = len(ms)
    phase.inbox_missing = len(arrived) - len(ms)
    phase.inbox_p50_ms = round(statistics.median(ms), 1) if ms else 0.0
    phase.inbox_p95_ms = round(percentile(ms, 0.95), 1)
    phase.inbox_p99_ms = round(percentile(ms, 0.99), 1)
    phase.inbox_max_ms = round(max(ms, default=0.0), 1)


# Verification ------------------------------------------------------------------------------


@dataclass
class Check:
    what: str
    value: str
    ok: bool


def verify(tag: str, keys: dict[str, int], answers: list[tuple[Planned, Answer]]) -> list[Check]:
    from django.db.models import Count, Q

    from ciss.models import Delivery, DeliveryStatus
    from portal.models import AuditEvent

    exchanges = _run_filter(tag)
    count = exchanges.count()
    ids = [str(i) for i in exchanges.values_list("public_id", flat=True)]
    deliveries = Delivery.objects.filter(exchange__in=exchanges)
    states = deliveries.aggregate(
        total=Count("pk"), delivered=Count("pk", filter=Q(status=DeliveryStatus.DELIVERED))
    )
    audited = (
        AuditEvent.objects.filter(action="ciss.exchange.delivered", object_id__in=ids)
        .values("object_id")
        .annotate(n=Count("pk"))
    )
    per_exchange = Counter(row["n"] for row in audited)
    twice = sum(n for times, n in per_exchange.items() if times > 1)
    never = count - sum(per_exchange.values())
    by_key: dict[int, list[Answer]] = defaultdict(list)
    for planned, answer in answers:
        if answer.error != "dropped":
            by_key[planned.number].append(answer)
    mismatched = replayed_headers = replays = 0
    for sent in by_key.values():
        accepted = [a for a in sent if a.status == 202]
        mismatched += len({a.exchange_id for a in accepted}) > 1
        if len(accepted) == len(sent):  # a key with a lost answer may be replayed unmarked
            replays += len(sent) - 1
            replayed_headers += sum(a.replayed_header for a in sent)
    persons = exchanges.values("person_id").distinct().count()
    without_person = exchanges.filter(person__isnull=True).count()
    return [
        Check("exchanges == distinct keys sent", f"{count} / {len(keys)}", count == len(keys)),
        Check(
            f"deliveries == {RECIPIENTS} x exchanges",
            f"{states['total']} / {RECIPIENTS * count}",
            states["total"] == RECIPIENTS * count,
        ),
        Check(
            "every delivery delivered",
            f"{states['delivered']} / {states['total']}",
            states["delivered"] == states["total"],
        ),
        Check(
            "exchanges with more than one ciss.exchange.delivered audit row",
            str(twice),
            twice == 0,
        ),
        Check("exchanges without a ciss.exchange.delivered audit row", str(never), never == 0),
        Check("keys answered with more than one id", str(mismatched), mismatched == 0),
        Check(
            "answers marked Idempotent-Replayed == requests after a key's first",
            f"{replayed_headers} / {replays}",
            replayed_headers == replays,
        ),
        Check("exchanges without a person", str(without_person), without_person == 0),
        Check("distinct persons (informative: one per subject expected)", str(persons), True),
    ]


# Profiles ------------------------------------------------------------------------------------


@dataclass
class ProfileRow:
    what: str
    calls_per_request: float
    ms_per_request: float
    queries_per_request: float = 0.0
    sql_ms_per_request: float = 0.0
    cpu_ms_per_request: float = 0.0


@dataclass
class Profile:
    requests: int
    wall_ms_per_request: float
    queries_per_request: float
    sql_ms_per_request: float
    cpu_ms_per_request: float = 0.0
    lock_held_ms_p50: float = 0.0
    lock_held_ms_mean: float = 0.0
    stages: list[ProfileRow] = field(default_factory=list)
    delivery: list[ProfileRow] = field(default_factory=list)
    delivery_lock_held_ms: float = 0.0
    sql: list[ProfileRow] = field(default_factory=list)
    profiled_ms_per_request: float = 0.0
    functions: list[ProfileRow] = field(default_factory=list)
    leaves: list[ProfileRow] = field(default_factory=list)
    sampled: list[ProfileRow] = field(default_factory=list)
    sampled_note: str = ""


# (label, module[:class], attribute): timed where they are looked up, so a function
# imported by name is patched in the module that calls it.
STAGES = [
    ("API key authentication", "portal.api.authentication:ApiKeyAuthentication", "authenticate"),
    ("rate limit (throttle)", "portal.api.throttling:ApiClientRateThrottle", "allow_request"),
    ("exchange_submit", "ciss.api.exchanges", "exchange_submit"),
    ("  idempotency look-up (_replay)", "ciss.exchanges.intake", "_replay"),
    ("  validate_exchange (JSON Schema)", "ciss.exchanges.intake", "validate_exchange"),
    ("  _accept (in the transaction)", "ciss.exchanges.intake", "_accept"),
    ("    subject: persons_upsert", "ciss.exchanges.intake", "_subject_person"),
    ("      find_person (the matcher)", "obts.services.persons", "find_person"),
    ("      persons_refresh (person's status)", "obts.services.persons", "persons_refresh"),
    ("    case and charges: feed_records_upsert", "ciss.exchanges.intake", "_record_case"),
    ("      persons_refresh (after the case)", "obts.services.feeds", "persons_refresh"),
    ("    routing: recipients_for", "ciss.exchanges.intake", "recipients_for"),
    ("    audit.record (3 rows, chain lock)", "portal.audit", "record"),
    ("  commit", "", "commit"),
    ("  on commit: queue_delivery (Celery, Redis)", "ciss.exchanges.intake", "queue_delivery"),
    ("  on commit: records_changed listeners", "", "listeners"),
]


class StageTimer:
    """Inclusive time, statements and statement time of each stage, per request; and how
    long each request held the audit chain's lock (from locking its head to the commit)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu_seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.queries: Counter[str] = Counter()
        self.sql_seconds: dict[str, float] = defaultdict(float)
        self.statement_seconds: dict[str, float] = defaultdict(float)
        self.statement_calls: Counter[str] = Counter()
        self.active: list[str] = []
        self.locked_at: float | None = None
        self.held: list[float] = []

    def wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.active.append(label)
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.cpu_seconds[label] += time.thread_time() - cpu
                self.calls[label] += 1
                self.active.pop()

        return timed

    def execute(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        if self.locked_at is None and "FOR UPDATE" in sql and "portal_auditchainhead" in sql:
            self.locked_at = started
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - started
            shape = _statement(sql)
            self.statement_seconds[shape] += spent
            self.statement_calls[shape] += 1
            for label in set(self.active):
                self.queries[label] += 1
                self.sql_seconds[label] += spent

    def committed(self) -> None:
        if self.locked_at is not None:
            self.held.append(time.perf_counter() - self.locked_at)
            self.locked_at = None


DELIVERY_STAGES = [
    ("exchange_deliver (the task's service)", "ciss.exchanges.delivery", "exchange_deliver"),
    ("  exchanges_status_refresh", "ciss.exchanges.delivery", "exchanges_status_refresh"),
    ("  audit.record (1 row, chain lock)", "portal.audit", "record"),
    ("  commit", "", "commit"),
    ("alerts_for_exchange (its followers)", "ciss.subscription_alerts", "alerts_for_exchange"),
]


@contextmanager
def stages_timed(timer: StageTimer, stages: list[tuple[str, str, str]]) -> Iterator[None]:
    """Patch the functions of ``stages`` (and the connection's commit, and the change
    listeners) with timed wrappers while the block runs."""
    import importlib

    from django.db import connection

    from obts.services import changes

    undo: list[Callable[[], None]] = []
    for label, where, attribute in stages:
        if not where:
            continue
        module_name, _, class_name = where.partition(":")
        owner: Any = importlib.import_module(module_name)
        if class_name:
            owner = getattr(owner, class_name)
        original = owner.__dict__[attribute] if class_name else getattr(owner, attribute)
        setattr(owner, attribute, timer.wrap(label, original))
        undo.append(partial(setattr, owner, attribute, original))
    commit = connection.commit
    commit_label = next(label for label, _, attribute in stages if attribute == "commit")

    def timed_commit() -> None:
        timer.wrap(commit_label, commit)()
        timer.committed()

    connection.commit = timed_commit  # type: ignore[method-assign]
    undo.append(lambda: delattr(connection, "commit"))
    listeners = list(changes._LISTENERS)
    label = "  on commit: records_changed listeners"
    changes._LISTENERS[:] = [timer.wrap(label, f) for f in listeners]
    undo.append(lambda: changes._LISTENERS.__setitem__(slice(None), listeners))
    try:
        with connection.execute_wrapper(timer.execute):
            yield
    finally:
        for step in reversed(undo):
            step()


def _statement(sql: str) -> str:
    """A statement's shape: its verb and the tables it names."""
    verb = sql.split(None, 1)[0].upper() if sql.strip() else "?"
    tables = list(dict.fromkeys(re.findall(r'(?:FROM|INTO|UPDATE|JOIN)\s+"(\w+)"', sql)))
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return verb
    if "FOR UPDATE" in sql or "FOR NO KEY UPDATE" in sql:
        verb += " ... FOR UPDATE"
    return f"{verb} {', '.join(tables[:3])}" if tables else sql[:60]


def wsgi_submitter(api_key: str) -> Callable[[bytes, str], None]:
    """A function submitting one notice through Django's WSGI handler in this process, as
    gunicorn calls it; it stops the script on any answer but 202."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    handler = WSGIHandler()
    factory = RequestFactory()
    headers = {
        "host": "127.0.0.1",
        "authorization": f"Bearer {api_key}",
        "x-forwarded-proto": "https",
    }

    def submit(body: bytes, key: str) -> None:
        environ = factory.post(
            PATH,
            data=body,
            content_type="application/json",
            headers={**headers, "idempotency-key": key},
        ).environ
        status: list[str] = []

        def start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code)
            return lambda data: None

        response = handler(environ, start_response)
        try:
            b"".join(response)
        finally:
            getattr(response, "close", lambda: None)()
        if not status[0].startswith("202"):
            raise SystemExit(f"error: in-process submission answered {status[0]}")

    return submit


def profile_in_process(bodies: list[bytes], keys: list[str], api_key: str, count: int) -> Profile:
    """Submit notices one at a time through Django's WSGI handler (as gunicorn calls it) in
    this process: ``count`` with each stage and statement timed, then ``count`` more under
    cProfile."""
    submit = wsgi_submitter(api_key)
    warm = 20
    notices = list(zip(bodies, keys, strict=True))
    for body, key in notices[:warm]:
        submit(body, key)
    timed = notices[warm : warm + count]
    timer = StageTimer()
    started, cpu = time.perf_counter(), time.thread_time()
    with stages_timed(timer, STAGES):
        for body, key in timed:
            submit(body, key)
    wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
    n = len(timed)
    all_sql = sum(timer.statement_seconds.values())
    result = Profile(
        requests=n,
        wall_ms_per_request=round(wall * 1000 / n, 2),
        cpu_ms_per_request=round(cpu * 1000 / n, 2),
        queries_per_request=round(sum(timer.statement_calls.values()) / n, 1),
        sql_ms_per_request=round(all_sql * 1000 / n, 2),
        lock_held_ms_p50=round(statistics.median(timer.held) * 1000, 2) if timer.held else 0.0,
        lock_held_ms_mean=round(statistics.fmean(timer.held) * 1000, 2) if timer.held else 0.0,
    )
    for label, _, _ in STAGES:
        if timer.calls[label]:
            result.stages.append(
                ProfileRow(
                    label,
                    round(timer.calls[label] / n, 2),
                    round(timer.seconds[label] * 1000 / n, 2),
                    round(timer.queries[label] / n, 1),
                    round(timer.sql_seconds[label] * 1000 / n, 2),
                    round(timer.cpu_seconds[label] * 1000 / n, 2),
                )
            )
    for shape, seconds in sorted(timer.statement_seconds.items(), key=lambda item: -item[1])[:25]:
        result.sql.append(
            ProfileRow(
                shape, round(timer.statement_calls[shape] / n, 2), round(seconds * 1000 / n, 3)
            )
        )

    deliveries = _profile_deliveries(submit, notices[warm + count : warm + 2 * count])
    result.delivery = deliveries.stages
    result.delivery_lock_held_ms = deliveries.lock_held_ms_mean

    profiled = notices[warm + 2 * count :]
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for body, key in profiled:
        submit(body, key)
    profiler.disable()
    m = max(1, len(profiled))
    result.profiled_ms_per_request = round((time.perf_counter() - started) * 1000 / m, 1)
    result.functions, result.leaves = _profile_rows(
        pstats.Stats(profiler), m, functions=30, leaves=20
    )
    return result


def _profile_rows(
    stats: pstats.Stats, requests: int, *, functions: int, leaves: int
) -> tuple[list[ProfileRow], list[ProfileRow]]:
    """The project's functions by cumulative time and all functions by own time, per
    request."""
    rows: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    ours = [
        (where, values)
        for where, values in rows.items()
        if "/.venv/" not in where[0] and where[0].startswith(str(REPO))
    ]
    by_cumulative = [
        ProfileRow(
            f"{Path(path).relative_to(REPO)}:{line} {name}",
            round(calls / requests, 2),
            round(cumulative * 1000 / requests, 3),
        )
        for (path, line, name), (_, calls, _, cumulative, _) in sorted(
            ours, key=lambda item: -item[1][3]
        )[:functions]
    ]
    by_own = [
        ProfileRow(
            f"{_short(path)}:{line} {name}",
            round(calls / requests, 2),
            round(own * 1000 / requests, 3),
        )
        for (path, line, name), (_, calls, own, _, _) in sorted(
            rows.items(), key=lambda item: -item[1][2]
        )[:leaves]
    ]
    return by_cumulative, by_own


@dataclass
class LotProfile:
    notices: int
    threads: int
    wall_ms: float
    notices_per_s: float
    cpu_ms_per_notice: float
    accepting_cpu_ms_per_notice: float
    lots: int
    alone: int
    lot_sizes: dict[str, int] = field(default_factory=dict)
    profiled_cpu_ms_per_notice: float = 0.0
    functions: list[ProfileRow] = field(default_factory=list)
    leaves: list[ProfileRow] = field(default_factory=list)


def profile_lots(
    bodies: list[bytes], keys: list[str], api_key: str, count: int, threads: int
) -> LotProfile:
    """Submit ``count`` notices from ``threads`` threads at once through Django's WSGI
    handler in this process, as a gunicorn worker's threads do under load, so that they
    gather into lots: this process's CPU per notice and the lots' sizes; then ``count``
    more with each thread under cProfile on its own CPU clock (waits excluded), merged."""
    from django.db import connection

    from ciss.exchanges import intake

    submit = wsgi_submitter(api_key)
    sizes: Counter[int] = Counter()
    accept_many = intake._batcher._accept_many
    accept_alone = intake._batcher._accept_alone

    accepting = [0.0]  # CPU seconds spent accepting (lots and alone), all threads

    def counted_many(items: list[Any], client: Any) -> list[Any]:
        sizes[len(items)] += 1
        cpu = time.thread_time()
        try:
            return accept_many(items, client)
        finally:
            accepting[0] += time.thread_time() - cpu

    def counted_alone(*args: Any) -> Any:
        sizes[1] += 1
        cpu = time.thread_time()
        try:
            return accept_alone(*args)
        finally:
            accepting[0] += time.thread_time() - cpu

    def run(notices: list[tuple[bytes, str]], profiled: bool) -> tuple[float, list[Any]]:
        pending = iter(notices)
        lock = threading.Lock()
        profilers: list[Any] = []
        errors: list[BaseException] = []

        def work() -> None:
            profiler = cProfile.Profile(time.thread_time) if profiled else None
            if profiler is not None:
                profilers.append(profiler)
                profiler.enable()
            try:
                while True:
                    with lock:
                        notice = next(pending, None)
                    if notice is None:
                        return
                    submit(*notice)
            except BaseException as error:  # reported after the run
                errors.append(error)
            finally:
                if profiler is not None:
                    profiler.disable()
                connection.close()

        workers = [threading.Thread(target=work) for _ in range(threads)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if errors:
            raise SystemExit(f"error: in-process lot submission failed: {errors[0]!r}")
        return time.perf_counter() - started, profilers

    notices = list(zip(bodies, keys, strict=True))
    run(notices[: threads * 2], profiled=False)  # connections opened, code warmed
    intake._batcher._accept_many = counted_many
    intake._batcher._accept_alone = counted_alone
    try:
        measured = notices[threads * 2 : threads * 2 + count]
        cpu = time.process_time()
        wall, _ = run(measured, profiled=False)
        cpu = time.process_time() - cpu
        result = LotProfile(
            notices=len(measured),
            threads=threads,
            wall_ms=round(wall * 1000, 1),
            notices_per_s=round(len(measured) / wall, 1),
            cpu_ms_per_notice=round(cpu * 1000 / len(measured), 2),
            accepting_cpu_ms_per_notice=round(accepting[0] * 1000 / len(measured), 2),
            lots=sum(n for size, n in sizes.items() if size > 1),
            alone=sizes[1],
            lot_sizes={str(size): n for size, n in sorted(sizes.items())},
        )
        profiled = notices[threads * 2 + count : threads * 2 + 2 * count]
        _, profilers = run(profiled, profiled=True)
    finally:
        intake._batcher._accept_many = accept_many
        intake._batcher._accept_alone = accept_alone
    stats = pstats.Stats(profilers[0])
    for profiler in profilers[1:]:
        stats.add(profiler)
    m = max(1, len(profiled))
    result.profiled_cpu_ms_per_notice = round(stats.total_tt * 1000 / m, 2)  # type: ignore[attr-defined]
    result.functions, result.leaves = _profile_rows(stats, m, functions=40, leaves=30)
    return result


def _profile_deliveries(
    submit: Callable[[bytes, str], None], notices: list[tuple[bytes, str]]
) -> Profile:
    """Submit each notice without queueing its delivery task, then run the task's service
    here, timed: what the Celery worker does per notice, without Celery."""
    from ciss import subscription_alerts
    from ciss.exchanges import delivery, intake

    taken: list[int] = []
    queue_delivery = intake.queue_delivery

    def take(exchange_id: int, *, alert_followers: bool = False) -> bool:
        taken.append(exchange_id)
        return True

    intake.queue_delivery = take
    timer = StageTimer()
    try:
        for body, key in notices:
            submit(body, key)
            with stages_timed(timer, DELIVERY_STAGES):
                while taken:
                    exchange_id = taken.pop()
                    delivery.exchange_deliver(exchange_id=exchange_id)
                    subscription_alerts.alerts_for_exchange(exchange_id)
    finally:
        intake.queue_delivery = queue_delivery
    n = max(1, len(notices))
    result = Profile(
        requests=n,
        wall_ms_per_request=0.0,
        queries_per_request=round(sum(timer.statement_calls.values()) / n, 1),
        sql_ms_per_request=round(sum(timer.statement_seconds.values()) * 1000 / n, 2),
        lock_held_ms_mean=round(statistics.fmean(timer.held) * 1000, 2) if timer.held else 0.0,
    )
    for label, _, _ in DELIVERY_STAGES:
        if timer.calls[label]:
            result.stages.append(
                ProfileRow(
                    label,
                    round(timer.calls[label] / n, 2),
                    round(timer.seconds[label] * 1000 / n, 2),
                    round(timer.queries[label] / n, 1),
                    round(timer.sql_seconds[label] * 1000 / n, 2),
                    round(timer.cpu_seconds[label] * 1000 / n, 2),
                )
            )
    return result


def _short(path: str) -> str:
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1]
    if path.startswith(str(REPO)):
        return str(Path(path).relative_to(REPO))
    return path


@contextmanager
def py_spy(pid: int, seconds: float, output: Path) -> Iterator[None]:
    """Sample gunicorn's workers (``pid`` and its children) with py-spy while the block
    runs, idle threads included (so waiting on the database counts)."""
    binary = Path(sys.executable).parent / "py-spy"
    if not binary.exists():
        raise SystemExit("error: --py-spy needs py-spy in the venv (.venv/bin/pip install py-spy)")
    process = subprocess.Popen(  # noqa: S603  (the venv's py-spy)
        [
            str(binary),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--idle",
            "--nonblocking",
            "--rate",
            "200",
            "--duration",
            str(int(seconds)),
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield
    finally:
        try:
            _, err = process.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        if process.returncode:
            print(f"py-spy failed: {err.decode(errors='replace')[-500:]}")


SAMPLED_EXTRA = (
    "django/core/handlers/base.py BaseHandler.get_response",
    "rest_framework/views.py APIView.dispatch",
    "rest_framework/views.py APIView.initial",
    "django/db/backends/utils.py CursorWrapper._execute",
    "django/db/backends/base/base.py BaseDatabaseWrapper.commit",
    "django/db/backends/base/base.py BaseDatabaseWrapper.ensure_connection",
    "django/db/backends/base/base.py BaseDatabaseWrapper.close_if_unusable_or_obsolete",
    "django/db/models/query.py QuerySet.get_or_create",
)


def sampled_costs(raw: Path, requests: int, rate: int = 200) -> tuple[list[ProfileRow], str]:
    """From py-spy's collapsed stacks: for the project's functions (and a few of Django's),
    the wall time per request that passed through them, waits included (in-request
    samples only)."""
    if not raw.exists():
        return [], "no samples"
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if "get_response (django/core/handlers/base.py" not in stack:
            continue
        samples = int(count)
        total += samples
        labels = set()
        for frame in stack.split(";"):
            name, _, where = frame.partition(" (")
            where = where.rstrip(")").rsplit(":", 1)[0]
            if "site-packages/" in where:
                where = where.split("site-packages/", 1)[1]
            elif where.startswith(str(REPO) + "/"):
                where = where[len(str(REPO)) + 1 :]
            label = f"{where} {name}"
            project = where.startswith(("ciss/", "obts/", "portal/")) and not name.endswith(
                "__call__"
            )
            if project or label in SAMPLED_EXTRA:
                labels.add(label)
        for label in labels:
            inclusive[label] += samples
    rows = [
        ProfileRow(label, 0.0, round(samples / rate * 1000 / max(requests, 1), 2))
        for label, samples in inclusive.most_common(40)
    ]
    note = f"{total} in-request samples at {rate}/s over {requests} answers"
    return rows, note


# Report ----------------------------------------------------------------------------------------


@dataclass
class Report:
    database: str
    database_version: str
    durability: str
    python: str
    platform: str
    cpus: int
    cpu_model: str
    calibration_ms: float
    load_average: str
    settings: dict[str, Any]
    population: int = 0
    phases: list[Phase] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    targets: list[Check] = field(default_factory=list)
    profile: Profile | None = None
    lot_profile: LotProfile | None = None


def _print(report: Report) -> None:
    print()
    print(f"Exchange intake benchmark: {report.database_version} ({report.durability})")
    print(f"  database {report.database}; Python {report.python}; {report.platform}")
    print(
        f"  {report.cpus} CPUs ({report.cpu_model}); calibration {report.calibration_ms} ms "
        "(bench/support.py: lower is faster); load average before the run "
        f"{report.load_average}"
    )
    print("  " + ", ".join(f"{k} {v}" for k, v in report.settings.items()))
    print(f"  population: {report.population:,} persons in the master name index")
    print()
    header = (
        f"  {'phase':<10} {'rate/s':>6} {'sent':>5} {'replays':>7} {'answered/s':>10} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'replay p95':>10}  statuses"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for p in report.phases:
        statuses = " ".join(f"{k}:{v}" for k, v in p.statuses.items())
        print(
            f"  {p.name:<10} {p.rate:>6.0f} {p.requests:>5} {p.replays:>7} "
            f"{p.achieved_per_s:>10.1f} {p.p50_ms:>7.1f} {p.p95_ms:>7.1f} {p.p99_ms:>7.1f} "
            f"{p.max_ms:>7.1f} {p.replay_p95_ms:>10.1f}  {statuses}"
        )
    print()
    print("  answer p95 of the requests scheduled in each second of the phase, ms")
    for p in report.phases:
        print(f"  {p.name:<10} " + " ".join(f"{ms:.0f}" for ms in p.p95_by_second))
    print()
    print("  answer -> inbox (last of the 3 deliveries' delivered_at - answer's arrival), ms")
    header = (
        f"  {'phase':<10} {'notices':>7} {'missing':>7} {'p50':>7} {'p95':>7} {'p99':>7} "
        f"{'max':>7} {'drain s':>7}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for p in report.phases:
        print(
            f"  {p.name:<10} {p.inbox_notices:>7} {p.inbox_missing:>7} {p.inbox_p50_ms:>7.1f} "
            f"{p.inbox_p95_ms:>7.1f} {p.inbox_p99_ms:>7.1f} {p.inbox_max_ms:>7.1f} "
            f"{p.drain_s:>7.1f}"
        )
    print()
    print("  CPU during each phase, in cores (of 2); CPU ms per request sent (not dropped)")
    header = (
        f"  {'phase':<10} {'gunicorn':>8} {'worker':>6} {'beat':>5} {'redis':>5} "
        f"{'pg':>5} {'loadgen':>7} {'others':>6} {'machine':>7} {'steal':>5}  per request"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for p in report.phases:
        c = p.cpu
        if c is None:
            continue
        per = ", ".join(f"{k} {v}" for k, v in p.cpu_ms_per_request.items())
        print(
            f"  {p.name:<10} {c.gunicorn:>8.2f} {c.celery_worker:>6.2f} {c.celery_beat:>5.2f} "
            f"{c.redis:>5.2f} {c.postgres_backends:>5.2f} {c.load_generator:>7.2f} "
            f"{c.everything_else:>6.2f} {c.machine:>7.2f} {c.steal:>5.2f}  {per}"
        )
    print()
    print("  load generator")
    for p in report.phases:
        state = "FELL BEHIND its schedule" if p.generator_behind else "kept to its schedule"
        print(
            f"  {p.name:<10} {state}: dispatch late p99 {p.dispatch_late_p99_ms} ms, max "
            f"{p.dispatch_late_max_ms} ms; {p.waited_for_connection} requests waited for a "
            f"free connection; {p.reconnects} reconnects; database {p.commits_per_s} "
            f"commits/s, {p.rollbacks} rollbacks"
        )
        for error in p.errors:
            print(f"             error: {error}")
    print()
    print("  checks")
    for check in report.checks:
        print(f"  {'ok    ' if check.ok else 'FAILED'} {check.what}: {check.value}")
    print()
    print("  targets")
    for check in report.targets:
        print(f"  {'met    ' if check.ok else 'NOT MET'} {check.what}: {check.value}")
    if report.profile is not None:
        _print_profile(report.profile)
    if report.lot_profile is not None:
        _print_lot_profile(report.lot_profile)
    print()


def _print_lot_profile(profile: LotProfile) -> None:
    print()
    sizes = ", ".join(f"{size}: {n}" for size, n in profile.lot_sizes.items())
    print(
        f"  in-process lots: {profile.notices} notices from {profile.threads} threads at once "
        f"through Django's WSGI handler: {profile.notices_per_s}/s, "
        f"{profile.cpu_ms_per_notice} ms of this process's CPU per notice; "
        f"{profile.lots} lots and {profile.alone} accepted alone (size: count {sizes})"
    )
    print(
        f"  of which accepting (the lots' and lone notices' transactions, on the threads' "
        f"CPU clocks) {profile.accepting_cpu_ms_per_notice} ms, the rest of the request "
        f"{profile.cpu_ms_per_notice - profile.accepting_cpu_ms_per_notice:.2f} ms"
    )
    print(
        f"  cProfile on each thread's CPU clock, {profile.notices} other notices: "
        f"{profile.profiled_cpu_ms_per_notice} ms of CPU per notice under the profiler"
    )
    print(f"  {'project function (cumulative CPU)':<80} {'calls':>6} {'ms/req':>7}")
    for row in profile.functions:
        print(f"  {row.what[:80]:<80} {row.calls_per_request:>6.2f} {row.ms_per_request:>7.3f}")
    print()
    print(f"  {'hottest functions (own CPU)':<80} {'calls':>6} {'ms/req':>7}")
    for row in profile.leaves:
        print(f"  {row.what[:80]:<80} {row.calls_per_request:>6.2f} {row.ms_per_request:>7.3f}")


def _stage_line(row: ProfileRow) -> str:
    return (
        f"  {row.what:<46} {row.calls_per_request:>5.2f} {row.ms_per_request:>7.2f} "
        f"{row.cpu_ms_per_request:>7.2f} {row.queries_per_request:>5.1f} "
        f"{row.sql_ms_per_request:>7.2f}"
    )


def _print_profile(profile: Profile) -> None:
    print()
    print(
        f"  in-process profile: {profile.requests} notices submitted one at a time through "
        f"Django's WSGI handler: {profile.wall_ms_per_request} ms each, of which "
        f"{profile.cpu_ms_per_request} ms of this process's CPU; "
        f"{profile.queries_per_request} statements taking {profile.sql_ms_per_request} ms "
        f"(round trips included)"
    )
    ceiling = 1000 / profile.lock_held_ms_mean if profile.lock_held_ms_mean else 0
    print(
        f"  audit chain lock held {profile.lock_held_ms_p50} ms per request (median; mean "
        f"{profile.lock_held_ms_mean}), from the first head lock to the commit: requests "
        f"pass it one at a time, so at most {ceiling:.0f} notices/s"
    )
    header = (
        f"  {'stage (inclusive), per request':<46} {'calls':>5} {'ms':>7} {'cpu ms':>7} "
        f"{'stmts':>5} {'sql ms':>7}"
    )
    print(header)
    for row in profile.stages:
        print(_stage_line(row))
    if profile.delivery:
        print()
        print(
            "  the delivery task's service, run here after each submission (without Celery); "
            f"chain lock held {profile.delivery_lock_held_ms} ms"
        )
        for row in profile.delivery:
            print(_stage_line(row))
    print()
    print(f"  {'statement':<62} {'per req':>7} {'ms/req':>7}")
    for row in profile.sql:
        print(f"  {row.what[:62]:<62} {row.calls_per_request:>7.2f} {row.ms_per_request:>7.3f}")
    print()
    print(
        f"  cProfile: {profile.requests} other notices, {profile.profiled_ms_per_request} ms each "
        "under the profiler (which inflates Python time)"
    )
    print(f"  {'project function (cumulative)':<80} {'calls':>6} {'ms/req':>7}")
    for row in profile.functions:
        print(f"  {row.what[:80]:<80} {row.calls_per_request:>6.2f} {row.ms_per_request:>7.3f}")
    print()
    print(f"  {'hottest functions (own time)':<80} {'calls':>6} {'ms/req':>7}")
    for row in profile.leaves:
        print(f"  {row.what[:80]:<80} {row.calls_per_request:>6.2f} {row.ms_per_request:>7.3f}")
    if profile.sampled:
        print()
        print(f"  py-spy in gunicorn during phase A ({profile.sampled_note}); wall ms/request")
        for row in profile.sampled:
            print(f"  {row.what[:90]:<90} {row.ms_per_request:>7.2f}")


# Setting up ------------------------------------------------------------------------------------


def _server_url(settings_dict: dict[str, Any], name: str) -> str:
    user = quote(str(settings_dict.get("USER") or "postgres"), safe="")
    password = settings_dict.get("PASSWORD")
    auth = f"{user}:{quote(str(password), safe='')}" if password else user
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{name}"


def fresh_database(name: str, *, keep: bool) -> None:
    """Point Django at ``name`` on the configured server: dropped and created again unless
    ``keep`` (then reused when it exists), and migrated."""
    from django.core.management import call_command
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        raise SystemExit("error: this benchmark needs PostgreSQL: set DATABASE_URL")
    if name == connection.settings_dict["NAME"]:
        raise SystemExit(
            f"error: DATABASE_URL names the database {name!r}, which this benchmark drops; "
            "give it an administrative database instead (e.g. postgres)"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        if exists and not keep:
            cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or not keep:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connections.close_all()
    connection.settings_dict["NAME"] = name
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    print(f"database {name} migrated in {time.monotonic() - started:.0f} s", flush=True)


def drop_database(name: str, admin: str) -> None:
    from django.db import connection, connections

    connections.close_all()
    connection.settings_dict["NAME"] = admin
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connections.close_all()


def populate(persons: int, seed: int) -> int:
    """At least ``persons`` synthetic people in the master name index (``generate_persons``),
    so that the matcher meets namesakes; the number held."""
    from django.core.management import call_command
    from django.db import connection

    from obts.models import Person

    have = Person.objects.count()
    if have < persons:
        print(f"loading {persons - have:,} synthetic persons ...", flush=True)
        started = time.monotonic()
        call_command("generate_persons", count=persons - have, start=have, seed=seed)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"loaded in {time.monotonic() - started:.0f} s", flush=True)
    return int(Person.objects.count())


def seed_court(tag: str) -> tuple[str, int]:
    """GA14 with its two clerks and prosecutor (``court_setup``, once per database) and a
    new API key of the Hartford police for this run; the key and the agency's id."""
    from ciss.models import CourtLocation
    from portal.models import Agency
    from portal.models.api_clients import ApiScope
    from tests.ciss.exchange_factories import POLICE_ORI, court_setup
    from tests.factories import make_api_client

    if not CourtLocation.objects.filter(code="GA14").exists():
        court_setup()
    police = Agency.objects.get(ori=POLICE_ORI)
    _, key = make_api_client(police, [ApiScope.EXCHANGES_SUBMIT], name=f"Bench RMS {tag}")
    return key, police.pk


def production_environment(redis_port: int, workdir: Path, *, debug: bool) -> None:
    """The settings a production start gets (docker-compose.yml), for this process and
    the ones it starts."""
    os.environ.update(
        {
            "DEBUG": "true" if debug else "false",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "DATA_DIR": str(workdir),
            "BEHIND_TLS_PROXY": "true",
        }
    )


# Main ------------------------------------------------------------------------------------------


def _phase(
    name: str,
    rate: float,
    seconds: float,
    *,
    first: int,
    args: argparse.Namespace,
    rng: random.Random,
) -> tuple[Phase, list[Planned]]:
    plan = schedule(rate, seconds, first, replay_share=args.replay_share, rng=rng)
    phase = Phase(
        name=name,
        rate=rate,
        seconds=seconds,
        requests=len(plan),
        replays=sum(p.replay for p in plan),
    )
    return phase, plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument(
        "--seconds", type=float, default=30, help="phase A's length (30; 0 skips it)"
    )
    parser.add_argument("--rate", type=float, default=150, help="phase A's notices/s (150)")
    parser.add_argument("--seconds-b", type=float, help="phase B's length (as --seconds)")
    parser.add_argument("--rate-b", type=float, default=50, help="phase B's notices/s (50)")
    parser.add_argument("--warm-up", type=float, default=5, help="seconds at phase A's rate")
    parser.add_argument("--replay-share", type=float, default=0.10, help="share replayed")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--web-threads", type=int, default=16, help="threads per worker (16)")
    parser.add_argument("--keep-alive", type=int, default=5, help="gunicorn --keep-alive (5)")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=20000,
        help="gunicorn --max-requests, as the image sets it (20000, jitter a tenth; 0: never)",
    )
    parser.add_argument("--no-access-log", action="store_true", help="no gunicorn access log")
    parser.add_argument("--worker-pool", default="prefork", help="Celery pool (prefork)")
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=None,
        help="Celery processes (default: the setting, CELERY_WORKER_CONCURRENCY)",
    )
    parser.add_argument("--connections", type=int, default=32, help="load generator's (32)")
    parser.add_argument("--persons", type=int, default=20_000, help="population (20,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="bench_exchanges")
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="reuse the database if it exists and leave it afterwards",
    )
    parser.add_argument("--debug", action="store_true", help="DEBUG=true (default false)")
    parser.add_argument(
        "--give-up",
        type=float,
        default=15,
        help="drop a request not sent within this many seconds of its time (15)",
    )
    parser.add_argument("--drain-timeout", type=float, default=120, help="seconds (120)")
    parser.add_argument(
        "--profile", type=int, default=0, help="then submit N notices in process under cProfile"
    )
    parser.add_argument(
        "--profile-lots",
        type=int,
        default=0,
        help="then submit N notices in process from --web-threads threads at once (lots)",
    )
    parser.add_argument(
        "--py-spy", action="store_true", help="sample gunicorn with py-spy during phase A"
    )
    parser.add_argument("--output", type=Path, help="JSON results file (default bench/results/)")
    args = parser.parse_args(argv)
    seconds_b = args.seconds_b if args.seconds_b is not None else args.seconds
    if args.rate <= 0 or args.rate_b <= 0 or min(args.seconds, seconds_b, args.warm_up) < 0:
        parser.error("rates must be positive and lengths not negative (0 skips a phase)")

    os.environ.setdefault("DATABASE_URL", DEFAULT_SERVER)
    workdir = Path(tempfile.mkdtemp(prefix="bench-exchanges-"))
    redis = Redis(port=free_port())
    production_environment(redis.port, workdir, debug=args.debug)

    import django

    # WhiteNoise's note that static files were not collected (the API serves none).
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.conf import settings

    if args.worker_concurrency is None:
        args.worker_concurrency = settings.CELERY_WORKER_CONCURRENCY
    if args.worker_concurrency < 1:
        parser.error("--worker-concurrency must be at least 1")
    from django.db import connection

    from bench.support import describe_database

    admin = str(connection.settings_dict["NAME"])
    calibration = cpu_calibration_ms()
    load_average = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    fresh_database(args.database, keep=args.keep_database)
    name, version, durability = describe_database()
    tag = f"b{int(time.time()):x}"
    # Redis first: seeding the court saves agencies, users and rules, and each save clears
    # the routing book's cached copy in the Redis the stack will use.
    redis.start()
    try:
        population = populate(args.persons, args.seed)
        api_key, _ = seed_court(tag)
    except BaseException:
        redis.stop()
        raise
    if args.rate * 60 > settings.API_RATE_LIMIT_PER_MINUTE * 0.9:
        print(
            f"warning: {args.rate:.0f}/s is near or over the API rate limit "
            f"({settings.API_RATE_LIMIT_PER_MINUTE}/min): expect 429s"
        )

    rng = random.Random(args.seed)
    phases: list[tuple[Phase, list[Planned]]] = []
    first = 0
    for phase_name, rate, seconds in (
        ("warm-up", args.rate, args.warm_up),
        ("A", args.rate, args.seconds),
        ("B", args.rate_b, seconds_b),
    ):
        if seconds <= 0:
            continue
        phase, plan = _phase(phase_name, rate, seconds, first=first, args=args, rng=rng)
        phases.append((phase, plan))
        first += originals(plan)
    spare = 3 * args.profile + 20 if args.profile else 0
    lot_spare = 2 * args.profile_lots + 2 * args.web_threads if args.profile_lots else 0
    total = first + spare + lot_spare
    print(f"making {total:,} notices ...", flush=True)
    bodies = notices(
        total, seed=args.seed + 1000, tag=tag.upper(), ori="CT0006400"
    )  # the ORI of court_setup()'s police
    keys = [f"{tag}-{n:06d}" for n in range(total)]

    report = Report(
        database=name,
        database_version=version,
        durability=durability,
        python=platform.python_version(),
        platform=platform.platform(terse=True),
        cpus=os.cpu_count() or 1,
        cpu_model=cpu_model(),
        calibration_ms=calibration,
        load_average=load_average,
        settings={
            "gunicorn": f"{args.web_workers}x{args.web_threads} threads",
            "keep-alive": args.keep_alive,
            "max-requests": args.max_requests,
            "celery": f"{args.worker_pool} x{args.worker_concurrency}",
            "DEBUG": args.debug,
            "connections": args.connections,
            "replays": f"{args.replay_share:.0%}",
        },
        population=population,
    )
    env = {
        **os.environ,
        "DATABASE_URL": _server_url(connection.settings_dict, args.database),
    }
    stack = Stack(env=env, workdir=workdir)
    generator: LoadGenerator | None = None
    meter: CpuMeter | None = None
    all_answers: list[tuple[Planned, Answer]] = []
    status = 0
    try:
        stack.start_web(
            workers=args.web_workers,
            threads=args.web_threads,
            keep_alive=args.keep_alive,
            max_requests=args.max_requests,
            access_log=not args.no_access_log,
        )
        stack.start_worker(pool=args.worker_pool, concurrency=args.worker_concurrency)
        stack.start_beat()
        meter = CpuMeter(stack, redis, args.database)
        generator = LoadGenerator(stack.web_port, api_key, args.connections, args.give_up)
        sent_keys: dict[str, int] = {}
        for phase, plan in phases:
            print(
                f"phase {phase.name}: {phase.requests} requests at {phase.rate:.0f}/s ...",
                flush=True,
            )
            before, commits = meter.snapshot(), _commits(args.database)
            started = time.monotonic() + 0.2
            spy = workdir / f"py-spy-{phase.name}.txt"
            if args.py_spy and phase.name == "A":
                with py_spy(stack.processes["web"].pid, phase.seconds, spy):
                    answers = generator.run(plan, bodies, keys)
            else:
                answers = generator.run(plan, bodies, keys)
            after = meter.snapshot()
            time.sleep(1.0)  # the statistics collector's flush
            commits_after = _commits(args.database)
            phase.cpu = CpuMeter.between(before, after)
            wall = after["wall"] - before["wall"]
            phase.commits_per_s = round((commits_after[0] - commits[0]) / wall, 1)
            phase.rollbacks = commits_after[1] - commits[1]
            served = max(1, sum(1 for a in answers if a.error != "dropped"))
            phase.cpu_ms_per_request = {
                part: round(getattr(phase.cpu, attribute) * wall * 1000 / served, 1)
                for part, attribute in (
                    ("gunicorn", "gunicorn"),
                    ("pg", "postgres_backends"),
                    ("worker", "celery_worker"),
                )
            }
            for planned, answer in zip(plan, answers, strict=True):
                if answer.error != "dropped":
                    sent_keys[keys[planned.number]] = planned.number
            _summarise(phase, plan, answers, started)
            all_answers.extend(zip(plan, answers, strict=True))
            expected = len(sent_keys)
            phase.drain_s = _drain(tag, expected, args.drain_timeout)
            _inbox_latency(phase, plan, answers)
            if args.py_spy and phase.name == "A":
                rows, note = sampled_costs(spy, phase.ok)
                report.profile = report.profile or Profile(0, 0, 0, 0)
                report.profile.sampled, report.profile.sampled_note = rows, note
            report.phases.append(phase)
        report.checks = verify(tag, sent_keys, all_answers)
        report.targets = _targets(report)
        # Nothing else of this process runs while it profiles: no sender, no sampler.
        generator.close()
        meter.close()
        generator = meter = None
        if args.profile:
            print(f"profiling {args.profile} notices in process ...", flush=True)
            sampled = report.profile
            report.profile = profile_in_process(bodies[first:], keys[first:], api_key, args.profile)
            if sampled is not None:
                report.profile.sampled = sampled.sampled
                report.profile.sampled_note = sampled.sampled_note
        if args.profile_lots:
            print(f"profiling {args.profile_lots} notices in lots in process ...", flush=True)
            report.lot_profile = profile_lots(
                bodies[first + spare :],
                keys[first + spare :],
                api_key,
                args.profile_lots,
                args.web_threads,
            )
        if not all(check.ok for check in report.checks):
            status = 1
    finally:
        if generator is not None:
            generator.close()
        if meter is not None:
            meter.close()
        stack.stop_all()
        redis.stop()
        problems = stack.problems()
        for problem in problems:
            print(problem)
        if not args.keep_database:
            drop_database(args.database, admin)
        if not problems and not args.keep_database:
            shutil.rmtree(workdir, ignore_errors=True)
    _print(report)
    output = args.output or REPO / "bench" / "results" / "exchanges.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(asdict(report), indent=2) + "\n")
    print(f"written to {output.relative_to(REPO) if output.is_relative_to(REPO) else output}")
    if workdir.exists():
        print(f"logs (gunicorn, Celery, py-spy samples) in {workdir}")
    return status


def _targets(report: Report) -> list[Check]:
    by_name = {p.name: p for p in report.phases}
    found = []
    a, b = by_name.get("A"), by_name.get("B")
    if a is not None:
        found.append(
            Check(
                f"intake at {a.rate:.0f}/s answered at least {a.rate:.0f}/s",
                f"{a.achieved_per_s}/s",
                a.achieved_per_s >= a.rate * 0.99 and a.ok == a.requests,
            )
        )
        found.append(Check("phase A answer p95 < 50 ms", f"{a.p95_ms} ms", a.p95_ms < 50))
    if b is not None:
        found.append(
            Check(
                f"answer -> inbox p95 < 1 s at {b.rate:.0f}/s",
                f"{b.inbox_p95_ms} ms",
                b.inbox_p95_ms < 1000 and b.inbox_missing == 0,
            )
        )
    dup = [c for c in report.checks if c.what.startswith(("exchanges ==", "deliveries =="))]
    found.append(
        Check(
            "replays made no duplicates",
            ", ".join(c.value for c in dup),
            all(c.ok for c in report.checks),
        )
    )
    return found


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except NotReady as error:
        raise SystemExit(f"error: {error}") from error
