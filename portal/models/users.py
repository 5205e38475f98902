import uuid
from datetime import datetime
from functools import cache, cached_property
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone

from portal.models.agencies import Agency
from portal.plain_rows import Columns, columns
from portal.roles import Claim, Role


class UsersWithAgency(UserManager["User"]):
    """Users with their agency in the same row: the manager Django's authentication loads
    the signed-in user through (``ModelBackend.get_user``), because every page's header
    names the user's agency, which would otherwise cost a query of its own."""

    use_in_migrations = False

    def get_queryset(self) -> models.QuerySet["User"]:
        return super().get_queryset().select_related("agency")

    def get(self, *args: Any, **kwargs: Any) -> "User":
        """As the queryset's ``get``; by primary key alone, which is how authentication
        loads the signed-in user on every request, the user and agency are read by one
        statement written out (compiling the ORM's query took longer than running it)."""
        pk = kwargs.get("pk")
        if args or len(kwargs) != 1 or type(pk) is not int or not -(2**63) <= pk < 2**63:
            return super().get(*args, **kwargs)
        return _user_with_agency(self.db, pk)


class User(AbstractUser):
    """A person who signs in to the portal. Every user belongs to an agency."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    title = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    must_change_password = models.BooleanField(
        default=False, help_text="Asked for a new password right after the next sign-in."
    )
    temporary_password_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the temporary password stops working if it has not been replaced.",
    )
    disabled_reason = models.CharField(max_length=200, blank=True)

    with_agency: ClassVar[UsersWithAgency] = UsersWithAgency()

    class Meta:
        ordering = ["username"]
        # What Django's authentication (and the admin) loads users through.
        default_manager_name = "with_agency"

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    @cached_property
    def role_codes(self) -> frozenset[str]:
        if "role_grants" in getattr(self, "_prefetched_objects_cache", {}):
            codes = {grant.role for grant in self.role_grants.all()}
        else:
            codes = set(self._grant_codes[0])
        if self.is_superuser:
            codes.add(Role.ADMINISTRATOR)
        return frozenset(codes)

    @cached_property
    def claim_codes(self) -> frozenset[str]:
        if "claim_grants" in getattr(self, "_prefetched_objects_cache", {}):
            return frozenset(grant.claim for grant in self.claim_grants.all())
        return self._grant_codes[1]

    @cached_property
    def _grant_codes(self) -> tuple[frozenset[str], frozenset[str]]:
        """The roles and the claims granted, in one statement: a signed-in request asks
        for both (the access rules, the menu). Written out rather than as the ORM's
        union of two querysets, which took three times as long to compile as to run
        (0.75 against 0.2 ms a request). A list of users that prefetched its grants reads
        them from the prefetch instead."""
        granted: dict[str, set[str]] = {"role": set(), "claim": set()}
        alias = self._state.db or DEFAULT_DB_ALIAS
        with connections[alias].cursor() as cursor:
            cursor.execute(_grants_sql(alias), ["role", self.pk, "claim", self.pk])
            for which, code in cursor.fetchall():
                granted[which].add(code)
        return frozenset(granted["role"]), frozenset(granted["claim"])

    def is_fully_signed_in(self) -> bool:
        """Whether this request's user passed the second factor (set by OTPMiddleware)."""
        check = getattr(self, "is_verified", None)
        return bool(check()) if callable(check) else False

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        # The administrator role is the system's administrator: every model permission.
        if self.is_active and Role.ADMINISTRATOR in self.role_codes:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        if self.is_active and Role.ADMINISTRATOR in self.role_codes:
            return True
        return super().has_module_perms(app_label)

    def has_role(self, *roles: str) -> bool:
        return not self.role_codes.isdisjoint(roles)

    def has_claim(self, claim: str) -> bool:
        return claim in self.claim_codes

    @property
    def roles_display(self) -> list[str]:
        return [Role(code).label for code in Role.values if code in self.role_codes]

    def password_expired(self, now: datetime | None = None) -> bool:
        if self.password_changed_at is None:
            return False
        now = now or timezone.now()
        return now - self.password_changed_at > settings.PASSWORD_MAX_AGE

    def temporary_password_expired(self, now: datetime | None = None) -> bool:
        if self.temporary_password_expires_at is None:
            return False
        return (now or timezone.now()) >= self.temporary_password_expires_at

    def password_change_required(self) -> bool:
        return self.must_change_password or self.password_expired()

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        for name in ("role_codes", "claim_codes", "_grant_codes"):
            self.__dict__.pop(name, None)


class RoleGrant(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=30, choices=Role.choices)
    granted_at = models.DateTimeField(default=timezone.now)
    granted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_user_role")]

    def __str__(self) -> str:
        return f"{self.user} is {self.get_role_display()}"


class ClaimGrant(models.Model):
    """A claim held by a user, with who granted it and why (e.g. an access request)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="claim_grants")
    claim = models.CharField(max_length=80, choices=Claim.choices)
    granted_at = models.DateTimeField(default=timezone.now)
    granted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "claim"], name="unique_user_claim")]

    def __str__(self) -> str:
        return f"{self.user} holds {self.get_claim_display()}"


def _user_with_agency(database: str, pk: int) -> User:
    sql, user_columns, agency_columns, agency_pk = _user_sql(database)
    with connections[database].cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        raise User.DoesNotExist("User matching query does not exist.")
    user = user_columns.build(row[: user_columns.width])
    assert isinstance(user, User)  # noqa: S101  (built from User's own columns)
    agency_part = row[user_columns.width :]
    agency = agency_columns.build(agency_part) if agency_part[agency_pk] is not None else None
    User._meta.get_field("agency").set_cached_value(user, agency)
    return user


@cache
def _user_sql(database: str) -> tuple[str, Columns, Columns, int]:
    """The user by id with their agency (a left join: some users have none); the two
    models' columns, and where the agency's id is among its columns."""
    quote = connections[database].ops.quote_name
    user, agency = User._meta, Agency._meta
    user_columns = columns(database, User, "u")
    agency_columns = columns(database, Agency, "a")
    agency_id = quote(str(user.get_field("agency").column))
    sql = (
        f"SELECT {user_columns.select}, {agency_columns.select}"  # noqa: S608  (model names)
        f" FROM {quote(user.db_table)} {quote('u')}"
        f" LEFT JOIN {quote(agency.db_table)} {quote('a')}"
        f" ON {quote('a')}.{quote(str(agency.pk.column))} = {quote('u')}.{agency_id}"
        f" WHERE {quote('u')}.{quote(str(user.pk.column))} = %s"
    )
    return sql, user_columns, agency_columns, agency_columns.names.index(agency.pk.attname)


@cache
def _grants_sql(alias: str) -> str:
    """One user's role and claim grants as (kind, code) rows, the kind a parameter."""
    quote = connections[alias].ops.quote_name
    role, claim = RoleGrant._meta, ClaimGrant._meta
    return (
        f"SELECT %s, {quote(str(role.get_field('role').column))} FROM {quote(role.db_table)}"  # noqa: S608
        f" WHERE {quote(str(role.get_field('user').column))} = %s"
        f" UNION ALL SELECT %s, {quote(str(claim.get_field('claim').column))}"
        f" FROM {quote(claim.db_table)} WHERE {quote(str(claim.get_field('user').column))} = %s"
    )
