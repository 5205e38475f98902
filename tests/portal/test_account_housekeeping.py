"""Daily account housekeeping: accounts unused for 90 days are disabled, and temporary
passwords not replaced in time stop working. Both run twice with the same result."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from portal import services, tasks
from portal.models import AuditEvent, User
from tests.factories import UserFactory

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def make_user(username: str, *, joined_days_ago: int, signed_in_days_ago: int | None) -> User:
    return UserFactory.create(
        username=username,
        date_joined=NOW - timedelta(days=joined_days_ago),
        last_login=(
            None if signed_in_days_ago is None else NOW - timedelta(days=signed_in_days_ago)
        ),
    )


def is_active(user: User) -> bool:
    user.refresh_from_db()
    return user.is_active


# Inactive accounts ------------------------------------------------------------------------


def test_account_unused_for_more_than_90_days_is_disabled(
    db: None, clock: time_machine.Traveller
) -> None:
    user = make_user("idle", joined_days_ago=400, signed_in_days_ago=91)

    services.accounts_disable_inactive()

    user.refresh_from_db()
    assert not user.is_active
    assert user.disabled_reason == "No sign-in for 90 days"


def test_account_used_within_90_days_stays_active(db: None, clock: time_machine.Traveller) -> None:
    user = make_user("recent", joined_days_ago=400, signed_in_days_ago=89)

    services.accounts_disable_inactive()

    assert is_active(user)


def test_never_used_account_counts_from_its_creation(
    db: None, clock: time_machine.Traveller
) -> None:
    old = make_user("never-old", joined_days_ago=91, signed_in_days_ago=None)
    new = make_user("never-new", joined_days_ago=10, signed_in_days_ago=None)

    services.accounts_disable_inactive()

    assert not is_active(old)
    assert is_active(new)


def test_disabling_an_inactive_account_is_audited(db: None, clock: time_machine.Traveller) -> None:
    user = make_user("idle", joined_days_ago=400, signed_in_days_ago=91)

    services.accounts_disable_inactive()

    event = AuditEvent.objects.get(action="account.disabled_inactive")
    assert event.object_id == str(user.public_id)
    assert event.actor_username == "idle"
    assert event.agency == user.agency
    assert event.details["last_activity"] == (NOW - timedelta(days=91)).isoformat()


def test_disabling_inactive_accounts_twice_changes_nothing_more(
    db: None, clock: time_machine.Traveller
) -> None:
    make_user("idle", joined_days_ago=400, signed_in_days_ago=91)
    assert services.accounts_disable_inactive() == 1
    events = AuditEvent.objects.count()

    again = services.accounts_disable_inactive()

    assert again == 0
    assert AuditEvent.objects.count() == events


def test_account_disabled_by_hand_keeps_its_reason(db: None, clock: time_machine.Traveller) -> None:
    user = make_user("gone", joined_days_ago=400, signed_in_days_ago=200)
    User.objects.filter(pk=user.pk).update(is_active=False, disabled_reason="left the agency")

    services.accounts_disable_inactive()

    user.refresh_from_db()
    assert user.disabled_reason == "left the agency"
    assert not AuditEvent.objects.filter(action="account.disabled_inactive").exists()


def test_account_disabled_for_inactivity_cannot_sign_in(
    client: Client, db: None, clock: time_machine.Traveller
) -> None:
    make_user("idle", joined_days_ago=400, signed_in_days_ago=91)
    services.accounts_disable_inactive()

    response = client.post(
        reverse("portal:login"), {"username": "idle", "password": "a long test pass phrase"}
    )

    assert b"This account is disabled (No sign-in for 90 days)" in response.content


def test_reenabled_account_is_not_disabled_again_at_once(
    db: None, clock: time_machine.Traveller, helpdesk: User
) -> None:
    user = make_user("idle", joined_days_ago=400, signed_in_days_ago=91)
    services.accounts_disable_inactive()
    services.account_enable(actor=helpdesk, user=user, request=None, reason="back from leave")

    services.accounts_disable_inactive()

    assert is_active(user)


def test_inactivity_task_disables_inactive_accounts(
    db: None, clock: time_machine.Traveller
) -> None:
    user = make_user("idle", joined_days_ago=400, signed_in_days_ago=91)

    disabled = tasks.disable_inactive_accounts()

    assert disabled == 1
    assert not is_active(user)


# Temporary passwords ----------------------------------------------------------------------


def issue_temporary(user: User, helpdesk: User) -> str:
    return services.password_reset_temporary(
        actor=helpdesk, user=user, request=None, reason="INC-1"
    )


def test_expired_temporary_password_stops_working(
    db: None, clock: time_machine.Traveller, helpdesk: User
) -> None:
    user = UserFactory.create(username="forgetful")
    temporary = issue_temporary(user, helpdesk)
    clock.shift(timedelta(hours=24, minutes=1))

    services.temporary_passwords_expire()

    user.refresh_from_db()
    assert not user.check_password(temporary)
    assert not user.has_usable_password()


def test_temporary_password_within_its_day_keeps_working(
    db: None, clock: time_machine.Traveller, helpdesk: User
) -> None:
    user = UserFactory.create(username="forgetful")
    temporary = issue_temporary(user, helpdesk)
    clock.shift(timedelta(hours=23))

    services.temporary_passwords_expire()

    user.refresh_from_db()
    assert user.check_password(temporary)


def test_replaced_temporary_password_is_left_alone(
    db: None, clock: time_machine.Traveller, helpdesk: User
) -> None:
    user = UserFactory.create(username="forgetful")
    issue_temporary(user, helpdesk)
    services.password_change(user=user, new_password="amber kettle by the window", request=None)
    clock.shift(timedelta(days=2))

    services.temporary_passwords_expire()

    user.refresh_from_db()
    assert user.check_password("amber kettle by the window")


def test_expiring_a_temporary_password_is_audited(
    db: None, clock: time_machine.Traveller, helpdesk: User
) -> None:
    user = UserFactory.create(username="forgetful")
    issue_temporary(user, helpdesk)
    clock.shift(timedelta(hours=25))

    services.temporary_passwords_expire()

    event = AuditEvent.objects.get(action="password.temporary_expired")
    assert event.object_id == str(user.public_id)
    assert event.actor_username == "forgetful"


def test_expiring_temporary_passwords_twice_changes_nothing_more(
    db: None, clock: time_machine.Traveller, helpdesk: User
) -> None:
    issue_temporary(UserFactory.create(username="forgetful"), helpdesk)
    clock.shift(timedelta(hours=25))
    assert services.temporary_passwords_expire() == 1
    events = AuditEvent.objects.count()

    again = services.temporary_passwords_expire()

    assert again == 0
    assert AuditEvent.objects.count() == events


def test_user_with_an_expired_temporary_password_can_get_a_new_one(
    client: Client, db: None, clock: time_machine.Traveller, helpdesk: User
) -> None:
    user = UserFactory.create(username="forgetful")
    issue_temporary(user, helpdesk)
    clock.shift(timedelta(hours=25))
    services.temporary_passwords_expire()

    fresh = issue_temporary(user, helpdesk)
    response = client.post(reverse("portal:login"), {"username": "forgetful", "password": fresh})

    assert response["Location"] == reverse("portal:mfa")


def test_expiry_task_expires_temporary_passwords(
    db: None, clock: time_machine.Traveller, helpdesk: User
) -> None:
    user = UserFactory.create(username="forgetful")
    temporary = issue_temporary(user, helpdesk)
    clock.shift(timedelta(hours=25))

    expired = tasks.expire_temporary_passwords()

    assert expired == 1
    user.refresh_from_db()
    assert not user.check_password(temporary)
