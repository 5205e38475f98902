import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from obts.services.intake import Submitter
from obts.services.jsonlines import import_json_lines, source_check
from obts.services.persons import persons_upsert

COMMAND = "import_persons"


class Command(BaseCommand):
    help = (
        "Upsert persons of the master name index from a JSON Lines file: one person per "
        "line, as in POST /api/v1/persons/, source_system taken from --source. A bad line "
        "is reported with its number and the others still import; the exit status is 1 "
        "when a line was rejected. Replaying a file changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, help="the source system, e.g. DPS-MNI")
        parser.add_argument("file", type=Path, help="JSON Lines file")

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["source"].strip()
        if not source or len(source) > 40:
            raise CommandError("--source: give the source system (at most 40 characters)")
        path: Path = options["file"]
        submitter = Submitter(command=COMMAND)
        try:
            with path.open("rb") as lines:
                report = import_json_lines(
                    lines,
                    lambda records: persons_upsert(records, submitter=submitter),
                    check=source_check(source),
                )
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror or error}") from error
        for problem in report.problems:
            self.stderr.write(f"error: {problem}")
        self.stdout.write(f"{COMMAND} {path} ({source}): {report.summary()}")
        if report.rejected:
            sys.exit(1)
