import multiprocessing
import sys
import time
from collections.abc import Iterable
from contextlib import nullcontext
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, connections
from django.utils import timezone

from obts.synthetic_load import chunks, load_chunk, name_key_indexes_deferred

# From this many people on, PostgreSQL builds the name-key indexes once after the load.
DEFER_INDEXES_FROM = 100_000


class Command(BaseCommand):
    help = (
        "Add synthetic people with full histories to the master name index (for demos and "
        "benchmarks; nothing real). The same --seed, --start and --count give the same "
        "people, whatever the number of workers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="how many people")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--start",
            type=int,
            default=0,
            help="number of the first person: a later run with a higher start adds other "
            "people (distinct SIDs and source ids)",
        )
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="processes loading in parallel (PostgreSQL only; default: 2 on "
            "PostgreSQL, 1 elsewhere)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, batch = options["count"], options["batch_size"]
        if count < 1 or batch < 1 or options["start"] < 0 or options["workers"] < 0:
            self.stderr.write(
                "error: --count and --batch-size must be positive, --start and --workers "
                "not negative"
            )
            sys.exit(1)
        postgres = connection.vendor == "postgresql"
        workers = options["workers"] or (2 if postgres else 1)
        if workers > 1 and not postgres:
            self.stderr.write("note: SQLite takes one writer at a time; loading with 1 worker")
            workers = 1
        jobs = chunks(
            count=count,
            seed=options["seed"],
            start=options["start"],
            today=timezone.localdate(),
            batch_size=batch,
        )
        defer = postgres and count >= DEFER_INDEXES_FROM
        started = time.perf_counter()
        done = rows = reported = 0
        with name_key_indexes_deferred() if defer else nullcontext():
            results: Iterable[tuple[int, int]]
            if workers == 1:
                results = map(load_chunk, jobs)
                pool = None
            else:
                connections.close_all()  # the workers open their own
                pool = multiprocessing.get_context("fork").Pool(workers)
                results = pool.imap_unordered(load_chunk, jobs)
            try:
                for people, written in results:
                    done += people
                    rows += written
                    if done - reported >= max(count // 20, 1) or done == count:
                        reported = done
                        elapsed = time.perf_counter() - started
                        self.stdout.write(
                            f"{done:>9,} people, {rows:>11,} rows in {elapsed:7.1f} s "
                            f"({done / elapsed:,.0f} people/s)"
                        )
            except BaseException:
                if pool is not None:
                    pool.terminate()
                raise
            if pool is not None:
                pool.close()
                pool.join()
            if defer:
                self.stdout.write("building the name-key indexes ...")
                index_started = time.perf_counter()
        if defer:
            self.stdout.write(f"indexes built in {time.perf_counter() - index_started:.1f} s")
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {done:,} people ({rows:,} rows) in {elapsed:.1f} s with {workers} "
                f"worker{'s' if workers > 1 else ''}."
            )
        )
