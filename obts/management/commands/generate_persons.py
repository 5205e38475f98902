import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from obts.synthetic import Generator
from obts.synthetic_load import load


class Command(BaseCommand):
    help = (
        "Add synthetic people with full histories to the master name index (for demos and "
        "benchmarks; nothing real). The same --seed gives the same people."
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

    def handle(self, *args: Any, **options: Any) -> None:
        count, batch = options["count"], options["batch_size"]
        if count < 1 or batch < 1:
            self.stderr.write("error: --count and --batch-size must be positive")
            sys.exit(1)
        today = timezone.localdate()
        generator = Generator(options["seed"], today)
        started = time.perf_counter()
        done = 0
        rows = 0
        step = max(batch, count // 20)
        while done < count:
            size = min(step, count - done)
            rows += load(
                generator.persons(size, start=options["start"] + done),
                today=today,
                batch_size=batch,
            )
            done += size
            elapsed = time.perf_counter() - started
            self.stdout.write(
                f"{done:>9,} people, {rows:>11,} rows in {elapsed:7.1f} s "
                f"({done / elapsed:,.0f} people/s)"
            )
