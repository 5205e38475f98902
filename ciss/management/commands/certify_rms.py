import uuid
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ciss.exchanges.certification import certification_run
from portal.models import ApiClient


def find_client(text: str) -> ApiClient:
    """A client by its id, by ``ORI/name``, or by name when only one client has it."""
    clients = ApiClient.objects.select_related("agency")
    try:
        return clients.get(public_id=uuid.UUID(text))
    except (ValueError, ApiClient.DoesNotExist):
        pass
    ori, _, name = text.rpartition("/")
    found = list(clients.filter(name=name, **({"agency__ori": ori.upper()} if ori else {})))
    if len(found) == 1:
        return found[0]
    if not found:
        raise CommandError(f"No API client {text!r}: give its id, ORI/name, or name.")
    listed = ", ".join(f"{c.agency.ori}/{c.name}" for c in found)
    raise CommandError(f"Several clients are named {name!r}: {listed}. Give ORI/name.")


class Command(BaseCommand):
    help = (
        "Run the CISS certification checks (level 1: early arrest notices; level 2: arrest "
        "packets with forms and consumer searches) over what a records system's API client "
        "submitted, print the report and keep it in the portal. CLIENT is the client's id, "
        "ORI/name, or name. Exits 0 when the level asked for (--level) is reached."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client", help="the API client: id, ORI/name, or name")
        parser.add_argument("--days", type=int, default=30, help="window to check (days)")
        parser.add_argument(
            "--level", type=int, choices=[1, 2], default=1, help="level that must be reached"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        client = find_client(options["client"])
        report = certification_run(
            client=client, window=timedelta(days=options["days"]), command="certify_rms"
        )
        self.stdout.write(
            f"{client.agency.ori}/{client.name}: {report.window_start:%Y-%m-%d} to "
            f"{report.window_end:%Y-%m-%d}"
        )
        for check in report.checks:
            mark = "PASS" if check["passed"] else "FAIL"
            line = f"  L{check['level']} {mark}  {check['name']}: {check['measured']}"
            if check["examples"]:
                line += f" (e.g. {', '.join(check['examples'])})"
            self.stdout.write(line)
        reached = f"Level reached: {report.level or 'none'}"
        if report.level < options["level"]:
            raise CommandError(f"{reached}; level {options['level']} was asked for.")
        self.stdout.write(reached)
