"""Throughput of the hash-chained audit log (``portal.audit.record`` and ``verify_chain``).

Every append locks the chain's head row until its transaction commits, so audited writes
are serialised portal-wide. This measures how many appends per second that allows, alone
and with concurrent writers, how long one append takes, and how fast the chain verifies.

It runs against whatever database ``DATABASE_URL`` names (the embedded SQLite without it),
but never in that database: Django's test-database machinery creates a dedicated one
(``bench_audit`` on PostgreSQL, a temporary file on SQLite), migrates it, and drops it at
the end. Figures are printed and written to ``bench/results/`` (see bench/README.md)::

    .venv/bin/python bench/audit_chain.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/audit_chain.py
"""

import argparse
import json
import multiprocessing
import os
import platform
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cjis.settings")

from bench.support import (  # noqa: E402
    cpu_model,
    create_bench_database,
    describe_database,
    percentile,
)

BENCH_DATABASE = "bench_audit"
BENCH_USERNAME = "bench-officer"
BENCH_ORI = "CT0006400"
BENCH_ACTION = "bench.person_search"
# Shape of a typical audited read: the query and the ten records it showed.
TYPICAL_DETAILS: dict[str, Any] = {
    "query": {"name": "Michaela Neumann", "dob": "1985-11-11", "sex": "F", "limit": 10},
    "reason": "traffic stop, incident 2026-000123",
    "results": [str(uuid.UUID(int=n)) for n in range(10)],
    "count": 10,
}
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
)


# Results ----------------------------------------------------------------------------------


@dataclass
class Sample:
    """What one worker did: its appends and the latency of each (seconds)."""

    appends: int = 0
    latencies: list[float] = field(default_factory=list)


@dataclass
class AppendRun:
    label: str
    workers: int
    mode: str
    seconds: float
    appends: int
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass
class VerifyRun:
    events: int
    seconds: float
    per_second: float


@dataclass
class Report:
    database: str
    database_version: str
    durability: str
    python: str
    platform: str
    cpus: int
    cpu_model: str
    seconds_per_run: float
    details_bytes: int
    appends: list[AppendRun] = field(default_factory=list)
    verify: VerifyRun | None = None


def _summarise(
    label: str, workers: int, mode: str, elapsed: float, samples: list[Sample]
) -> AppendRun:
    latencies = [latency for sample in samples for latency in sample.latencies]
    appends = sum(sample.appends for sample in samples)
    return AppendRun(
        label=label,
        workers=workers,
        mode=mode,
        seconds=round(elapsed, 2),
        appends=appends,
        per_second=round(appends / elapsed, 1) if elapsed else 0.0,
        p50_ms=round(percentile(latencies, 0.50) * 1000, 2),
        p95_ms=round(percentile(latencies, 0.95) * 1000, 2),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 2),
    )


# Database ---------------------------------------------------------------------------------


def _seed() -> None:
    from portal import services
    from portal.models import User

    agency, _ = services.agency_upsert(
        ori=BENCH_ORI, name="Hartford Police Department", kind="police", town="Hartford"
    )
    User.objects.create(username=BENCH_USERNAME, agency=agency, first_name="Dana")


# Appending --------------------------------------------------------------------------------


def _bench_request() -> "HttpRequest":
    from django.test import RequestFactory

    from portal.models import User

    request = RequestFactory().get(
        "/api/v1/search/persons",
        {"name": "Michaela Neumann"},
        REMOTE_ADDR="10.20.30.40",
        HTTP_USER_AGENT=USER_AGENT,
    )
    request.user = User.objects.select_related("agency").get(username=BENCH_USERNAME)
    return request


def _append(request: "HttpRequest", n: int) -> None:
    from portal import audit

    audit.record(
        BENCH_ACTION,
        request=request,
        object_type="obts.person",
        object_id=str(uuid.UUID(int=n)),
        details=TYPICAL_DETAILS,
    )


def _append_loop(start_at: float, stop_at: float, hold: float, hold_after: bool) -> Sample:
    """Append until ``stop_at`` (wall clock), each append its own transaction.

    With ``hold`` > 0 the transaction also spends that long on other work (sleeping stands
    for it), after the append when ``hold_after`` and before it otherwise.
    """
    from django.db import connection, transaction

    sample = Sample()
    try:
        request = _bench_request()  # opens this worker's own connection
        while time.time() < start_at:
            time.sleep(0.0005)
        while time.time() < stop_at:
            started = time.perf_counter()
            if hold:
                with transaction.atomic():
                    if not hold_after:
                        time.sleep(hold)
                    _append(request, sample.appends)
                    if hold_after:
                        time.sleep(hold)
            else:
                _append(request, sample.appends)
            sample.latencies.append(time.perf_counter() - started)
            sample.appends += 1
    finally:
        connection.close()
    return sample


def _run_appends(
    label: str, workers: int, mode: str, seconds: float, hold: float = 0.0, hold_after: bool = True
) -> AppendRun:
    from django.db import connections

    start_at = time.time() + 0.5 + 0.1 * workers
    stop_at = start_at + seconds
    arguments = [(start_at, stop_at, hold, hold_after)] * workers
    if mode == "thread":
        with ThreadPoolExecutor(max_workers=workers) as pool:
            samples = list(pool.map(lambda args: _append_loop(*args), arguments))
    else:
        # Forked children must not share the parent's database connection.
        connections.close_all()
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            samples = pool.starmap(_append_loop, arguments)
    elapsed = max(time.time(), stop_at) - start_at
    return _summarise(label, workers, mode, elapsed, samples)


# Verifying --------------------------------------------------------------------------------


def _fill_chain(total: int, batch: int = 5000) -> int:
    """Extend the chain to ``total`` events, quickly: rows built as ``record()`` builds them
    (same fields, same hashing) but inserted in bulk. Only ``verify_chain`` reads them."""
    from django.db import transaction
    from django.utils import timezone

    from portal.models import AuditEvent, User
    from portal.models.audit import AuditChainHead

    user = User.objects.select_related("agency").get(username=BENCH_USERNAME)
    details = json.loads(json.dumps(TYPICAL_DETAILS))
    added = 0
    while True:
        with transaction.atomic():
            head = AuditChainHead.objects.select_for_update().get(pk=1)
            missing = total - head.seq
            if missing <= 0:
                return added
            seq, previous = head.seq, head.hash
            events = []
            for _ in range(min(batch, missing)):
                seq += 1
                event = AuditEvent(
                    seq=seq,
                    occurred_at=timezone.now(),
                    actor=user,
                    actor_username=user.username,
                    agency=user.agency,
                    action=BENCH_ACTION,
                    object_type="obts.person",
                    object_id=str(uuid.UUID(int=seq)),
                    details=details,
                    ip="10.20.30.40",
                    user_agent=USER_AGENT,
                    prev_hash=previous,
                )
                event.hash = previous = event.compute_hash()
                events.append(event)
            AuditEvent.objects.bulk_create(events)
            AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=previous)
            added += len(events)


def _run_verify(total: int) -> VerifyRun:
    from portal.audit import verify_chain

    _fill_chain(total)
    started = time.perf_counter()
    result = verify_chain()
    seconds = time.perf_counter() - started
    if not result.ok:
        raise SystemExit(f"error: the benchmark chain does not verify: {result.first_break}")
    return VerifyRun(
        events=result.checked,
        seconds=round(seconds, 2),
        per_second=round(result.checked / seconds),
    )


# Output -----------------------------------------------------------------------------------


def _print_report(report: Report, hold_ms: float) -> None:
    print()
    print(f"Audit chain benchmark: {report.database_version} ({report.durability})")
    print(f"  database {report.database}; Python {report.python}; {report.platform}")
    print(f"  {report.cpus} CPUs ({report.cpu_model}); details {report.details_bytes} bytes")
    print()
    print(f"Appends, each in its own transaction, {report.seconds_per_run:g} s per row")
    header = (
        f"  {'run':<36} {'workers':>7} {'mode':<8} {'appends':>8} {'per s':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for run in report.appends:
        print(
            f"  {run.label:<36} {run.workers:>7} {run.mode:<8} {run.appends:>8} "
            f"{run.per_second:>8.0f} {run.p50_ms:>7.2f} {run.p95_ms:>7.2f} {run.p99_ms:>7.2f}"
        )
    print(f"  (rows with {hold_ms:g} ms of other work: latency is the whole transaction)")
    if report.verify is not None:
        verify = report.verify
        print()
        print(
            f"verify_chain: {verify.events:,} events in {verify.seconds:.2f} s = "
            f"{verify.per_second:,} events/s"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each run")
    parser.add_argument(
        "--verify-events", type=int, default=50_000, help="chain length for verify_chain"
    )
    parser.add_argument(
        "--hold-ms",
        type=float,
        default=5.0,
        help="other work in the same transaction, for the lock-hold rows",
    )
    parser.add_argument("--output", type=Path, help="JSON results file (default bench/results/)")
    args = parser.parse_args(argv)

    import django

    django.setup()
    drop = create_bench_database(BENCH_DATABASE)
    try:
        _seed()
        name, version, durability = describe_database()
        report = Report(
            database=name,
            database_version=version,
            durability=durability,
            python=platform.python_version(),
            platform=platform.platform(terse=True),
            cpus=os.cpu_count() or 0,
            cpu_model=cpu_model(),
            seconds_per_run=args.seconds,
            details_bytes=len(json.dumps(TYPICAL_DETAILS)),
        )
        hold = args.hold_ms / 1000
        plan: list[tuple[str, int, str, float, bool]] = [
            ("append", 1, "thread", 0.0, True),
            ("append", 2, "thread", 0.0, True),
            ("append", 4, "thread", 0.0, True),
            ("append", 2, "process", 0.0, True),
            ("append", 4, "process", 0.0, True),
            (f"append, then {args.hold_ms:g} ms work", 4, "thread", hold, True),
            (f"{args.hold_ms:g} ms work, then append", 4, "thread", hold, False),
        ]
        for label, workers, mode, hold_seconds, hold_after in plan:
            print(f"running: {label}, {workers} {mode} worker(s) ...", flush=True)
            report.appends.append(
                _run_appends(label, workers, mode, args.seconds, hold_seconds, hold_after)
            )
        print(f"running: verify_chain over {args.verify_events:,} events ...", flush=True)
        report.verify = _run_verify(args.verify_events)
    finally:
        drop()

    _print_report(report, args.hold_ms)
    vendor = "postgresql" if version.startswith("PostgreSQL") else "sqlite"
    output = args.output or REPO / "bench" / "results" / f"audit_chain-{vendor}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(asdict(report), indent=2) + "\n")
    print(
        f"Results written to {output.relative_to(REPO) if output.is_relative_to(REPO) else output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
