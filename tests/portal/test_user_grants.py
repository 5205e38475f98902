"""A user's roles and claims: what the access rules and the menus ask on every request."""

from typing import Any

import pytest

from portal.models import User
from portal.roles import Claim, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_roles_and_claims_are_read_together_in_one_query(
    django_assert_num_queries: Any,
) -> None:
    granted = UserFactory.create(
        roles=[Role.OFFICER, Role.COURT_CLERK],
        claims=[Claim.CRIMINAL_HISTORY, Claim.RECEIVE_ARREST_NOTICES],
    )
    user = User.objects.get(pk=granted.pk)  # as a request loads it

    with django_assert_num_queries(1):
        assert user.role_codes == {Role.OFFICER, Role.COURT_CLERK}
        assert user.claim_codes == {Claim.CRIMINAL_HISTORY, Claim.RECEIVE_ARREST_NOTICES}
        assert user.has_role(Role.COURT_CLERK)
        assert not user.has_role(Role.ADMINISTRATOR)
        assert user.has_claim(Claim.CRIMINAL_HISTORY)
        assert not user.has_claim(Claim.SEALED_RECORDS)


def test_a_user_with_nothing_granted_holds_nothing() -> None:
    user = User.objects.get(pk=UserFactory.create().pk)
    assert user.role_codes == frozenset()
    assert user.claim_codes == frozenset()


def test_a_superuser_is_an_administrator_whatever_was_granted() -> None:
    user = User.objects.get(pk=UserFactory.create(is_superuser=True).pk)
    assert user.role_codes == {Role.ADMINISTRATOR}


def test_a_list_of_users_reads_roles_from_its_prefetch(django_assert_num_queries: Any) -> None:
    UserFactory.create(username="a", roles=[Role.HELP_DESK])
    UserFactory.create(username="b", roles=[Role.OFFICER], claims=[Claim.SEALED_RECORDS])

    with django_assert_num_queries(2):  # the users, then every role grant
        users = list(User.objects.prefetch_related("role_grants").order_by("username"))
        assert [user.role_codes for user in users] == [{Role.HELP_DESK}, {Role.OFFICER}]


def test_refreshing_the_user_reads_grants_again() -> None:
    user = User.objects.get(pk=UserFactory.create(roles=[Role.OFFICER]).pk)
    assert user.role_codes == {Role.OFFICER}
    user.role_grants.create(role=Role.COURT_CLERK)
    user.claim_grants.create(claim=Claim.CRIMINAL_HISTORY)

    user.refresh_from_db()

    assert user.role_codes == {Role.OFFICER, Role.COURT_CLERK}
    assert user.claim_codes == {Claim.CRIMINAL_HISTORY}
