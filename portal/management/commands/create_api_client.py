import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser

from portal import services
from portal.models import Agency
from portal.models.agencies import normalize_ori


class Command(BaseCommand):
    help = (
        "Issue an API key for a system of an agency. The key is printed alone on the last "
        "line, once; only its hash is kept. For an existing client of the same name, the "
        "scopes are replaced and a new key replaces the old one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ori", required=True, help="the agency's ORI")
        parser.add_argument("--name", required=True, help="the system's name")
        parser.add_argument(
            "--scopes",
            required=True,
            help="comma-separated: mni:write, feeds:write, exchanges:submit, search:read, "
            "records:read",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = []
        ori = normalize_ori(options["ori"])
        agency = Agency.objects.filter(ori=ori).first()
        if agency is None:
            problems.append(f"ori: no agency has the ORI {ori!r}; create it with create_agency")
        elif not agency.is_active:
            problems.append(f"ori: the agency {ori} is not active")
        try:
            scopes = services.validate_scopes(options["scopes"].split(","))
        except ValidationError as error:
            problems += [f"scopes: {message}" for message in error.messages]
        if not options["name"].strip():
            problems.append("name: give the client a name")
        if problems or agency is None:
            for problem in problems:
                self.stderr.write(f"error: {problem}")
            sys.exit(1)

        client, key, created = services.api_client_issue_key(
            agency=agency, name=options["name"], scopes=scopes, actor=None
        )
        if created:
            self.stdout.write(f"Created API client {client.name!r} for {agency.ori}.")
        else:
            self.stdout.write(
                f"Issued a new key for the existing client {client.name!r} of {agency.ori}; "
                "the previous key no longer works."
            )
        self.stdout.write(f"Scopes: {', '.join(client.scopes)}. The key is shown only now:")
        self.stdout.write(key)
