"""factory_boy factories shared by the test suite."""

from typing import Any

import factory
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import Agency, AgencyKind, ApiClient, ClaimGrant, RoleGrant, User
from portal.models.api_clients import hash_key, new_key

TEST_PASSWORD = "a long test pass phrase"


class AgencyFactory(factory.django.DjangoModelFactory[Agency]):
    class Meta:
        model = Agency
        django_get_or_create = ("ori",)

    ori = factory.Sequence(lambda n: f"CT{n:07d}")
    name = factory.Sequence(lambda n: f"Town {n} Police Department")
    kind = AgencyKind.POLICE
    town = "Hartford"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    agency = factory.SubFactory(AgencyFactory)

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        self.set_password(extracted or TEST_PASSWORD)
        if create:
            self.save(update_fields=["password", "password_changed_at"])

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        for role in extracted or []:
            RoleGrant.objects.create(user=self, role=role)

    @factory.post_generation
    def claims(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        for claim in extracted or []:
            ClaimGrant.objects.create(user=self, claim=claim)


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
