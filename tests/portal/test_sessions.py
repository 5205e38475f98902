"""The session engine reads Django's database sessions with one plain statement: the
same rows, the same rules as Django's own engine."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from portal.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_reads_what_djangos_engine_wrote_and_the_other_way_round() -> None:
    theirs = db.SessionStore()
    theirs["purpose"] = "criminal_investigation"
    theirs.save()
    ours = SessionStore()
    ours["otp_device_id"] = "otp_totp.totpdevice/7"
    ours.save()

    assert SessionStore(theirs.session_key).load() == {"purpose": "criminal_investigation"}
    assert db.SessionStore(ours.session_key).load() == {"otp_device_id": "otp_totp.totpdevice/7"}


def test_the_row_read_is_the_stored_row() -> None:
    stored = SessionStore()
    stored["a"] = 1
    stored.save()
    row = Session.objects.get(session_key=stored.session_key)

    read = SessionStore(stored.session_key)._get_session_from_db()

    assert read is not None
    assert (read.session_key, read.session_data) == (row.session_key, row.session_data)
    assert read.expire_date == row.expire_date
    assert timezone.is_aware(read.expire_date)


def test_an_expired_session_reads_empty_and_gives_up_its_key() -> None:
    stored = SessionStore()
    stored["a"] = 1
    stored.save()
    Session.objects.filter(session_key=stored.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    expired = SessionStore(stored.session_key)

    assert expired.load() == {}
    assert expired.session_key is None


def test_an_unknown_key_reads_empty() -> None:
    unknown = SessionStore("x" * 32)
    assert unknown.load() == {}
    assert unknown.session_key is None
