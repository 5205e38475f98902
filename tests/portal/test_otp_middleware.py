"""The MFA middleware reads the session's verified device with one plain statement: the
device it gives is the ORM's, field by field, and every refusal of django-otp's own
middleware still holds (another user's device, an unconfirmed one, a malformed or
foreign id)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings as SettingsWrapper

from portal.models import User
from portal.otp import OTPMiddleware
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _read(persistent_id: str) -> Device | None:
    return OTPMiddleware(lambda request: None)._device_from_persistent_id(persistent_id)


def _fields(device: Device) -> dict[str, object]:
    fields = type(device)._meta.concrete_fields
    return {field.attname: getattr(device, field.attname) for field in fields}


def test_a_totp_device_reads_as_the_orm_reads_it(officer: User) -> None:
    device = TOTPDevice.objects.get(user=officer)
    device.throttling_failure_timestamp = timezone.now() - timedelta(minutes=3)
    device.throttling_failure_count = 2
    device.last_used_at = timezone.now()
    device.save()
    stored = TOTPDevice.objects.get(pk=device.pk)

    read = _read(device.persistent_id)

    assert isinstance(read, TOTPDevice)
    assert _fields(read) == _fields(stored)
    assert read.confirmed is True
    assert timezone.is_aware(read.last_used_at)
    assert read._state.adding is False  # a loaded row: saving it updates, never inserts


def test_a_static_device_reads_too(officer: User) -> None:
    device = StaticDevice.objects.create(user=officer, name="backup", confirmed=False)

    read = _read(device.persistent_id)

    assert isinstance(read, StaticDevice)
    assert _fields(read) == _fields(StaticDevice.objects.get(pk=device.pk))
    assert read.confirmed is False


@pytest.mark.parametrize(
    "persistent_id",
    [
        "otp_totp.totpdevice/999999",  # no such row
        "otp_totp.totpdevice/seven",  # not a number
        "otp_totp.totpdevice",  # no id
        "otp_totp/1",  # no model name
        "nowhere.device/1",  # no such app
        "portal.user/1",  # a model that is not a device
        "otp_totp.totpdevice/99999999999999999999999",  # beyond any id column
    ],
)
def test_an_id_naming_no_device_gives_none(persistent_id: str, officer: User) -> None:
    assert _read(persistent_id) is None


def test_the_legacy_import_path_form_still_reads(officer: User) -> None:
    device = TOTPDevice.objects.get(user=officer)
    legacy = f"django_otp.plugins.otp_totp.models.TOTPDevice/{device.pk}"

    read = _read(legacy)

    assert isinstance(read, TOTPDevice)
    assert read.pk == device.pk


def _home(client: Client) -> int:
    return client.get(reverse("portal:home")).status_code


def _device_queries(client: Client) -> int:
    table = TOTPDevice._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        assert _home(client) == 200
    return sum(table in query["sql"] for query in queries.captured_queries)


def test_a_verified_session_asks_no_more_of_the_devices_than_django_otp_did(
    client: Client, officer: User, settings: SettingsWrapper
) -> None:
    sign_in(client, officer)
    ours = _device_queries(client)
    settings.MIDDLEWARE = [
        "django_otp.middleware.OTPMiddleware" if name == "portal.otp.OTPMiddleware" else name
        for name in settings.MIDDLEWARE
    ]
    assert _device_queries(client) == ours


def test_another_users_device_does_not_verify_and_is_forgotten(
    client: Client, officer: User, outsider: User
) -> None:
    sign_in(client, officer)
    theirs = TOTPDevice.objects.get(user=outsider)
    session = client.session
    session["otp_device_id"] = theirs.persistent_id
    session.save()

    assert _home(client) == 302  # sent back to the second factor
    assert "otp_device_id" not in client.session


def test_an_unconfirmed_device_does_not_verify(client: Client, officer: User) -> None:
    sign_in(client, officer)
    TOTPDevice.objects.filter(user=officer).update(confirmed=False)

    assert _home(client) == 302
    assert "otp_device_id" not in client.session
