"""Sign-in: system-use notice and password, the second factor (verification, backup codes,
first enrolment), lockout, refusals with a clear reason, forced password change, sign-out."""

import base64
import re
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings as SettingsWrapper

from portal.models import AuditEvent, User
from tests.conftest import current_code, sign_in
from tests.factories import TEST_PASSWORD, UserFactory

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

SESSION_COOKIE = settings.SESSION_COOKIE_NAME
LIMIT = settings.AXES_FAILURE_LIMIT
NEW_PASSWORD = "amber kettle on the windowsill"


def post_password(
    client: Client, username: str, password: str = TEST_PASSWORD, **extra: str
) -> "Response":
    return client.post(
        reverse("portal:login"), {"username": username, "password": password, **extra}
    )


@pytest.fixture
def no_code_throttle(settings: SettingsWrapper) -> None:
    """Lockout tests send codes faster than the authenticator's back-off allows."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def post_code(client: Client, code: str) -> "Response":
    return client.post(reverse("portal:mfa"), {"code": code})


def totp_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=True)


def add_backup_codes(user: User, *codes: str) -> None:
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    for code in codes:
        StaticToken.objects.create(device=device, token=code)


def is_signed_in(client: Client) -> bool:
    response = client.get(reverse("portal:home"))
    return response.status_code == 200


def audit_actions(user: User) -> list[str]:
    return list(
        AuditEvent.objects.filter(actor_username=user.username)
        .order_by("seq")
        .values_list("action", flat=True)
    )


def fail_password(client: Client, username: str, times: int) -> list[int]:
    return [post_password(client, username, "not the right pass").status_code for _ in range(times)]


# The sign-in page -------------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_page_shows_the_system_use_notice(client: Client) -> None:
    page = client.get(reverse("portal:login")).content.decode()

    assert "System-use notice" in page
    assert "restricted information system" in page
    assert "monitored, recorded and audited" in page
    assert "prohibited and punishable" in page
    assert "Using this system means you consent" in page


@pytest.mark.django_db
def test_sign_in_page_has_labelled_fields_and_a_sign_in_button(client: Client) -> None:
    page = client.get(reverse("portal:login")).content.decode()

    assert re.search(r'<label[^>]*for="id_username"[^>]*>\s*Username\s*<', page)
    assert re.search(r'<label[^>]*for="id_password"[^>]*>\s*Password\s*<', page)
    assert re.search(r'<button[^>]*type="submit"[^>]*>\s*Sign in\s*</button>', page)


# Password step --------------------------------------------------------------------------


def test_right_password_leads_to_the_verification_step(client: Client, officer: User) -> None:
    response = post_password(client, "officer")

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:mfa")


def test_right_password_is_audited(client: Client, officer: User) -> None:
    post_password(client, "officer")

    assert "signin.password_accepted" in audit_actions(officer)


def test_right_password_alone_does_not_reach_home(client: Client, officer: User) -> None:
    post_password(client, "officer")

    response = client.get(reverse("portal:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:mfa")


def test_session_id_changes_when_the_password_is_accepted(client: Client, officer: User) -> None:
    planted = client.session.session_key  # a session an attacker could have fixed

    post_password(client, "officer")

    assert client.cookies[SESSION_COOKIE].value != planted


def test_session_id_changes_when_verification_completes(client: Client, officer: User) -> None:
    post_password(client, "officer")
    after_password = client.cookies[SESSION_COOKIE].value

    post_code(client, current_code(totp_device(officer)))

    assert client.cookies[SESSION_COOKIE].value != after_password


def test_planted_session_id_is_not_signed_in_after_sign_in(client: Client, officer: User) -> None:
    planted = client.session.session_key
    assert planted is not None
    post_password(client, "officer")
    post_code(client, current_code(totp_device(officer)))

    attacker = Client()
    attacker.cookies[SESSION_COOKIE] = planted

    assert not is_signed_in(attacker)


def test_wrong_password_shows_a_clear_message(client: Client, officer: User) -> None:
    response = post_password(client, "officer", "not the right pass")

    assert response.status_code == 200
    assert b"The username or password is not right" in response.content


def test_unknown_username_gets_the_same_message_as_a_wrong_password(
    client: Client, db: None
) -> None:
    response = post_password(client, "nobody-here", "not the right pass")

    assert response.status_code == 200
    assert b"The username or password is not right" in response.content


def test_wrong_password_is_audited_as_failed(client: Client, officer: User) -> None:
    post_password(client, "officer", "not the right pass")

    assert AuditEvent.objects.filter(action="signin.failed", actor_username="officer").exists()


def test_typed_password_is_never_written_to_the_audit_log(client: Client, officer: User) -> None:
    typed = "Typed-Secret-Phrase 981"
    post_password(client, "officer", typed)

    for row in AuditEvent.objects.values():
        assert all(typed not in str(value) for value in row.values()), row


def test_typed_password_is_not_kept_with_failed_attempts(client: Client, officer: User) -> None:
    typed = "Typed-Secret-Phrase 981"
    post_password(client, "officer", typed)

    attempt = AccessAttempt.objects.get(username="officer")
    assert typed not in attempt.post_data


def test_signed_in_user_opening_sign_in_page_goes_home(client: Client, officer: User) -> None:
    sign_in(client, officer)

    response = client.get(reverse("portal:login"))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


# Verification code ------------------------------------------------------------------------


def test_right_code_completes_sign_in(client: Client, officer: User) -> None:
    post_password(client, "officer")

    response = post_code(client, current_code(totp_device(officer)))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert is_signed_in(client)


def test_right_code_is_audited_as_succeeded(client: Client, officer: User) -> None:
    post_password(client, "officer")

    post_code(client, current_code(totp_device(officer)))

    event = AuditEvent.objects.get(action="signin.succeeded", actor=officer)
    assert event.details["method"] == "totp"


def test_verification_page_has_a_labelled_code_field(client: Client, officer: User) -> None:
    post_password(client, "officer")

    page = client.get(reverse("portal:mfa")).content.decode()

    assert re.search(r'<label[^>]*for="id_code"[^>]*>\s*Verification code\s*<', page)


def test_wrong_code_is_refused_with_a_clear_message(client: Client, officer: User) -> None:
    post_password(client, "officer")
    right = current_code(totp_device(officer))
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    response = post_code(client, wrong)

    assert response.status_code == 200
    assert b"That code is not right" in response.content
    assert not is_signed_in(client)


def test_code_works_only_once(client: Client, officer: User) -> None:
    with time_machine.travel(timezone.now(), tick=False):
        code = current_code(totp_device(officer))
        post_password(client, "officer")
        post_code(client, code)

        second = Client()
        post_password(second, "officer")
        response = post_code(second, code)

    assert response.status_code == 200
    assert b"already used" in response.content
    assert not is_signed_in(second)


def test_backup_code_completes_sign_in(client: Client, officer: User) -> None:
    add_backup_codes(officer, "k7dp2qxm", "z3bc9wrt")
    post_password(client, "officer")

    response = post_code(client, "k7dp2qxm")

    assert response["Location"] == reverse("portal:home")
    assert is_signed_in(client)
    assert AuditEvent.objects.get(action="signin.succeeded").details["method"] == "backup_code"


def test_backup_code_works_only_once(client: Client, officer: User) -> None:
    add_backup_codes(officer, "k7dp2qxm", "z3bc9wrt")
    post_password(client, "officer")
    post_code(client, "k7dp2qxm")

    second = Client()
    post_password(second, "officer")
    response = post_code(second, "k7dp2qxm")

    assert response.status_code == 200
    assert not is_signed_in(second)


def test_anonymous_cannot_open_the_verification_step(client: Client, db: None) -> None:
    response = client.get(reverse("portal:mfa"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


# First enrolment --------------------------------------------------------------------------


@pytest.fixture
def newcomer(db: None) -> User:
    """A user who has never set up an authenticator."""
    return UserFactory.create(username="newcomer")


def pending_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=False)


def test_user_without_authenticator_is_sent_to_enrolment(client: Client, newcomer: User) -> None:
    post_password(client, "newcomer")

    response = client.get(reverse("portal:mfa"))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:mfa_enrol")


def test_enrolment_page_shows_a_qr_code_inline(client: Client, newcomer: User) -> None:
    post_password(client, "newcomer")

    page = client.get(reverse("portal:mfa_enrol")).content.decode()

    assert re.search(r'<div class="portal-qr"[^>]*>\s*<svg', page)


def test_enrolment_page_shows_the_key_as_text(client: Client, newcomer: User) -> None:
    post_password(client, "newcomer")

    page = client.get(reverse("portal:mfa_enrol")).content.decode()

    shown = re.search(r'<code class="portal-key" id="totp-key">([^<]+)</code>', page)
    assert shown is not None
    expected = base64.b32encode(pending_device(newcomer).bin_key).decode().rstrip("=")
    assert shown.group(1).replace(" ", "") == expected


def test_enrolment_is_confirmed_by_a_code_from_the_new_device(
    client: Client, newcomer: User
) -> None:
    post_password(client, "newcomer")
    client.get(reverse("portal:mfa_enrol"))

    response = client.post(
        reverse("portal:mfa_enrol"), {"code": current_code(pending_device(newcomer))}
    )

    assert response["Location"] == reverse("portal:mfa_backup_codes")
    assert TOTPDevice.objects.filter(user=newcomer, confirmed=True).count() == 1
    assert "mfa.enrolled" in audit_actions(newcomer)


def test_enrolment_with_a_wrong_code_leaves_the_device_unconfirmed(
    client: Client, newcomer: User
) -> None:
    post_password(client, "newcomer")
    client.get(reverse("portal:mfa_enrol"))
    right = current_code(pending_device(newcomer))

    response = client.post(
        reverse("portal:mfa_enrol"), {"code": f"{(int(right) + 1) % 1_000_000:06d}"}
    )

    assert response.status_code == 200
    assert b"That code is not right" in response.content
    assert not TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()


def test_backup_codes_are_shown_after_enrolment(client: Client, newcomer: User) -> None:
    post_password(client, "newcomer")
    client.get(reverse("portal:mfa_enrol"))
    client.post(reverse("portal:mfa_enrol"), {"code": current_code(pending_device(newcomer))})

    page = client.get(reverse("portal:mfa_backup_codes")).content.decode()

    tokens = StaticToken.objects.filter(device__user=newcomer).values_list("token", flat=True)
    assert len(tokens) == settings.MFA_BACKUP_CODE_COUNT
    assert all(f"<code>{token}</code>" in page for token in tokens)


def test_backup_codes_are_shown_only_once(client: Client, newcomer: User) -> None:
    post_password(client, "newcomer")
    client.get(reverse("portal:mfa_enrol"))
    client.post(reverse("portal:mfa_enrol"), {"code": current_code(pending_device(newcomer))})
    first = client.get(reverse("portal:mfa_backup_codes"))
    token = StaticToken.objects.filter(device__user=newcomer).values_list("token", flat=True)[0]
    assert token in first.content.decode()

    second = client.get(reverse("portal:mfa_backup_codes"))

    assert second.status_code == 302
    assert second["Location"] == reverse("portal:home")


def test_enrolment_completes_the_sign_in(client: Client, newcomer: User) -> None:
    post_password(client, "newcomer")
    client.get(reverse("portal:mfa_enrol"))
    client.post(reverse("portal:mfa_enrol"), {"code": current_code(pending_device(newcomer))})

    assert is_signed_in(client)


def test_password_alone_cannot_enrol_another_device(client: Client, officer: User) -> None:
    post_password(client, "officer")

    response = client.get(reverse("portal:mfa_enrol"))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:mfa")
    assert not TOTPDevice.objects.filter(user=officer, confirmed=False).exists()


def test_password_alone_cannot_confirm_another_device(client: Client, officer: User) -> None:
    post_password(client, "officer")
    attacker_device = TOTPDevice.objects.create(user=officer, name="Attacker", confirmed=False)

    client.post(reverse("portal:mfa_enrol"), {"code": current_code(attacker_device)})

    attacker_device.refresh_from_db()
    assert not attacker_device.confirmed
    assert not is_signed_in(client)


# Lockout ----------------------------------------------------------------------------------


def test_fifth_wrong_password_locks_the_account(client: Client, officer: User) -> None:
    statuses = fail_password(client, "officer", LIMIT)

    assert statuses == [200] * (LIMIT - 1) + [403]


def test_locked_page_points_to_the_help_desk(client: Client, officer: User) -> None:
    fail_password(client, "officer", LIMIT)

    response = post_password(client, "officer")

    assert response.status_code == 403
    text = response.content.decode()
    assert "This account is locked" in text
    assert "help desk" in text.lower()


def test_locked_account_refuses_the_right_password(client: Client, officer: User) -> None:
    fail_password(client, "officer", LIMIT)

    response = post_password(Client(), "officer")

    assert response.status_code == 403
    assert b"This account is locked" in response.content


def test_lockout_is_audited(client: Client, officer: User) -> None:
    fail_password(client, "officer", LIMIT)

    assert AuditEvent.objects.filter(action="signin.locked_out", actor_username="officer").exists()


def test_lockout_of_one_username_leaves_others_alone(
    client: Client, officer: User, outsider: User
) -> None:
    fail_password(client, "officer", LIMIT)

    response = post_password(client, "outsider")

    assert response["Location"] == reverse("portal:mfa")


@pytest.mark.usefixtures("no_code_throttle")
def test_wrong_codes_count_toward_lockout(client: Client, officer: User) -> None:
    post_password(client, "officer")

    statuses = [post_code(client, "000000").status_code for _ in range(LIMIT)]

    assert statuses == [200] * (LIMIT - 1) + [403]
    assert AuditEvent.objects.filter(action="signin.locked_out", actor=officer).exists()


@pytest.mark.usefixtures("no_code_throttle")
def test_lockout_by_wrong_codes_signs_out(client: Client, officer: User) -> None:
    post_password(client, "officer")
    for _ in range(LIMIT):
        post_code(client, "000000")

    response = client.get(reverse("portal:mfa"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


@pytest.mark.usefixtures("no_code_throttle")
def test_wrong_passwords_and_wrong_codes_add_up(client: Client, officer: User) -> None:
    fail_password(client, "officer", LIMIT - 2)
    post_password(client, "officer")

    statuses = [post_code(client, "000000").status_code for _ in range(2)]

    assert statuses == [200, 403]


@pytest.mark.usefixtures("no_code_throttle")
def test_right_password_does_not_clear_failed_codes(client: Client, officer: User) -> None:
    """Otherwise someone holding the password could guess codes without end, re-entering
    the password before each fifth guess."""
    post_password(client, "officer")
    for _ in range(LIMIT - 1):
        post_code(client, "000000")

    again = Client()
    post_password(again, "officer")
    response = post_code(again, "000000")

    assert response.status_code == 403


def test_completed_sign_in_resets_the_failure_count(client: Client, officer: User) -> None:
    fail_password(client, "officer", LIMIT - 1)
    post_password(client, "officer")
    post_code(client, current_code(totp_device(officer)))
    client.post(reverse("portal:logout"))

    statuses = fail_password(client, "officer", LIMIT - 1)

    assert statuses == [200] * (LIMIT - 1)
    assert post_password(client, "officer")["Location"] == reverse("portal:mfa")


# Refusals with their own reason ------------------------------------------------------------


def test_disabled_account_is_told_it_is_disabled(client: Client, officer: User) -> None:
    User.objects.filter(pk=officer.pk).update(is_active=False, disabled_reason="left the agency")

    response = post_password(client, "officer")

    text = response.content.decode()
    assert response.status_code == 200
    assert "This account is disabled (left the agency)" in text
    assert "The username or password is not right" not in text
    assert not is_signed_in(client)


def test_disabled_account_with_wrong_password_gets_the_generic_message(
    client: Client, officer: User
) -> None:
    User.objects.filter(pk=officer.pk).update(is_active=False)

    response = post_password(client, "officer", "not the right pass")

    assert b"The username or password is not right" in response.content
    assert b"disabled" not in response.content


def test_expired_temporary_password_is_refused(client: Client, officer: User) -> None:
    User.objects.filter(pk=officer.pk).update(
        must_change_password=True,
        temporary_password_expires_at=timezone.now() - timedelta(minutes=1),
    )

    response = post_password(client, "officer")

    assert response.status_code == 200
    assert b"Your temporary password has expired" in response.content
    assert client.get(reverse("portal:mfa"))["Location"].startswith(reverse("portal:login"))


def test_expired_temporary_password_is_audited(client: Client, officer: User) -> None:
    User.objects.filter(pk=officer.pk).update(
        must_change_password=True,
        temporary_password_expires_at=timezone.now() - timedelta(minutes=1),
    )

    post_password(client, "officer")

    event = AuditEvent.objects.get(action="signin.failed", actor=officer)
    assert event.details["reason"] == "temporary password expired"


# Forced password change -------------------------------------------------------------------


def test_owed_password_change_sends_home_to_the_change_page(client: Client, officer: User) -> None:
    User.objects.filter(pk=officer.pk).update(must_change_password=True)
    sign_in(client, officer)

    response = client.get(reverse("portal:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:password_change")


def test_changing_the_owed_password_opens_home(client: Client, officer: User) -> None:
    User.objects.filter(pk=officer.pk).update(must_change_password=True)
    sign_in(client, officer)

    response = client.post(
        reverse("portal:password_change"),
        {
            "current_password": TEST_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )

    assert response["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200
    officer.refresh_from_db()
    assert officer.check_password(NEW_PASSWORD)


def test_password_older_than_a_year_must_be_changed(client: Client, officer: User) -> None:
    with time_machine.travel(timezone.now() + timedelta(days=366)):
        sign_in(client, officer)

        response = client.get(reverse("portal:home"))

    assert response["Location"] == reverse("portal:password_change")


def test_password_younger_than_a_year_need_not_be_changed(client: Client, officer: User) -> None:
    with time_machine.travel(timezone.now() + timedelta(days=364)):
        sign_in(client, officer)

        response = client.get(reverse("portal:home"))

    assert response.status_code == 200


def test_change_page_says_why_an_old_password_must_go(client: Client, officer: User) -> None:
    with time_machine.travel(timezone.now() + timedelta(days=366)):
        sign_in(client, officer)

        response = client.get(reverse("portal:password_change"))

    assert b"more than 365 days old" in response.content


# Sign-out ---------------------------------------------------------------------------------


def test_sign_out_ends_the_session(client: Client, officer: User) -> None:
    sign_in(client, officer)
    old_key = client.cookies[SESSION_COOKIE].value

    response = client.post(reverse("portal:logout"))

    assert response["Location"] == reverse("portal:login")
    replay = Client()
    replay.cookies[SESSION_COOKIE] = old_key
    assert not is_signed_in(replay)


def test_sign_out_is_audited(client: Client, officer: User) -> None:
    sign_in(client, officer)

    client.post(reverse("portal:logout"))

    assert "signin.signed_out" in audit_actions(officer)


def test_sign_out_by_get_is_not_allowed(client: Client, officer: User) -> None:
    sign_in(client, officer)

    response = client.get(reverse("portal:logout"))

    assert response.status_code == 405
    assert is_signed_in(client)


# Where sign-in leads ----------------------------------------------------------------------


def test_sign_in_returns_to_the_page_asked_for(client: Client, officer: User) -> None:
    wanted = reverse("portal:password_change")
    post_password(client, "officer", next=wanted)

    response = post_code(client, current_code(totp_device(officer)))

    assert response["Location"] == wanted


@pytest.mark.parametrize(
    "target", ["https://evil.example", "//evil.example/path", "https:evil.example"]
)
def test_sign_in_ignores_a_next_address_on_another_site(
    client: Client, officer: User, target: str
) -> None:
    post_password(client, "officer", next=target)

    response = post_code(client, current_code(totp_device(officer)))

    assert response["Location"] == reverse("portal:home")


@pytest.mark.django_db
def test_sign_in_page_drops_a_next_address_on_another_site(client: Client) -> None:
    response = client.get(reverse("portal:login"), {"next": "https://evil.example"})

    assert response.status_code == 200
    assert b"evil.example" not in response.content


def test_login_page_rejects_wrong_method(client: Client, db: None) -> None:
    response = client.put(reverse("portal:login"))

    assert response.status_code == 405


def test_code_sent_during_back_off_is_not_checked_and_says_how_long_to_wait(
    client: Client, officer: User
) -> None:
    post_password(client, "officer")
    post_code(client, "000000")

    response = post_code(client, current_code(totp_device(officer)))

    assert response.status_code == 200
    assert "try again in" in response.content.decode()
    assert AuditEvent.objects.filter(action="signin.mfa_failed", actor=officer).count() == 1
