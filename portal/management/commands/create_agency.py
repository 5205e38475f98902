import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser

from portal import services
from portal.models import AgencyKind


class Command(BaseCommand):
    help = "Create an agency, or update the name, kind and town of the agency with that ORI."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ori", required=True, help="e.g. CT0001000")
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, help=", ".join(AgencyKind.values))
        parser.add_argument("--town", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            agency, created = services.agency_upsert(
                ori=options["ori"],
                name=options["name"],
                kind=options["kind"],
                town=options["town"],
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    self.stderr.write(f"error: {field}: {message}")
            sys.exit(1)
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} agency {agency.ori}: {agency.name} ({agency.kind})")
