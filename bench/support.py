"""What the benchmarks share: a dedicated, migrated database they create and drop (or the
kept million-person population), a description of the machine and database the figures
were taken on, and requests sent straight into the WSGI application gunicorn serves."""

import platform
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def create_bench_database(database: str) -> Callable[[], None]:
    """Create and migrate ``database`` (a temporary file on SQLite); return what drops it.

    Refuses when DATABASE_URL names that very database: the benchmark drops it."""
    from django.db import connection

    vendor = connection.vendor
    configured = str(connection.settings_dict["NAME"])
    scratch: str | None = None
    if vendor == "sqlite":
        scratch = tempfile.mkdtemp(prefix=f"{database}-")
        name = str(Path(scratch) / f"{database}.sqlite3")
    elif vendor == "postgresql":
        name = database
    else:
        raise SystemExit(f"error: this benchmark runs on SQLite or PostgreSQL, not {vendor}")
    if name == configured:
        raise SystemExit(
            f"error: DATABASE_URL names the database {name!r}, which this benchmark drops; "
            "give it an administrative database instead (e.g. postgres)"
        )
    connection.settings_dict["TEST"]["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        connection.creation.destroy_test_db(configured, verbosity=0)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    return drop


def describe_database() -> tuple[str, str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0]}"
            settings = []
            for name in ("synchronous_commit", "fsync"):
                cursor.execute(f"SHOW {name}")
                settings.append(f"{name}={cursor.fetchone()[0]}")
            durability = ", ".join(settings)
        else:
            cursor.execute("SELECT sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cursor.fetchone()[0]]
            durability = f"journal_mode={journal}, synchronous={synchronous}"
    return str(connection.settings_dict["NAME"]), version, durability


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def population_database(name: str, persons: int, *, seed: int = 1) -> None:
    """Point Django at the PostgreSQL database ``name`` holding at least ``persons``
    synthetic people (``generate_persons``): created and migrated when missing, topped up
    when short, migrated when behind. It is kept afterwards, as it takes minutes to build;
    drop it with ``dropdb``. Refuses SQLite (a million people is a server's job) and the
    database ``DATABASE_URL`` names."""
    from django.core.management import call_command
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        raise SystemExit("error: this benchmark needs PostgreSQL: set DATABASE_URL")
    if name == connection.settings_dict["NAME"]:
        raise SystemExit(
            f"error: DATABASE_URL names the database {name!r}, which this benchmark fills "
            "with synthetic people; give it an administrative database instead (e.g. postgres)"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            print(f"creating the database {name} ...", flush=True)
            cursor.execute(f'CREATE DATABASE "{name}"')
    connections.close_all()
    connection.settings_dict["NAME"] = name
    call_command("migrate", verbosity=0)

    from obts.models import PersonSource
    from obts.synthetic_load import SOURCE_SYSTEMS

    have = PersonSource.objects.filter(
        source_system=SOURCE_SYSTEMS["person"], source_id__startswith="SYN-"
    ).count()
    if have < persons:
        print(f"{name} holds {have:,} synthetic people; adding {persons - have:,} ...", flush=True)
        call_command("generate_persons", count=persons - have, start=have, seed=seed)
    else:
        print(f"{name} holds {have:,} synthetic people", flush=True)


def cpu_calibration_ms() -> float:
    """Milliseconds this machine takes, right now, for a fixed piece of pure Python work
    (the best of five). Shared virtual machines run faster or slower from hour to hour;
    printed beside a benchmark's figures, it tells whether two runs are comparable."""
    import time

    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        table = {f"k{i}": i * 7 % 1013 for i in range(100_000)}
        ordered = sorted(table.items(), key=lambda item: (item[1], item[0]))
        " ".join(key for key, _ in ordered[:1000])
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def percentile(values: list[float], fraction: float) -> float:
    """The value at ``fraction`` (0..1) of the sorted ``values`` (nearest rank); 0 for
    none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


class Server:
    """Requests straight into the WSGI application gunicorn serves (``cjis.wsgi``, which
    loads the URL patterns and freezes what the process has loaded, as a worker does)."""

    def __init__(self, headers: dict[str, str]) -> None:
        from django.test import RequestFactory

        from cjis.wsgi import application

        self.handler = application
        self.factory = RequestFactory(headers=headers)

    def get(self, url: str) -> tuple[int, bytes]:
        environ = self.factory.get(url).environ
        status: list[str] = []

        def start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code)
            return lambda data: None

        response = self.handler(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            getattr(response, "close", lambda: None)()
        return int(status[0].split()[0]), body


def check_answer(answer: tuple[int, bytes], url: str) -> None:
    """Stop the benchmark on any answer but 200: a timed error would flatter the figures."""
    if answer[0] != 200:
        raise SystemExit(f"error: {url} answered {answer[0]}: {answer[1][:300]!r}")
