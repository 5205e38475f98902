"""factory_boy factories shared by the test suite."""

from typing import Any

import factory
from django_otp.plugins.otp_totp.models import TOTPDevice
from factory.declarations import LazyAttribute, PostGeneration, Sequence, SubFactory

from portal.models import Agency, AgencyKind, ApiClient, ClaimGrant, RoleGrant, User
from portal.models.api_clients import hash_key, new_key

TEST_PASSWORD = "a long test pass phrase"


class AgencyFactory(factory.django.DjangoModelFactory[Agency]):
    class Meta:
        model = Agency
        django_get_or_create = ("ori",)

    ori = Sequence(lambda n: f"CT{n:07d}")
    name = Sequence(lambda n: f"Town {n} Police Department")
    kind = AgencyKind.POLICE
    town = "Hartford"


def _set_password(user: User, create: bool, extracted: str | None, **kwargs: Any) -> None:
    user.set_password(extracted or TEST_PASSWORD)
    if create:
        user.save(update_fields=["password", "password_changed_at"])


def _grant_roles(user: User, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
    for role in extracted or []:
        RoleGrant.objects.create(user=user, role=role)


def _grant_claims(user: User, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
    for claim in extracted or []:
        ClaimGrant.objects.create(user=user, claim=claim)


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A user of an agency; ``roles=[...]``, ``claims=[...]`` and ``password=`` may be
    given. Call ``UserFactory.create(...)`` for a typed result."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = Sequence(lambda n: f"user{n}")
    first_name = "Pat"
    last_name = Sequence(lambda n: f"Tester{n}")
    email = LazyAttribute(lambda user: f"{user.username}@example.test")
    agency = SubFactory(AgencyFactory)
    password = PostGeneration(_set_password)
    roles = PostGeneration(_grant_roles)
    claims = PostGeneration(_grant_claims)


def add_totp_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)


def make_api_client(
    agency: Agency, scopes: list[str], name: str = "Records system"
) -> tuple[ApiClient, str]:
    """An API client and its plain key."""
    key, prefix = new_key()
    client = ApiClient.objects.create(
        agency=agency, name=name, key_prefix=prefix, key_hash=hash_key(key), scopes=scopes
    )
    return client, key
