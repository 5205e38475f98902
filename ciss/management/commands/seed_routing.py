from typing import Any

from django.core.management.base import BaseCommand

from ciss.exchanges.defaults import routing_rules_install


class Command(BaseCommand):
    help = (
        "Install the default routing rules of exchanges (arrest notices and packets to the "
        "arraignment court's clerks and the state's attorney, summonses to the court, "
        "infractions to the Central Infractions Bureau, schedule notifications to the "
        "arresting agency and to corrections). Rules already there are left as they are."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        added = routing_rules_install()
        self.stdout.write(f"Routing rules: {added} added")
