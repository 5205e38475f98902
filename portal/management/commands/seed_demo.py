from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal import demo


class Command(BaseCommand):
    help = (
        "Load the demo agencies and one user of every role (idempotent), and print how to "
        "sign in as each. Refused with DEBUG off: demo accounts have a published password."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo loads accounts with a published password and runs only with "
                "DEBUG on (the embedded default)."
            )
        seeded = demo.seed()
        loaded = [seeder() for seeder in demo.SEEDERS]
        if options["verbosity"] < 1:
            return
        out = self.stdout.write
        for line in loaded:
            out(line)
        out("")
        out(self.style.SUCCESS("Demo data is loaded. Sign in at http://127.0.0.1:8000/"))
        out(f"Every demo user has the password:  {demo.DEMO_PASSWORD}")
        out("Then the verification code: run, in another terminal,")
        out("    .venv/bin/python manage.py demo_totp USERNAME")
        out("or add the key below to an authenticator app (time-based, 6 digits, 30 s).")
        out("")
        out(f"{'username':<12} {'role':<25} {'agency':<10} authenticator key")
        for spec, user, device in seeded:
            agency = user.agency.ori if user.agency else ""
            key = (
                demo.totp_key_text(device)
                if device is not None
                else "(enrols an app at first sign-in)"
            )
            out(f"{spec.username:<12} {spec.role.label:<25} {agency:<10} {key}")
        out("")
