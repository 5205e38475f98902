import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import demo


class Command(BaseCommand):
    help = (
        "Print the current verification code of demo users (all of them, or those named). "
        "Only with DEBUG on: it reads authenticator secrets."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("usernames", nargs="*", help="demo usernames (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_totp reads authenticator secrets and runs only with DEBUG on.")
        demo_names = [spec.username for spec in demo.USERS]
        names = options["usernames"] or demo_names
        unknown = [name for name in names if name not in demo_names]
        if unknown:
            raise CommandError(
                f"Not a demo user: {', '.join(unknown)}. Demo users: {', '.join(demo_names)}."
            )
        devices = {
            device.user.username: device
            for device in TOTPDevice.objects.filter(user__username__in=names, confirmed=True)
            .select_related("user")
            .order_by("pk")
        }
        now = time.time()
        for name in names:
            device = devices.get(name)
            if device is None:
                self.stdout.write(
                    f"{name:<12} no authenticator yet: it enrols one at first sign-in"
                )
                continue
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
            totp.time = now
            code = f"{totp.token():0{device.digits}d}"
            left = device.step - int(now - device.t0) % device.step
            self.stdout.write(f"{name:<12} {code[:3]} {code[3:]}   (changes in {left} s)")
