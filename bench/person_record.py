"""Server time of the person record page and ``GET /api/v1/persons/{id}`` with a large
master name index.

The target: for a heavy person (20 cases, 60 charges, sentences, custody and supervision
history, orders, warrants) the page and the API answer in under 30 ms at the 95th
percentile on PostgreSQL with 1,000,000 persons loaded.

Requests go through the whole stack in process: Django's WSGI handler, as gunicorn calls
it, with every middleware (session and MFA checks, access rules), the purpose, the
queries, the audit row each view writes, template rendering or JSON serialisation. The
time is the server's, without a network, and without the test client's instrumentation
(which copies every template context). DEBUG is off.

The population lives in its own PostgreSQL database (``bench_population`` by default) on
the server ``DATABASE_URL`` names. It is built on the first run with ``generate_persons``
(about 15 minutes for a million people on two cores) and kept for later runs, which top
it up if it holds fewer people than asked; drop it with ``dropdb bench_population``. The
heavy person is the one the query-count test pins (``tests/obts/factories_records``),
made once per database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/person_record.py
    ... bench/person_record.py --persons 100000 --requests 200
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cjis.settings")

from bench.support import (  # noqa: E402
    Server,
    check_answer,
    cpu_calibration_ms,
    cpu_model,
    describe_database,
    percentile,
    population_database,
)

WARM_UP = 20


@dataclass
class Run:
    scenario: str
    requests: int
    queries: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass
class Report:
    database: str
    database_version: str
    durability: str
    python: str
    platform: str
    cpus: int
    cpu_model: str
    calibration_ms: float = 0.0
    population: dict[str, int] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)


def _measure(scenario: str, urls: list[str], server: Server, warm: list[str], probe: str) -> Run:
    """Time ``urls`` after requesting ``warm``; the query count is that of ``probe``."""
    from django.db import connection

    for url in warm:
        check_answer(server.get(url), url)
    queries = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        check_answer(server.get(probe), probe)
    times = []
    for url in urls:
        started = time.perf_counter()
        answer = server.get(url)
        times.append((time.perf_counter() - started) * 1000)
        check_answer(answer, url)
    return Run(
        scenario=scenario,
        requests=len(urls),
        queries=queries,
        p50_ms=round(statistics.median(times), 2),
        p95_ms=round(percentile(times, 0.95), 2),
        p99_ms=round(percentile(times, 0.99), 2),
        max_ms=round(max(times), 2),
    )


def _heavy_person() -> Any:
    from obts.models import Person
    from tests.obts.factories_records import heavy_person

    existing = (
        Person.objects.filter(names__first_name="Morgan", names__last_name="Heavy")
        .order_by("pk")
        .first()
    )
    return existing or heavy_person()


def _viewers() -> tuple[Server, Server]:
    """Servers for an officer with every claim the page can use (a signed-in session)
    and for an API client with the records:read scope."""
    from django.test import Client

    from portal.models import Agency, ApiClient, User
    from portal.models.api_clients import ApiScope, hash_key, new_key
    from portal.roles import Claim, Role
    from tests.conftest import sign_in
    from tests.obts.factories_records import cj_user

    agency, _ = Agency.objects.get_or_create(
        ori="CT0000099", defaults={"name": "Benchmark Police Department", "kind": "police"}
    )
    user = User.objects.filter(username="bench-officer").first() or cj_user(
        "bench-officer", agency, roles=[Role.OFFICER], claims=list(Claim.values)
    )
    key, prefix = new_key()
    ApiClient.objects.create(
        agency=agency,
        name=f"Benchmark records system {prefix}",
        key_prefix=prefix,
        key_hash=hash_key(key),
        scopes=[ApiScope.RECORDS_READ],
    )
    from django.conf import settings

    session = sign_in(Client(), user).cookies[settings.SESSION_COOKIE_NAME].value
    browser = Server({"cookie": f"{settings.SESSION_COOKIE_NAME}={session}"})
    return browser, Server({"authorization": f"Bearer {key}"})


def _population() -> dict[str, int]:
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for label, table in (
            ("persons", "obts_person"),
            ("names", "obts_personname"),
            ("name keys", "obts_namekey"),
            ("cases", "obts_case"),
            ("charges", "obts_charge"),
        ):
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            counts[label] = int(cursor.fetchone()[0])
        cursor.execute("SELECT pg_database_size(current_database())")
        counts["database MB"] = int(cursor.fetchone()[0]) // (1024 * 1024)
    return counts


def _sample_persons(count: int) -> list[Any]:
    """Public ids of ``count`` persons picked at random across the id range."""
    from obts.models import Person

    highest = Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rng = random.Random(7)  # a repeatable sample, not a secret
    picks = [rng.randint(1, highest) for _ in range(count * 2)]
    ids = list(Person.objects.filter(pk__in=picks).values_list("public_id", flat=True))
    return ids[:count]


def _print(report: Report) -> None:
    print()
    print(f"Person record benchmark: {report.database_version} ({report.durability})")
    print(f"  database {report.database}; Python {report.python}; {report.platform}")
    print(
        f"  {report.cpus} CPUs ({report.cpu_model}); calibration {report.calibration_ms} ms "
        "(bench/support.py: lower is faster)"
    )
    print("  population: " + ", ".join(f"{k} {v:,}" for k, v in report.population.items()))
    print()
    header = (
        f"  {'scenario':<34} {'requests':>8} {'queries':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for run in report.runs:
        print(
            f"  {run.scenario:<34} {run.requests:>8} {run.queries:>7} {run.p50_ms:>7.1f} "
            f"{run.p95_ms:>7.1f} {run.p99_ms:>7.1f} {run.max_ms:>7.1f}"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--persons", type=int, default=1_000_000, help="population size")
    parser.add_argument("--requests", type=int, default=300, help="requests per scenario")
    parser.add_argument("--database", default="bench_population", help="population database")
    parser.add_argument("--output", type=Path, help="JSON results file (default bench/results/)")
    args = parser.parse_args(argv)
    if args.persons < 1 or args.requests < WARM_UP:
        parser.error(f"--persons must be positive and --requests at least {WARM_UP}")

    import django

    django.setup()
    from django.conf import settings

    population_database(args.database, args.persons)
    settings.DEBUG = False  # no query log, no debug cursor
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    name, version, durability = describe_database()
    report = Report(
        database=name,
        database_version=version,
        durability=durability,
        python=platform.python_version(),
        platform=platform.platform(terse=True),
        cpus=os.cpu_count() or 1,
        cpu_model=cpu_model(),
        calibration_ms=cpu_calibration_ms(),
    )
    heavy = _heavy_person()
    browser, machine = _viewers()
    report.population = _population()

    def page(public_id: Any) -> str:
        return f"/obts/persons/{public_id}/?purpose=criminal_investigation"

    def api(public_id: Any) -> str:
        return f"/api/v1/persons/{public_id}?purpose=criminal_investigation"

    from obts.record_cache import DEFAULT_SECONDS

    # Persons not viewed before: each view of the sample is a first view (a cache miss);
    # other persons warm the process up, one more gives the query count of a miss.
    people = _sample_persons(args.requests * 2 + WARM_UP * 2 + 2)
    sample, spare = people[: args.requests], people[args.requests :]
    heavy_page, heavy_api = page(heavy.public_id), api(heavy.public_id)
    heavy_warm = [heavy_page] * WARM_UP
    page_warm = [page(p) for p in spare[:WARM_UP]]
    api_warm = [api(p) for p in spare[WARM_UP : 2 * WARM_UP]]
    # (scenario, URLs, server, URLs to warm up with, URL whose queries are counted, cache)
    scenarios: list[tuple[str, list[str], Server, list[str], str, bool]] = [
        (
            "page, heavy person, cache off",
            [heavy_page] * args.requests,
            browser,
            heavy_warm,
            heavy_page,
            False,
        ),
        (
            "page, heavy person, cached",
            [heavy_page] * args.requests,
            browser,
            heavy_warm,
            heavy_page,
            True,
        ),
        (
            "API, heavy person, cache off",
            [heavy_api] * args.requests,
            machine,
            [heavy_api] * WARM_UP,
            heavy_api,
            False,
        ),
        (
            "API, heavy person, cached",
            [heavy_api] * args.requests,
            machine,
            [heavy_api] * WARM_UP,
            heavy_api,
            True,
        ),
        (
            "page, random persons, first view",
            [page(p) for p in sample],
            browser,
            page_warm,
            page(spare[-1]),
            True,
        ),
        (
            "API, random persons, first view",
            [api(p) for p in sample],
            machine,
            api_warm,
            api(spare[-2]),
            True,
        ),
    ]
    for scenario, urls, server, warm, probe, cached in scenarios:
        print(f"{scenario} ...", flush=True)
        settings.OBTS_RECORD_CACHE_SECONDS = DEFAULT_SECONDS if cached else 0
        report.runs.append(_measure(scenario, urls, server, warm, probe))
    _print(report)
    output = args.output or REPO / "bench" / "results" / "person_record.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(asdict(report), indent=2) + "\n")
    print(f"written to {output.relative_to(REPO) if output.is_relative_to(REPO) else output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
