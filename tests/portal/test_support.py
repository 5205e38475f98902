"""Help desk account support: find an account, unlock it, issue a temporary password,
remove its authenticators, enable or disable it. Every action needs a reason and is
audited; privileged accounts are for administrators only."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import DjangoAssertNumQueries

from portal.models import Agency, AuditEvent, User
from portal.roles import Role
from tests.conftest import current_code, sign_in
from tests.factories import TEST_PASSWORD, UserFactory, add_totp_device

SignIn = Callable[[User], Client]
ACTIONS = [
    "support_unlock",
    "support_reset_password",
    "support_reset_mfa",
    "support_enable",
    "support_disable",
]
REASON = "INC-20417 caller verified by badge number"


def action_url(name: str, user: User) -> str:
    return reverse(f"portal:{name}", kwargs={"public_id": user.public_id})


def detail_url(user: User) -> str:
    return reverse("portal:support_account", kwargs={"public_id": user.public_id})


def lock_out(username: str) -> None:
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(
            reverse("portal:login"), {"username": username, "password": "not the right pass"}
        )


def password_step(username: str, password: str = TEST_PASSWORD) -> tuple[Client, int, str]:
    """A fresh browser that submits the password; (client, status, where it leads)."""
    browser = Client()
    response = browser.post(reverse("portal:login"), {"username": username, "password": password})
    return browser, response.status_code, response.get("Location", "")


@pytest.fixture
def desk(helpdesk: User, signed_in: SignIn) -> Client:
    return signed_in(helpdesk)


@pytest.fixture
def admin_client(administrator: User, signed_in: SignIn) -> Client:
    return signed_in(administrator)


def issue_temporary_password(client: Client, user: User) -> str:
    response = client.post(action_url("support_reset_password", user), {"reason": REASON})
    assert response.status_code == 200
    shown = re.search(
        r'<code class="portal-key" id="temporary-password">([^<]+)</code>',
        response.content.decode(),
    )
    assert shown is not None
    return shown.group(1)


# Finding an account -----------------------------------------------------------------------


def test_help_desk_finds_an_account_by_username(desk: Client, officer: User) -> None:
    response = desk.get(reverse("portal:support_accounts"), {"q": "offic"})

    assert response.status_code == 200
    assert detail_url(officer) in response.content.decode()


def test_help_desk_finds_accounts_by_agency_ori(
    desk: Client, officer: User, outsider: User
) -> None:
    page = desk.get(reverse("portal:support_accounts"), {"q": "CT0006400"}).content.decode()

    assert detail_url(officer) in page
    assert detail_url(outsider) not in page


def test_search_without_match_says_so(desk: Client, officer: User) -> None:
    response = desk.get(reverse("portal:support_accounts"), {"q": "zzz-nobody"})

    assert "No account matches “zzz-nobody”" in response.content.decode()


def test_search_page_lists_nobody_before_a_search(desk: Client, officer: User) -> None:
    page = desk.get(reverse("portal:support_accounts")).content.decode()

    assert detail_url(officer) not in page


def test_search_has_a_bounded_number_of_queries(
    desk: Client, agency: Agency, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for number in range(30):
        UserFactory.create(username=f"patrol{number}", agency=agency, roles=[Role.OFFICER])

    with django_assert_max_num_queries(20):
        response = desk.get(reverse("portal:support_accounts"), {"q": "patrol"})

    links = re.findall(r'href="/support/accounts/[0-9a-f-]{36}/"', response.content.decode())
    assert len(links) == 30


def test_help_desk_sees_account_details(desk: Client, officer: User) -> None:
    response = desk.get(detail_url(officer))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Hartford Police Department (CT0006400)" in page
    assert "Not locked" in page
    assert "1 authenticator" in page


def test_details_show_a_locked_account(desk: Client, officer: User) -> None:
    lock_out("officer")

    page = desk.get(detail_url(officer)).content.decode()

    assert "<strong>Locked</strong> after 5 failed attempts" in page
    assert action_url("support_unlock", officer) in page


def test_unknown_account_is_not_found(desk: Client, officer: User) -> None:
    response = desk.get(
        reverse(
            "portal:support_account", kwargs={"public_id": "00000000-0000-0000-0000-000000000000"}
        )
    )

    assert response.status_code == 404


# Unlock -----------------------------------------------------------------------------------


def test_help_desk_unlocks_a_locked_account(desk: Client, officer: User) -> None:
    lock_out("officer")

    response = desk.post(action_url("support_unlock", officer), {"reason": REASON})

    assert response["Location"] == detail_url(officer)
    assert not AccessAttempt.objects.filter(username="officer").exists()


def test_unlocked_user_can_sign_in_again(desk: Client, officer: User) -> None:
    lock_out("officer")
    assert password_step("officer")[1] == 403

    desk.post(action_url("support_unlock", officer), {"reason": REASON})

    assert password_step("officer")[2] == reverse("portal:mfa")


def test_unlock_is_audited_with_its_reason(desk: Client, helpdesk: User, officer: User) -> None:
    lock_out("officer")

    desk.post(action_url("support_unlock", officer), {"reason": REASON})

    event = AuditEvent.objects.get(action="account.unlocked")
    assert event.actor == helpdesk
    assert event.object_id == str(officer.public_id)
    assert event.details["reason"] == REASON
    assert event.details["cleared_attempts"] == 1


def test_unlock_without_a_reason_changes_nothing(desk: Client, officer: User) -> None:
    lock_out("officer")

    response = desk.post(action_url("support_unlock", officer), {"reason": "  "}, follow=True)

    assert b"Give a reason" in response.content
    assert AccessAttempt.objects.filter(username="officer").exists()
    assert not AuditEvent.objects.filter(action="account.unlocked").exists()


# Temporary password -----------------------------------------------------------------------


def test_temporary_password_is_shown_to_the_help_desk(desk: Client, officer: User) -> None:
    temporary = issue_temporary_password(desk, officer)

    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", temporary)


def test_temporary_password_is_shown_only_once(desk: Client, officer: User) -> None:
    temporary = issue_temporary_password(desk, officer)

    assert temporary not in desk.get(detail_url(officer)).content.decode()


def test_temporary_password_is_not_written_to_the_audit_log(desk: Client, officer: User) -> None:
    temporary = issue_temporary_password(desk, officer)

    for row in AuditEvent.objects.values():
        assert all(temporary not in str(value) for value in row.values()), row


def test_temporary_password_replaces_the_old_one(desk: Client, officer: User) -> None:
    issue_temporary_password(desk, officer)

    assert password_step("officer")[1] == 200


def test_temporary_password_signs_in(desk: Client, officer: User) -> None:
    temporary = issue_temporary_password(desk, officer)

    assert password_step("officer", temporary)[2] == reverse("portal:mfa")


def test_temporary_password_must_be_changed_after_sign_in(desk: Client, officer: User) -> None:
    temporary = issue_temporary_password(desk, officer)
    browser, _, _ = password_step("officer", temporary)
    browser.post(
        reverse("portal:mfa"), {"code": current_code(TOTPDevice.objects.get(user=officer))}
    )

    response = browser.get(reverse("portal:home"))

    assert response["Location"] == reverse("portal:password_change")


def test_temporary_password_expires_after_a_day(desk: Client, officer: User) -> None:
    temporary = issue_temporary_password(desk, officer)

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        browser, status, _ = password_step("officer", temporary)
        response = browser.get(reverse("portal:mfa"))

    assert status == 200
    assert response["Location"].startswith(reverse("portal:login"))


def test_temporary_password_still_works_just_before_a_day(desk: Client, officer: User) -> None:
    temporary = issue_temporary_password(desk, officer)

    with time_machine.travel(timezone.now() + timedelta(hours=23, minutes=59)):
        location = password_step("officer", temporary)[2]

    assert location == reverse("portal:mfa")


def test_temporary_password_also_unlocks(desk: Client, officer: User) -> None:
    lock_out("officer")

    temporary = issue_temporary_password(desk, officer)

    assert password_step("officer", temporary)[2] == reverse("portal:mfa")


def test_temporary_password_is_audited_with_its_reason(
    desk: Client, helpdesk: User, officer: User
) -> None:
    issue_temporary_password(desk, officer)

    event = AuditEvent.objects.get(action="account.password_reset")
    assert event.actor == helpdesk
    assert event.object_id == str(officer.public_id)
    assert event.details["reason"] == REASON


def test_temporary_password_needs_a_reason(desk: Client, officer: User) -> None:
    response = desk.post(action_url("support_reset_password", officer), {"reason": ""})

    assert response["Location"] == detail_url(officer)
    assert password_step("officer")[2] == reverse("portal:mfa")
    assert not AuditEvent.objects.filter(action="account.password_reset").exists()


# Two-step verification --------------------------------------------------------------------


def test_mfa_reset_removes_every_device(desk: Client, officer: User) -> None:
    backup = StaticDevice.objects.create(user=officer, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=backup, token="k7dp2qxm")

    response = desk.post(action_url("support_reset_mfa", officer), {"reason": REASON})

    assert response["Location"] == detail_url(officer)
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert not StaticDevice.objects.filter(user=officer).exists()


def test_user_enrols_again_after_mfa_reset(desk: Client, officer: User) -> None:
    desk.post(action_url("support_reset_mfa", officer), {"reason": REASON})

    browser, _, _ = password_step("officer")
    response = browser.get(reverse("portal:mfa"))

    assert response["Location"] == reverse("portal:mfa_enrol")


def test_mfa_reset_is_audited_with_its_reason(desk: Client, officer: User) -> None:
    desk.post(action_url("support_reset_mfa", officer), {"reason": REASON})

    event = AuditEvent.objects.get(action="mfa.reset")
    assert event.object_id == str(officer.public_id)
    assert event.details["reason"] == REASON


def test_mfa_reset_needs_a_reason(desk: Client, officer: User) -> None:
    desk.post(action_url("support_reset_mfa", officer), {})

    assert TOTPDevice.objects.filter(user=officer).exists()


# Enable and disable -----------------------------------------------------------------------


def test_help_desk_disables_an_account(desk: Client, officer: User) -> None:
    desk.post(action_url("support_disable", officer), {"reason": REASON})

    officer.refresh_from_db()
    assert not officer.is_active
    assert officer.disabled_reason == REASON


def test_disabled_user_is_told_so_at_sign_in(desk: Client, officer: User) -> None:
    desk.post(action_url("support_disable", officer), {"reason": "on leave"})

    browser = Client()
    response = browser.post(
        reverse("portal:login"), {"username": "officer", "password": TEST_PASSWORD}
    )

    assert b"This account is disabled (on leave)" in response.content


def test_disable_is_audited_with_its_reason(desk: Client, officer: User) -> None:
    desk.post(action_url("support_disable", officer), {"reason": REASON})

    event = AuditEvent.objects.get(action="account.disabled")
    assert event.details["reason"] == REASON


def test_help_desk_enables_a_disabled_account(desk: Client, officer: User) -> None:
    User.objects.filter(pk=officer.pk).update(is_active=False, disabled_reason="on leave")

    desk.post(action_url("support_enable", officer), {"reason": REASON})

    officer.refresh_from_db()
    assert officer.is_active
    assert officer.disabled_reason == ""
    assert password_step("officer")[2] == reverse("portal:mfa")


def test_enable_is_audited_with_its_reason(desk: Client, officer: User) -> None:
    User.objects.filter(pk=officer.pk).update(is_active=False)

    desk.post(action_url("support_enable", officer), {"reason": REASON})

    assert AuditEvent.objects.get(action="account.enabled").details["reason"] == REASON


def test_disable_needs_a_reason(desk: Client, officer: User) -> None:
    desk.post(action_url("support_disable", officer), {"reason": ""})

    officer.refresh_from_db()
    assert officer.is_active


def test_administrator_cannot_disable_own_account(
    admin_client: Client, administrator: User
) -> None:
    response = admin_client.post(
        action_url("support_disable", administrator), {"reason": REASON}, follow=True
    )

    administrator.refresh_from_db()
    assert administrator.is_active
    assert b"You cannot disable your own account" in response.content


# Privileged accounts ----------------------------------------------------------------------


@pytest.fixture(params=[Role.ADMINISTRATOR, Role.CJIS_SECURITY, Role.HELP_DESK])
def privileged(request: pytest.FixtureRequest, db: None) -> User:
    user = UserFactory.create(username=f"priv-{request.param}", roles=[request.param])
    add_totp_device(user)
    return user


def test_help_desk_cannot_open_a_privileged_account(desk: Client, privileged: User) -> None:
    response = desk.get(detail_url(privileged))

    assert response.status_code == 403
    assert b"only an administrator can change it" in response.content


@pytest.mark.parametrize("action", ACTIONS)
def test_help_desk_cannot_act_on_a_privileged_account(
    desk: Client, privileged: User, action: str
) -> None:
    response = desk.post(action_url(action, privileged), {"reason": REASON})

    assert response.status_code == 403


def test_help_desk_cannot_reset_a_privileged_password(desk: Client, privileged: User) -> None:
    desk.post(action_url("support_reset_password", privileged), {"reason": REASON})

    privileged.refresh_from_db()
    assert privileged.check_password(TEST_PASSWORD)
    assert not privileged.must_change_password
    assert not AuditEvent.objects.filter(action="account.password_reset").exists()


def test_help_desk_cannot_remove_a_privileged_authenticator(desk: Client, privileged: User) -> None:
    desk.post(action_url("support_reset_mfa", privileged), {"reason": REASON})

    assert TOTPDevice.objects.filter(user=privileged).exists()


def test_refused_privileged_action_is_audited(
    desk: Client, helpdesk: User, privileged: User
) -> None:
    desk.post(action_url("support_reset_mfa", privileged), {"reason": REASON})

    event = AuditEvent.objects.get(action="access.denied")
    assert event.actor == helpdesk
    assert event.outcome == "denied"


def test_administrator_can_reset_a_privileged_account(
    admin_client: Client, privileged: User
) -> None:
    response = admin_client.post(action_url("support_reset_mfa", privileged), {"reason": REASON})

    assert response["Location"] == detail_url(privileged)
    assert not TOTPDevice.objects.filter(user=privileged).exists()


def test_administrator_can_open_a_privileged_account(
    admin_client: Client, privileged: User
) -> None:
    assert admin_client.get(detail_url(privileged)).status_code == 200


# Who may use the pages --------------------------------------------------------------------


def test_outsider_cannot_search_accounts(signed_in: SignIn, outsider: User, officer: User) -> None:
    response = signed_in(outsider).get(reverse("portal:support_accounts"), {"q": "officer"})

    assert response.status_code == 403
    assert detail_url(officer) not in response.content.decode()


def test_outsider_cannot_see_account_details(
    signed_in: SignIn, outsider: User, officer: User
) -> None:
    response = signed_in(outsider).get(detail_url(officer))

    assert response.status_code == 403


@pytest.mark.parametrize("action", ACTIONS)
def test_outsider_cannot_act_on_an_account(
    signed_in: SignIn, outsider: User, officer: User, action: str
) -> None:
    response = signed_in(outsider).post(action_url(action, officer), {"reason": REASON})

    assert response.status_code == 403
    assert officer.password == User.objects.get(pk=officer.pk).password
    assert TOTPDevice.objects.filter(user=officer).exists()


def test_auditor_cannot_act_on_an_account(signed_in: SignIn, auditor: User, officer: User) -> None:
    response = signed_in(auditor).post(action_url("support_disable", officer), {"reason": REASON})

    assert response.status_code == 403
    assert User.objects.get(pk=officer.pk).is_active


def test_anonymous_is_sent_to_sign_in_from_search(client: Client, db: None) -> None:
    response = client.get(reverse("portal:support_accounts"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


@pytest.mark.parametrize("action", ACTIONS)
def test_anonymous_is_sent_to_sign_in_from_an_action(
    client: Client, officer: User, action: str
) -> None:
    response = client.post(action_url(action, officer), {"reason": REASON})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    assert User.objects.get(pk=officer.pk).is_active


def test_help_desk_signed_in_without_mfa_cannot_act(
    client: Client, helpdesk: User, officer: User
) -> None:
    sign_in(client, helpdesk, verified=False)

    response = client.post(action_url("support_disable", officer), {"reason": REASON})

    assert response["Location"] == reverse("portal:mfa")
    assert User.objects.get(pk=officer.pk).is_active


@pytest.mark.parametrize("action", ACTIONS)
def test_action_by_get_is_not_allowed(desk: Client, officer: User, action: str) -> None:
    response = desk.get(action_url(action, officer))

    assert response.status_code == 405


def test_search_by_post_is_not_allowed(desk: Client) -> None:
    response = desk.post(reverse("portal:support_accounts"), {"q": "officer"})

    assert response.status_code == 405
