"""Server time of person and plate search through the API with a million people.

The targets (the CISS search issue), on PostgreSQL with 1,000,000 persons (about 1.5
million names) on this 2-core machine, through the API: name and date of birth p95 under
50 ms; a name alone with a common surname p95 under 100 ms; a plate lookup p95 under
10 ms.

Requests go into Django's WSGI handler in process (``bench.support.Server``, as
``person_record.py`` does), with every middleware, API-key authentication, the scope
check, the rate limit, parameter validation, the search, its audit row (with the hash
chain's lock and the commit) and JSON serialisation. DEBUG is off. The time is the
server's, without a network.

The population is ``person_record.py``'s: the PostgreSQL database ``bench_population``
(``bench.support.population_database``: created, migrated and filled with
``generate_persons`` on the first run, about 15 minutes; topped up when short). Vehicles
are added to it with ``generate_vehicles`` (about one per person) when it holds fewer
synthetic vehicles than ``--vehicles``.

Scenarios, ``--requests`` each (300), after 20 warm-up requests of the same kind:

- ``name + dob``: persons drawn at random from the population, searched by
  ``first_name``, ``last_name`` and ``dob`` with typical damage in equal shares: none, one
  typo in the surname, one in the given name, a nickname, day and month swapped;
- ``name only, common``: the ten most frequent surnames of the population with its 32
  most frequent given names, each pair once ("James Smith"), without a date of birth;
- ``plate exact``, ``plate O/0``: plates of random vehicles with their state, as stored
  and with a 0 typed as O (or an O as 0);
- ``plate partial``: a plate of a random vehicle with its state and a wildcard: the first
  four characters and ``*``, ``*`` and the last four, or one or two characters as ``?``.

For the person scenarios the table also says how often the person the query was made
from came first and within the ten answered.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/search_speed.py
    ... bench/search_speed.py --requests 100 --only "plate exact" --only "name only, common"
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cjis.settings")

from bench.stack import MachineCpu, cpu_seconds  # noqa: E402
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
PURPOSE = "criminal_investigation"
COMMON_SURNAMES = 10
TARGETS_MS = {
    "name + dob": 50.0,
    "name only, common": 100.0,
    "plate exact": 10.0,
    "plate O/0": 10.0,
    "plate partial": 10.0,
}
DAMAGE = ("none", "surname typo", "given-name typo", "nickname", "day/month swapped")
SCENARIOS = tuple(TARGETS_MS)


@dataclass
class Run:
    scenario: str
    requests: int
    target_p95_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    queries_mean: float
    queries_max: int
    results_mean: float
    found_first: float | None = None
    found_in_ten: float | None = None
    load_average: tuple[float, float] = (0.0, 0.0)
    others_cores: float = 0.0
    bench_cores: float = 0.0
    postgres_cores: float = 0.0


@dataclass
class Report:
    database: str
    database_version: str
    durability: str
    python: str
    platform: str
    cpus: int
    cpu_model: str
    cache: str
    calibration_ms: list[float] = field(default_factory=list)
    population: dict[str, int] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)


@dataclass(frozen=True)
class Request:
    """One search: its URL and, for person searches, the public id of the person the
    query was made from."""

    url: str
    expected: str = ""


# The population -------------------------------------------------------------------------


def _ensure_vehicles(count: int, seed: int) -> None:
    from django.core.management import call_command

    from ciss.synthetic_vehicles import synthetic_count

    have = synthetic_count()
    if have < count:
        print(f"the population holds {have:,} synthetic vehicles; adding {count - have:,} ...")
        call_command("generate_vehicles", count=count - have, seed=seed)
    else:
        print(f"the population holds {have:,} synthetic vehicles", flush=True)


# What the searches read: the name keys' index, names, persons, the plate index and the
# vehicles (about 2.3 GB at a million persons).
PREWARMED = (
    "obts_namekey_pkey",
    "obts_personname",
    "obts_person",
    "vehicle_plate",
    "vehicle_plate_positions",
    "vehicle_plate_trigram",
    "ciss_vehicle",
)


def _prewarm() -> None:
    """Read what the searches use into memory first (``pg_prewarm``), as on a server that
    has been answering searches for a while; otherwise the first minutes measure the disk
    (name + dob p95 66 ms on a machine just started, 29 ms warm)."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        except DatabaseError as error:  # a server without the contrib module
            print(f"  pg_prewarm unavailable ({error}); measuring with a cold cache")
            return
        for relation in PREWARMED:
            cursor.execute("SELECT pg_prewarm(%s, 'read')", [relation])


def _population() -> dict[str, int]:
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for label, table in (
            ("persons", "obts_person"),
            ("names", "obts_personname"),
            ("name keys", "obts_namekey"),
            ("vehicles", "ciss_vehicle"),
        ):
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            counts[label] = int(cursor.fetchone()[0])
        cursor.execute("SELECT pg_database_size(current_database())")
        counts["database MB"] = int(cursor.fetchone()[0]) // (1024 * 1024)
    return counts


def _random_ids(model: Any, count: int, rng: random.Random) -> list[int]:
    """About ``count`` primary keys drawn at random across the id range (gaps skipped)."""
    highest = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    picks = {rng.randint(1, highest) for _ in range(count * 2)}
    found = list(model.objects.filter(pk__in=picks).values_list("pk", flat=True))
    rng.shuffle(found)
    return found[:count]


# The queries ----------------------------------------------------------------------------


def _person_url(first: str, last: str, dob: date | None) -> str:
    params = {"first_name": first, "last_name": last, "purpose": PURPOSE}
    if dob is not None:
        params["dob"] = dob.isoformat()
    return "/api/v1/search/persons?" + urlencode(params)


def _damaged(
    kind: str, first: str, last: str, dob: date, generator: Any
) -> tuple[str, str, date] | None:
    """The query made from a person's primary name and date of birth with one kind of
    damage; None when the person does not lend itself to it (no nickname, a day above
    12, a name too short to misspell)."""
    from obts.synthetic import NICKNAMES

    if kind == "none":
        return first, last, dob
    if kind == "surname typo":
        wrong = generator.misspell(last)
        return (first, wrong, dob) if wrong != last else None
    if kind == "given-name typo":
        wrong = generator.misspell(first)
        return (wrong, last, dob) if wrong != first else None
    if kind == "nickname":
        nicknames = NICKNAMES.get(first)
        return (generator.rng.choice(nicknames), last, dob) if nicknames else None
    if dob.day > 12 or dob.day == dob.month:
        return None
    return first, last, dob.replace(month=dob.day, day=dob.month)


def name_dob_requests(count: int, rng: random.Random) -> list[Request]:
    """``count`` name and date of birth searches made from random persons, the kinds of
    ``DAMAGE`` in turn."""
    from django.utils import timezone

    from obts.models import Person, PersonName
    from obts.synthetic import Generator

    generator = Generator(rng.randint(0, 10**6), timezone.localdate())
    ids = _random_ids(Person, count * 12, rng)
    rows = PersonName.objects.filter(
        person_id__in=ids, is_primary=True, dob__isnull=False, person__merged_into__isnull=True
    ).values_list("person__public_id", "first_name", "last_name", "dob")
    people = {str(public_id): (first, last, dob) for public_id, first, last, dob in rows if dob}
    pool = list(people.items())
    rng.shuffle(pool)
    requests: list[Request] = []
    for kind in (DAMAGE * count)[:count]:
        while pool:
            public_id, (first, last, dob) = pool.pop()
            query = _damaged(kind, first, last, dob, generator)
            if query is not None:
                requests.append(Request(_person_url(*query), public_id))
                break
        else:
            raise SystemExit("error: too few persons drawn for the name + dob queries")
    return requests


def common_name_requests(count: int) -> list[Request]:
    """Pairs of the population's ten most frequent surnames and as many of its most
    frequent given names as ``count`` needs, each pair once."""
    from django.db.models import Count

    from obts.models import PersonName

    def most_frequent(field_name: str, limit: int) -> list[str]:
        rows = (
            PersonName.objects.filter(is_primary=True)
            .values(field_name)
            .annotate(n=Count("id"))
            .order_by("-n", field_name)[:limit]
        )
        return [row[field_name] for row in rows]

    surnames = most_frequent("last_name", COMMON_SURNAMES)
    given = most_frequent("first_name", -(-count // len(surnames)))
    pairs = [(first, last) for first in given for last in surnames]
    return [Request(_person_url(first, last, None)) for first, last in pairs[:count]]


def _plate_url(plate: str, state: str) -> str:
    return "/api/v1/search/vehicles?" + urlencode(
        {"plate": plate, "state": state, "purpose": PURPOSE}
    )


def _o_zero(plate: str, rng: random.Random) -> str | None:
    """The plate with one 0 typed as O, or one O as 0; None without either."""
    spots = [i for i, c in enumerate(plate) if c in "0O"]
    if not spots:
        return None
    i = rng.choice(spots)
    return plate[:i] + ("O" if plate[i] == "0" else "0") + plate[i + 1 :]


def _partial(plate: str, turn: int, rng: random.Random) -> str | None:
    """The plate with a wildcard, four shapes in turn: ``ABCD*``, ``*WXYZ``, one ``?``,
    two ``?``; None for a plate too short to keep three known characters."""
    if len(plate) < 6:
        return None
    shape = turn % 4
    if shape == 0:
        return plate[:4] + "*"
    if shape == 1:
        return "*" + plate[-4:]
    spots = rng.sample(range(len(plate)), shape - 1)
    return "".join("?" if i in spots else c for i, c in enumerate(plate))


def plate_requests(
    count: int, rng: random.Random
) -> tuple[list[Request], list[Request], list[Request]]:
    """Exact, O/0 and partial plate searches of random vehicles, ``count`` each."""
    from ciss.models import Vehicle

    ids = _random_ids(Vehicle, count * 12, rng)
    vehicles = list(Vehicle.objects.filter(pk__in=ids).values_list("plate", "plate_state"))
    rng.shuffle(vehicles)
    exact = [Request(_plate_url(plate, state)) for plate, state in vehicles[:count]]
    confused = [
        Request(_plate_url(typed, state))
        for plate, state in vehicles[count:]
        if (typed := _o_zero(plate, rng)) is not None
    ][:count]
    partial: list[Request] = []
    for plate, state in reversed(vehicles):
        typed = _partial(plate, len(partial), rng)
        if typed is not None:
            partial.append(Request(_plate_url(typed, state)))
        if len(partial) == count:
            break
    if min(len(exact), len(confused), len(partial)) < count:
        raise SystemExit("error: too few vehicles drawn for the plate queries")
    return exact, confused, partial


# Measuring ------------------------------------------------------------------------------


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def measure(scenario: str, requests: list[Request], warm: list[Request], server: Server) -> Run:
    """Time ``requests`` one after another after ``warm``; count each one's statements and
    results, and the CPU the machine spent meanwhile (this process, its PostgreSQL
    backend, everything else)."""
    from django.db import connection

    for request in warm:
        check_answer(server.get(request.url), request.url)
    statements = 0

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, ctx)

    backend = _backend_pid()
    machine, own, database = MachineCpu.now(), time.process_time(), cpu_seconds(backend)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    times: list[float] = []
    queries: list[int] = []
    results: list[int] = []
    first = in_ten = 0
    with connection.execute_wrapper(count):
        for request in requests:
            statements = 0
            began = time.perf_counter()
            answer = server.get(request.url)
            times.append((time.perf_counter() - began) * 1000)
            check_answer(answer, request.url)
            queries.append(statements)
            ids = [item["id"] for item in json.loads(answer[1])["results"]]
            results.append(len(ids))
            if request.expected:
                first += ids[:1] == [request.expected]
                in_ten += request.expected in ids[:10]
    wall = time.perf_counter() - started
    after = MachineCpu.now()
    bench = time.process_time() - own
    postgres = cpu_seconds(backend) - database
    others = (after.busy - machine.busy) - bench - postgres
    expected = sum(1 for request in requests if request.expected)
    return Run(
        scenario=scenario,
        requests=len(requests),
        target_p95_ms=TARGETS_MS[scenario],
        p50_ms=round(statistics.median(times), 2),
        p95_ms=round(percentile(times, 0.95), 2),
        p99_ms=round(percentile(times, 0.99), 2),
        max_ms=round(max(times), 2),
        queries_mean=round(statistics.mean(queries), 1),
        queries_max=max(queries),
        results_mean=round(statistics.mean(results), 1),
        found_first=round(first / expected, 3) if expected else None,
        found_in_ten=round(in_ten / expected, 3) if expected else None,
        load_average=(round(load_before, 2), round(os.getloadavg()[0], 2)),
        others_cores=round(max(others, 0.0) / wall, 2),
        bench_cores=round(bench / wall, 2),
        postgres_cores=round(postgres / wall, 2),
    )


def _api_server() -> Server:
    """A server for an agency system whose key holds ``search:read``; its rate limit is
    raised so that the benchmark's pace is never refused."""
    from portal.models import Agency, ApiClient
    from portal.models.api_clients import ApiScope, hash_key, new_key

    agency, _ = Agency.objects.get_or_create(
        ori="CT0000099", defaults={"name": "Benchmark Police Department", "kind": "police"}
    )
    key, prefix = new_key()
    ApiClient.objects.create(
        agency=agency,
        name=f"Benchmark dispatch system {prefix}",
        key_prefix=prefix,
        key_hash=hash_key(key),
        scopes=[ApiScope.SEARCH_READ],
        rate_limit_per_minute=1_000_000,
    )
    return Server({"authorization": f"Bearer {key}"})


def _print(report: Report) -> None:
    print()
    print(f"Search speed benchmark: {report.database_version} ({report.durability})")
    print(f"  database {report.database}; cache {report.cache}; Python {report.python}")
    print(
        f"  {report.cpus} CPUs ({report.cpu_model}); calibration "
        + " / ".join(f"{c}" for c in report.calibration_ms)
        + " ms before / after (bench/support.py: lower is faster)"
    )
    print("  population: " + ", ".join(f"{k} {v:,}" for k, v in report.population.items()))
    print()
    header = (
        f"  {'scenario':<18} {'n':>4} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6} "
        f"{'target':>6} {'met':>4} {'queries':>8} {'results':>7} {'@1':>6} {'@10':>6} "
        f"{'load':>10} {'others':>6}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for run in report.runs:
        found = (
            f"{run.found_first:>6.3f} {run.found_in_ten:>6.3f}"
            if run.found_first is not None and run.found_in_ten is not None
            else f"{'':>6} {'':>6}"
        )
        print(
            f"  {run.scenario:<18} {run.requests:>4} {run.p50_ms:>6.1f} {run.p95_ms:>6.1f} "
            f"{run.p99_ms:>6.1f} {run.max_ms:>6.1f} {run.target_p95_ms:>6.0f} "
            f"{'yes' if run.p95_ms < run.target_p95_ms else 'NO':>4} "
            f"{run.queries_mean:>4.1f}/{run.queries_max:<3} {run.results_mean:>7.1f} {found} "
            f"{run.load_average[0]:>4.1f}-{run.load_average[1]:<5.1f} {run.others_cores:>6.2f}"
        )
    print()
    print(
        "  milliseconds of server time per request; queries mean/max per request; @1 and "
        "@10: share of\n  person searches answering the person the query was made from "
        "first / within ten; load: 1-minute\n  load average before-after; others: cores "
        "used by other processes (not this one or its PostgreSQL backend)"
    )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--persons", type=int, default=1_000_000, help="population size")
    parser.add_argument(
        "--vehicles", type=int, help="synthetic vehicles (default: as many as persons)"
    )
    parser.add_argument("--requests", type=int, default=300, help="requests per scenario")
    parser.add_argument("--database", default="bench_population", help="population database")
    parser.add_argument("--seed", type=int, default=1, help="seed of the queries drawn")
    parser.add_argument(
        "--only", action="append", choices=SCENARIOS, help="run only this scenario (repeatable)"
    )
    parser.add_argument("--output", type=Path, help="JSON results file (default bench/results/)")
    args = parser.parse_args(argv)
    if args.persons < 1 or args.requests < 1:
        parser.error("--persons and --requests must be positive")

    import django

    django.setup()
    from django.conf import settings

    population_database(args.database, args.persons)
    _ensure_vehicles(args.persons if args.vehicles is None else args.vehicles, args.seed)
    _prewarm()
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
        cache=settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        calibration_ms=[cpu_calibration_ms()],
        population=_population(),
    )
    server = _api_server()
    rng = random.Random(args.seed)  # repeatable queries, not a secret
    total = args.requests + WARM_UP
    exact, confused, partial = plate_requests(total, rng)
    drawn: dict[str, Callable[[], list[Request]]] = {
        "name + dob": lambda: name_dob_requests(total, rng),
        "name only, common": lambda: common_name_requests(total),
        "plate exact": lambda: exact,
        "plate O/0": lambda: confused,
        "plate partial": lambda: partial,
    }
    for scenario in SCENARIOS:
        if args.only and scenario not in args.only:
            continue
        requests = drawn[scenario]()
        # The warm-up takes other queries of the same kind, so nothing measured is cached.
        warm, timed = requests[:WARM_UP], requests[WARM_UP:]
        print(f"{scenario} ...", flush=True)
        report.runs.append(measure(scenario, timed, warm, server))
    report.calibration_ms.append(cpu_calibration_ms())
    _print(report)
    output = args.output or REPO / "bench" / "results" / "search_speed.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(asdict(report), indent=2) + "\n")
    print(f"written to {output.relative_to(REPO) if output.is_relative_to(REPO) else output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
