import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from obts.services.feeds import feed_kind, feed_kind_names, feed_records_upsert
from obts.services.intake import Submitter
from obts.services.jsonlines import Check, import_json_lines, source_check

COMMAND = "import_feed"


class Command(BaseCommand):
    help = (
        "Upsert records of one feed kind from a JSON Lines file: one record per line, as "
        "in POST /api/v1/feeds/{kind}/. A bad line is reported with its number and the "
        "others still import; the exit status is 1 when a line was rejected. Replaying a "
        "file changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", help="the feed kind: " + ", ".join(feed_kind_names()))
        parser.add_argument("file", type=Path, help="JSON Lines file")
        parser.add_argument(
            "--source", default="", help="source system for records that do not name one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = feed_kind(options["kind"])
        if kind is None:
            raise CommandError(
                f"kind: no feed kind {options['kind']!r}; known kinds: "
                + ", ".join(feed_kind_names())
            )
        source = options["source"].strip()
        check: Check | None = source_check(source) if source else None
        path: Path = options["file"]
        submitter = Submitter(command=f"{COMMAND} {kind.name}")
        try:
            with path.open("rb") as lines:
                report = import_json_lines(
                    lines,
                    lambda records: feed_records_upsert(kind, records, submitter=submitter),
                    check=check,
                )
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror or error}") from error
        for problem in report.problems:
            self.stderr.write(f"error: {problem}")
        self.stdout.write(f"{COMMAND} {kind.name} {path}: {report.summary()}")
        if report.rejected:
            sys.exit(1)
