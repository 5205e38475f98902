"""The home page: who I am, my agency, roles, claims, second factors and recent activity."""

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from pytest_django import DjangoAssertNumQueries

from portal import audit
from portal.models import Agency, User
from portal.roles import CLAIM_DESCRIPTIONS, Claim, Role
from tests.conftest import sign_in
from tests.factories import UserFactory, add_totp_device


@pytest.fixture
def detective(agency: Agency) -> User:
    user = UserFactory.create(
        username="jdoe",
        first_name="Jane",
        last_name="Doe",
        agency=agency,
        roles=[Role.OFFICER, Role.AGENCY_AUTHORIZER],
        claims=[Claim.SWORN_OFFICER, Claim.NCIC_CERTIFIED],
    )
    user.title = "Detective"
    user.save(update_fields=["title"])
    add_totp_device(user)
    return user


def _home(client: Client) -> str:
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_home_shows_the_users_name_and_username(
    signed_in: Callable[[User], Client], detective: User
) -> None:
    page = _home(signed_in(detective))
    assert "<h1>Jane Doe</h1>" in page
    assert "<dd>jdoe</dd>" in page
    assert "<dd>Detective</dd>" in page


def test_home_shows_the_users_agency(signed_in: Callable[[User], Client], detective: User) -> None:
    page = _home(signed_in(detective))
    assert "Hartford Police Department (CT0006400), Police department" in page


def test_home_lists_the_users_roles_by_label(
    signed_in: Callable[[User], Client], detective: User
) -> None:
    page = _home(signed_in(detective))
    assert "<li>Officer</li>" in page
    assert "<li>Agency authorizer (TAC)</li>" in page
    assert "<li>Auditor</li>" not in page


def test_home_lists_the_users_claims_by_label(
    signed_in: Callable[[User], Client], detective: User
) -> None:
    page = _home(signed_in(detective))
    assert "<strong>Sworn law enforcement officer</strong>" in page
    assert "<strong>NCIC certification</strong>" in page
    assert CLAIM_DESCRIPTIONS[Claim.NCIC_CERTIFIED] in page
    assert "<strong>Sealed records</strong>" not in page


def test_home_shows_the_users_authenticator(
    signed_in: Callable[[User], Client], detective: User
) -> None:
    page = _home(signed_in(detective))
    assert "Test authenticator" in page


def test_home_counts_unused_backup_codes(
    signed_in: Callable[[User], Client], detective: User
) -> None:
    device = StaticDevice.objects.create(user=detective, name="Backup codes", confirmed=True)
    for token in ["aaaa1111", "bbbb2222", "cccc3333"]:
        StaticToken.objects.create(device=device, token=token)
    page = _home(signed_in(detective))
    assert "3 unused backup codes" in page


def test_home_shows_the_users_own_recent_activity(
    signed_in: Callable[[User], Client], detective: User
) -> None:
    audit.record("password.changed", actor=detective)
    page = _home(signed_in(detective))
    assert "Password changed" in page
    assert "Nothing recorded yet." not in page


def test_home_does_not_show_another_users_activity(
    signed_in: Callable[[User], Client], detective: User, officer: User
) -> None:
    audit.record("mfa.reset", actor=officer)
    page = _home(signed_in(detective))
    assert "MFA authenticators removed" not in page
    assert "Nothing recorded yet." in page


def test_home_without_roles_says_so(signed_in: Callable[[User], Client], outsider: User) -> None:
    page = _home(signed_in(outsider))
    assert "You hold no roles yet." in page


def test_home_without_claims_says_so(signed_in: Callable[[User], Client], outsider: User) -> None:
    page = _home(signed_in(outsider))
    assert "You hold no claims" in page


def test_home_without_authenticator_says_so(client: Client, agency: Agency) -> None:
    # Someone whose authenticator was removed signs in with a backup code.
    user = UserFactory.create(username="nophone", agency=agency)
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=device, token="aaaa1111")
    sign_in(client, user, verified=False)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    page = _home(client)
    assert "No authenticator app enrolled." in page
    assert "1 unused backup code<" in page


def test_home_query_count_does_not_grow_with_activity(
    signed_in: Callable[[User], Client],
    detective: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    for _ in range(15):
        audit.record("password.changed", actor=detective)
    client = signed_in(detective)
    # The header's unread-inbox count is one of them.
    with django_assert_max_num_queries(10):
        _home(client)


def test_home_refuses_post(signed_in: Callable[[User], Client], detective: User) -> None:
    response = signed_in(detective).post(reverse("portal:home"))
    assert response.status_code == 405


def test_header_names_the_agency_without_a_query_of_its_own(
    client: Client, detective: User, agency: Agency
) -> None:
    sign_in(client, detective)
    with CaptureQueriesContext(connection) as queries:
        page = _home(client)

    assert f"{agency.name} ({agency.ori})" in page
    agency_table = Agency._meta.db_table
    user_table = User._meta.db_table
    alone = [
        query["sql"]
        for query in queries
        if f'FROM "{agency_table}"' in query["sql"] and user_table not in query["sql"]
    ]
    assert alone == []  # loaded with the signed-in user, in the same row
