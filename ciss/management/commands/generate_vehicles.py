import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone

from ciss.synthetic_vehicles import generate, synthetic_count


class Command(BaseCommand):
    help = (
        "Add synthetic registered vehicles owned by the persons already in the master name "
        "index (run generate_persons first; for demos and benchmarks, nothing real). "
        "Numbering continues after the synthetic vehicles already stored, unless --start "
        "is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="how many vehicles")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--start",
            type=int,
            default=-1,
            help="number of the first vehicle (source id SYNV-n); default: after the "
            "synthetic vehicles already stored",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, start = options["count"], options["start"]
        if count < 1:
            self.stderr.write("error: --count must be positive")
            sys.exit(1)
        if start < 0:
            start = synthetic_count()
        started = time.perf_counter()
        reported = written = 0
        for written in generate(
            count, seed=options["seed"], start=start, today=timezone.localdate()
        ):
            if written - reported >= max(count // 10, 1) or written == count:
                reported = written
                elapsed = time.perf_counter() - started
                self.stdout.write(
                    f"{written:>9,} vehicles in {elapsed:7.1f} s "
                    f"({written / elapsed:,.0f} vehicles/s)"
                )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE ciss_vehicle")
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {written:,} vehicles in {time.perf_counter() - started:.1f} s."
            )
        )
