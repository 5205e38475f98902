import sys
from typing import Any

from django.core.management.base import BaseCommand

from portal.audit import verify_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain and report the first broken row, if any."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chain()
        broken = result.first_break
        if broken is None:
            self.stdout.write(f"Audit log intact: {result.checked} events checked.")
            return
        where = f"event #{broken.seq}" + (f" (id {broken.event_id})" if broken.event_id else "")
        self.stderr.write(
            f"Audit log broken at {where}: {broken.reason}. "
            f"The {result.checked} events before it are intact."
        )
        sys.exit(1)
