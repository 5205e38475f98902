"""Shared fixtures. Three standard people, after healthchecks' owner/member/outsider: an
``officer`` (plain signed-in user), a ``helpdesk`` user and an ``auditor`` who reach the
role pages, and an ``outsider`` from another agency with no roles. ``signed_in`` gives a
test client that has passed password and MFA."""

import os
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings as SettingsWrapper

from cjis.celery import app as celery_app
from portal.middleware import mark_signed_in
from portal.models import Agency, User
from portal.roles import Role
from tests.factories import AgencyFactory, UserFactory, add_totp_device


def pytest_configure(config: pytest.Config) -> None:
    # Parallel workers share one Redis. Each clears its cache around every test, and a
    # Redis clear empties the whole database: give each worker a database of its own.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker:
        number = int(worker.removeprefix("gw") or 0)
        for alias in settings.CACHES.values():
            alias["KEY_PREFIX"] = f"{alias.get('KEY_PREFIX', '')}test-{worker}"
            location = alias.get("LOCATION")
            if isinstance(location, str) and location.startswith("redis://"):
                url = urlsplit(location)
                db = (int(url.path.strip("/") or 0) + 1 + number) % 16
                alias["LOCATION"] = urlunsplit(url._replace(path=f"/{db}"))
    # Tasks run in the test's process, as in the embedded setup: no test waits on a
    # worker that is not there. The fault tests start real workers of their own.
    celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fast_hashing_and_clean_cache(settings: SettingsWrapper) -> Iterator[None]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def agency(db: None) -> Agency:
    return AgencyFactory.create(ori="CT0006400", name="Hartford Police Department")


@pytest.fixture
def other_agency(db: None) -> Agency:
    return AgencyFactory.create(ori="CT0009300", name="New Haven Police Department")


@pytest.fixture
def officer(agency: Agency) -> User:
    user = UserFactory.create(username="officer", agency=agency, roles=[Role.OFFICER])
    add_totp_device(user)
    return user


@pytest.fixture
def helpdesk(db: None) -> User:
    cjis = AgencyFactory.create(ori="CTCJIS000", name="CJIS", kind="cjis")
    user = UserFactory.create(username="helpdesk", agency=cjis, roles=[Role.HELP_DESK])
    add_totp_device(user)
    return user


@pytest.fixture
def auditor(db: None) -> User:
    cjis = AgencyFactory.create(ori="CTCJIS000", name="CJIS", kind="cjis")
    user = UserFactory.create(username="auditor", agency=cjis, roles=[Role.AUDITOR])
    add_totp_device(user)
    return user


@pytest.fixture
def administrator(db: None) -> User:
    cjis = AgencyFactory.create(ori="CTCJIS000", name="CJIS", kind="cjis")
    user = UserFactory.create(
        username="admin", agency=cjis, roles=[Role.ADMINISTRATOR], is_staff=True
    )
    add_totp_device(user)
    return user


@pytest.fixture
def outsider(other_agency: Agency) -> User:
    user = UserFactory.create(username="outsider", agency=other_agency)
    add_totp_device(user)
    return user


def current_code(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def sign_in(client: Client, user: User, *, verified: bool = True) -> Client:
    """Put ``client`` in the state of a user who passed the password step (and MFA)."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    request = HttpRequest()
    request.session = session
    mark_signed_in(request)
    if verified:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or add_totp_device(
            user
        )
        session["otp_device_id"] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def signed_in(client: Client) -> Callable[[User], Client]:
    def _sign_in(user: User) -> Client:
        return sign_in(client, user)

    return _sign_in
