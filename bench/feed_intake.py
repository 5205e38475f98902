"""Throughput of batch feed intake (``POST /api/v1/feeds/{kind}/`` with a JSON list).

Batches of 1,000 records go through the whole stack in process (Django's test client:
authentication by API key, scope check, JSON parsing, validation, person resolution,
upserts, status recomputation, one audit row per applied record, the JSON answer). The
persons the records name (by SID) are loaded first, in bulk.

Scenarios, each a number of batches of 1,000:

- **warrants, new**: every record a new warrant of another person (status and flags of
  1,000 persons recomputed per batch);
- **warrants, replay**: the same batches again (all unchanged: no writes, no audit);
- **warrants, update**: the same records, newer and served (1,000 updates);
- **cases, new**: new cases with three charges each;
- **persons, new**: ``POST /api/v1/persons/`` batches of new persons (each one matched
  against the index first), for comparison.

With ``--clients N`` each scenario's batches are shared among N processes posting at the
same time, as several source systems feeding a server with several workers: the figures
are then the whole machine's, from the moment all N are ready to the last answer.

It runs against whatever database ``DATABASE_URL`` names (the embedded SQLite without it),
but never in that database: like ``bench/audit_chain.py`` it creates a dedicated one
(``bench_feeds`` on PostgreSQL, a temporary file on SQLite), migrates it and drops it at
the end. Figures are printed and written to ``bench/results/``::

    .venv/bin/python bench/feed_intake.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/feed_intake.py
"""

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cjis.settings")

from bench.support import cpu_model, create_bench_database, describe_database  # noqa: E402

BENCH_DATABASE = "bench_feeds"
BATCH = 1000


@dataclass
class Run:
    scenario: str
    batches: int
    records: int
    seconds: float
    per_second: float
    batch_p50_ms: float
    batch_max_ms: float
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class Report:
    clients: int
    database: str
    database_version: str
    durability: str
    python: str
    platform: str
    cpus: int
    cpu_model: str
    persons_loaded: int
    runs: list[Run] = field(default_factory=list)


# Database (as bench/audit_chain.py does it) -----------------------------------------------


# Data ---------------------------------------------------------------------------------------


_GENERATOR: Any = None


def _synth(n: int) -> Any:
    """Synthetic person number ``n`` (the same for the same ``n``)."""
    global _GENERATOR
    from obts.synthetic import Generator

    if _GENERATOR is None:
        _GENERATOR = Generator(seed=7)
    return _GENERATOR.person(n)


def _sid(n: int) -> str:
    return f"BN{n:08d}"


def _load_persons(count: int) -> None:
    """Persons with a primary name (realistic name frequencies, from obts.synthetic), its
    matching keys and a SID, in bulk (the feed records name them by SID)."""
    from django.db import transaction

    from obts.matching import key_hashes, name_keys
    from obts.models import IdentifierKind, NameKey, Person, PersonIdentifier, PersonName

    step = 5000
    for start in range(0, count, step):
        numbers = range(start, min(count, start + step))
        synth = [_synth(n) for n in numbers]
        with transaction.atomic():
            persons = Person.objects.bulk_create([Person(sex=s.sex) for s in synth])
            names = PersonName.objects.bulk_create(
                [
                    PersonName(
                        person=person,
                        is_primary=True,
                        first_name=s.primary.first,
                        middle_name=s.primary.middle,
                        last_name=s.primary.last,
                        dob=s.primary.dob,
                    )
                    for person, s in zip(persons, synth, strict=True)
                ]
            )
            NameKey.objects.bulk_create(
                [
                    NameKey(name=name, key=key)
                    for name in names
                    for key in key_hashes(
                        name_keys(name.first_name, name.middle_name, name.last_name, name.dob)
                    )
                ],
                batch_size=5000,
            )
            PersonIdentifier.objects.bulk_create(
                [
                    PersonIdentifier(person=person, kind=IdentifierKind.SID, value=_sid(n))
                    for person, n in zip(persons, numbers, strict=True)
                ]
            )
    _analyze()


def _analyze() -> None:
    """Table statistics, as autovacuum keeps them on a live database: without them the
    planner takes the freshly loaded tables for empty ones."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _as_of(step: int) -> str:
    return (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=step)).isoformat()


def _warrant(n: int, step: int, status: str = "active") -> dict[str, Any]:
    record: dict[str, Any] = {
        "source_system": "JUD-PRAWN",
        "source_id": f"W-{n}",
        "as_of": _as_of(step),
        "person": {"sid": _sid(n)},
        "kind": "paperless re-arrest",
        "warrant_number": f"PR-{n}",
        "issued_on": "2026-01-02",
        "court": "GA14",
        "offense": "Failure to appear",
        "status": status,
    }
    if status == "served":
        record["served_on"] = "2026-01-03"
    return record


def _case(n: int) -> dict[str, Any]:
    return {
        "source_system": "JUD-CCMS",
        "source_id": f"C-{n}",
        "as_of": _as_of(0),
        "person": {"sid": _sid(n)},
        "docket_number": f"H14H-CR26-{n:07d}-S",
        "court_code": "GA14",
        "arresting_agency_ori": "CT0006400",
        "arrest_date": "2026-01-02",
        "status": "pending",
        "charges": [
            {"statute": "53a-125b", "description": "Larceny 6th", "charge_class": "misdemeanor_c"},
            {
                "statute": "53a-181",
                "description": "Breach of peace",
                "charge_class": "misdemeanor_b",
            },
            {"statute": "53a-167a", "description": "Interfering", "charge_class": "misdemeanor_a"},
        ],
    }


def _person(n: int) -> dict[str, Any]:
    """A person not yet known (a number past those loaded), realistic names."""
    synth = _synth(n)
    return {
        "source_system": "BENCH-MNI",
        "source_id": f"P-{n}",
        "first_name": synth.primary.first,
        "middle_name": synth.primary.middle,
        "last_name": synth.primary.last,
        "dob": str(synth.primary.dob) if synth.primary.dob else None,
        "sex": synth.sex,
        "sid": f"BP{n:08d}",
        "aliases": [
            {"first_name": a.first, "last_name": a.last, "dob": str(a.dob) if a.dob else None}
            for a in synth.aliases
        ],
        "addresses": [{"line1": f"{n} Main St", "city": "Hartford", "state": "CT"}],
    }


def _client_and_key() -> tuple[Any, str]:
    from django.conf import settings
    from django.test import Client

    from portal.models import Agency, ApiClient
    from portal.models.api_clients import hash_key, new_key

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    agency = Agency.objects.create(ori="CT0006400", name="Bench Court", kind="court")
    key, prefix = new_key()
    ApiClient.objects.create(
        agency=agency,
        name="bench",
        key_prefix=prefix,
        key_hash=hash_key(key),
        scopes=["feeds:write", "mni:write"],
        rate_limit_per_minute=1_000_000,
    )
    return Client(), key


def _run(
    client: Any, key: str, scenario: str, url: str, batches: list[list[dict[str, Any]]]
) -> Run:
    durations: list[float] = []
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    for batch in batches:
        body = json.dumps(batch)
        before = time.perf_counter()
        response = client.post(
            url, body, content_type="application/json", headers={"Authorization": f"Bearer {key}"}
        )
        durations.append(time.perf_counter() - before)
        if response.status_code != 200:
            raise SystemExit(f"error: {scenario}: HTTP {response.status_code} {response.content!r}")
        for result in response.json():
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    seconds = time.perf_counter() - started
    return _summary(scenario, batches, durations, statuses, seconds)


def _run_together(
    key: str, scenario: str, url: str, batches: list[list[dict[str, Any]]], clients: int
) -> Run:
    """``batches`` shared among ``clients`` processes (forked, each with its own database
    connection) posting at the same time; timed from when all are ready to the last."""
    import multiprocessing

    from django.db import connections

    context = multiprocessing.get_context("fork")
    ready = context.Barrier(clients + 1)
    answers = context.Queue()
    connections.close_all()  # each process opens its own
    workers = [
        context.Process(
            target=_client_process, args=(key, url, batches[number::clients], ready, answers)
        )
        for number in range(clients)
    ]
    for worker in workers:
        worker.start()
    ready.wait()
    started = time.perf_counter()
    results = [answers.get() for _ in workers]
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    durations: list[float] = []
    statuses: dict[str, int] = {}
    for result in results:
        if isinstance(result, str):
            raise SystemExit(f"error: {scenario}: {result}")
        durations += result[0]
        for status, count in result[1].items():
            statuses[status] = statuses.get(status, 0) + count
    return _summary(scenario, batches, durations, statuses, seconds)


def _client_process(
    key: str, url: str, batches: list[list[dict[str, Any]]], ready: Any, answers: Any
) -> None:
    from django.db import connection
    from django.test import Client

    client = Client()
    bodies = [json.dumps(batch) for batch in batches]
    connection.ensure_connection()
    ready.wait()
    durations: list[float] = []
    statuses: dict[str, int] = {}
    for body in bodies:
        before = time.perf_counter()
        response = client.post(
            url, body, content_type="application/json", headers={"Authorization": f"Bearer {key}"}
        )
        durations.append(time.perf_counter() - before)
        if response.status_code != 200:
            answers.put(f"HTTP {response.status_code} {response.content!r}")
            return
        for result in response.json():
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    connection.close()
    answers.put((durations, statuses))


def _summary(
    scenario: str,
    batches: list[list[dict[str, Any]]],
    durations: list[float],
    statuses: dict[str, int],
    seconds: float,
) -> Run:
    records = sum(len(batch) for batch in batches)
    ordered = sorted(durations)
    return Run(
        scenario=scenario,
        batches=len(batches),
        records=records,
        seconds=round(seconds, 2),
        per_second=round(records / seconds, 1),
        batch_p50_ms=round(ordered[len(ordered) // 2] * 1000, 1),
        batch_max_ms=round(ordered[-1] * 1000, 1),
        statuses=statuses,
    )


def _print(report: Report) -> None:
    print()
    print(f"Feed intake benchmark: {report.database_version} ({report.durability})")
    print(f"  database {report.database}; Python {report.python}; {report.platform}")
    print(f"  {report.cpus} CPUs ({report.cpu_model}); {report.persons_loaded:,} persons loaded")
    if report.clients > 1:
        print(f"  {report.clients} clients posting at the same time")
    print()
    header = (
        f"  {'scenario':<20} {'records':>8} {'seconds':>8} {'records/s':>10} "
        f"{'p50 batch ms':>13} {'max ms':>8}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for run in report.runs:
        print(
            f"  {run.scenario:<20} {run.records:>8} {run.seconds:>8.2f} {run.per_second:>10.0f} "
            f"{run.batch_p50_ms:>13.0f} {run.batch_max_ms:>8.0f}   {run.statuses}"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--batches", type=int, default=5, help="batches of 1,000 per scenario")
    parser.add_argument("--clients", type=int, default=1, help="processes posting at once (1)")
    parser.add_argument("--output", type=Path, help="JSON results file (default bench/results/)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.clients > args.batches:
        parser.error("--clients must be between 1 and --batches")

    import django

    django.setup()
    from django.urls import reverse

    drop = create_bench_database(BENCH_DATABASE)
    try:
        persons = args.batches * BATCH
        print(f"loading {persons:,} persons ...", flush=True)
        _load_persons(persons)
        client, key = _client_and_key()
        name, version, durability = describe_database()
        if args.clients > 1 and not version.startswith("PostgreSQL"):
            raise SystemExit("error: --clients needs PostgreSQL (SQLite has one writer at a time)")
        report = Report(
            clients=args.clients,
            database=name,
            database_version=version,
            durability=durability,
            python=platform.python_version(),
            platform=platform.platform(terse=True),
            cpus=os.cpu_count() or 0,
            cpu_model=cpu_model(),
            persons_loaded=persons,
        )
        numbers = [range(b * BATCH, (b + 1) * BATCH) for b in range(args.batches)]
        warrants = reverse("api-feed", kwargs={"kind": "warrants"})
        plan = [
            ("warrants, new", warrants, [[_warrant(n, 0) for n in r] for r in numbers]),
            ("warrants, replay", warrants, [[_warrant(n, 0) for n in r] for r in numbers]),
            (
                "warrants, update",
                warrants,
                [[_warrant(n, 1, "served") for n in r] for r in numbers],
            ),
            (
                "cases, new",
                reverse("api-feed", kwargs={"kind": "cases"}),
                [[_case(n) for n in r] for r in numbers],
            ),
            (
                "persons, new",
                reverse("api-persons-upsert"),
                [[_person(persons + n) for n in r] for r in numbers],
            ),
        ]
        for scenario, url, batches in plan:
            print(f"running: {scenario}, {len(batches)} batches of {BATCH:,} ...", flush=True)
            if args.clients > 1:
                report.runs.append(_run_together(key, scenario, url, batches, args.clients))
            else:
                report.runs.append(_run(client, key, scenario, url, batches))
    finally:
        drop()

    _print(report)
    vendor = "postgresql" if version.startswith("PostgreSQL") else "sqlite"
    suffix = f"-{args.clients}-clients" if args.clients > 1 else ""
    output = args.output or REPO / "bench" / "results" / f"feed_intake-{vendor}{suffix}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(asdict(report), indent=2) + "\n")
    shown = output.relative_to(REPO) if output.is_relative_to(REPO) else output
    print(f"Results written to {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
