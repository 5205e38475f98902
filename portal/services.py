"""State changes of identity and access. Each takes the acting user (or request) and
writes its audit row in the same transaction as the change."""

import secrets
from collections.abc import Iterable
from datetime import datetime

from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import audit
from portal.models import Agency, ApiClient, ClaimGrant, RoleGrant, User
from portal.models.agencies import normalize_ori
from portal.models.api_clients import ApiScope, hash_key, new_key
from portal.roles import Claim, Role

# Temporary passwords: no look-alike characters, read out over the phone in four groups.
_TEMP_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _temporary_password() -> str:
    groups = ["".join(secrets.choice(_TEMP_ALPHABET) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


# Passwords -----------------------------------------------------------------------------


@transaction.atomic
def password_change(*, user: User, new_password: str, request: HttpRequest | None) -> None:
    """Set the user's own new password (already validated) and lift any forced change."""
    was_forced = user.password_change_required()
    user.set_password(new_password)
    user.must_change_password = False
    user.temporary_password_expires_at = None
    user.save(
        update_fields=[
            "password",
            "password_changed_at",
            "must_change_password",
            "temporary_password_expires_at",
        ]
    )
    audit.record(
        "password.changed",
        actor=user,
        request=request,
        target=user,
        details={"forced": was_forced},
    )


@transaction.atomic
def password_reset_temporary(
    *, actor: User | None, user: User, request: HttpRequest | None, reason: str
) -> str:
    """Give ``user`` a temporary password, valid for a day, to be replaced at first use.

    The account is also unlocked and, if it was disabled, left disabled: re-enabling is a
    separate decision. Returns the temporary password, to be handed over once.
    """
    password = _temporary_password()
    user.set_password(password)
    user.must_change_password = True
    user.temporary_password_expires_at = timezone.now() + settings.TEMPORARY_PASSWORD_LIFETIME
    user.save(
        update_fields=[
            "password",
            "password_changed_at",
            "must_change_password",
            "temporary_password_expires_at",
        ]
    )
    axes_reset(username=user.username)
    audit.record(
        "account.password_reset",
        actor=actor,
        request=request,
        target=user,
        details={"reason": reason, "expires_at": user.temporary_password_expires_at.isoformat()},
    )
    return password


def temporary_passwords_expire(*, now: datetime | None = None) -> int:
    """Make unused temporary passwords that have passed their expiry unusable."""
    now = now or timezone.now()
    expired = 0
    candidates = User.objects.filter(
        must_change_password=True, temporary_password_expires_at__lte=now
    ).values_list("pk", flat=True)
    for pk in candidates:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=pk)
            if not user.must_change_password or not user.temporary_password_expired(now):
                continue
            user.set_unusable_password()
            user.temporary_password_expires_at = None
            user.save(update_fields=["password", "temporary_password_expires_at"])
            audit.record(
                "password.temporary_expired",
                username=user.username,
                target=user,
                agency=user.agency,
            )
            expired += 1
    return expired


# Accounts --------------------------------------------------------------------------------


@transaction.atomic
def account_unlock(*, actor: User, user: User, request: HttpRequest | None, reason: str) -> int:
    """Clear the failed sign-in attempts that locked ``user`` out."""
    cleared = axes_reset(username=user.username)
    audit.record(
        "account.unlocked",
        actor=actor,
        request=request,
        target=user,
        details={"reason": reason, "cleared_attempts": cleared},
    )
    return int(cleared)


@transaction.atomic
def account_enable(*, actor: User, user: User, request: HttpRequest | None, reason: str) -> None:
    user.is_active = True
    user.disabled_reason = ""
    # Counts as activity, so the daily sweep does not disable the account again at once.
    user.last_login = timezone.now()
    user.save(update_fields=["is_active", "disabled_reason", "last_login"])
    audit.record(
        "account.enabled", actor=actor, request=request, target=user, details={"reason": reason}
    )


@transaction.atomic
def account_disable(*, actor: User, user: User, request: HttpRequest | None, reason: str) -> None:
    user.is_active = False
    user.disabled_reason = reason[:200]
    user.save(update_fields=["is_active", "disabled_reason"])
    audit.record(
        "account.disabled", actor=actor, request=request, target=user, details={"reason": reason}
    )


def accounts_disable_inactive(*, now: datetime | None = None) -> int:
    """Disable accounts that have not signed in for ``ACCOUNT_INACTIVITY_LIMIT`` (90 days).

    Accounts that never signed in count from when they were created.
    """
    now = now or timezone.now()
    cutoff = now - settings.ACCOUNT_INACTIVITY_LIMIT
    stale = User.objects.filter(is_active=True).filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
    )
    days = settings.ACCOUNT_INACTIVITY_LIMIT.days
    disabled = 0
    for pk in stale.values_list("pk", flat=True):
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=pk)
            last = user.last_login or user.date_joined
            if not user.is_active or last >= cutoff:
                continue
            user.is_active = False
            user.disabled_reason = f"No sign-in for {days} days"
            user.save(update_fields=["is_active", "disabled_reason"])
            audit.record(
                "account.disabled_inactive",
                username=user.username,
                target=user,
                agency=user.agency,
                details={"last_activity": last.isoformat()},
            )
            disabled += 1
    return disabled


# Multi-factor authentication ------------------------------------------------------------------


def mfa_pending_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled, created on first use."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def mfa_has_device(user: User) -> bool:
    exists: bool = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return exists


def _new_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.MFA_BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def mfa_enrol_confirm(*, user: User, device: TOTPDevice, request: HttpRequest | None) -> list[str]:
    """Confirm the authenticator after a first good code; returns fresh backup codes."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    codes = _new_backup_codes(user)
    audit.record(
        "mfa.enrolled",
        actor=user,
        request=request,
        target=user,
        details={"device": device.name, "backup_codes": len(codes)},
    )
    return codes


@transaction.atomic
def mfa_backup_codes_regenerate(*, user: User, request: HttpRequest | None) -> list[str]:
    codes = _new_backup_codes(user)
    audit.record("mfa.backup_codes_regenerated", actor=user, request=request, target=user)
    return codes


@transaction.atomic
def mfa_reset(*, actor: User, user: User, request: HttpRequest | None, reason: str) -> None:
    """Remove all of the user's devices: they enrol again at their next sign-in."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit.record("mfa.reset", actor=actor, request=request, target=user, details={"reason": reason})


# Roles and claims ---------------------------------------------------------------------------


@transaction.atomic
def role_grant(
    *, actor: User | None, user: User, role: Role, request: HttpRequest | None = None
) -> bool:
    _, created = RoleGrant.objects.get_or_create(
        user=user, role=role, defaults={"granted_by": actor}
    )
    if created:
        audit.record(
            "role.granted",
            actor=actor,
            request=request,
            target=user,
            agency=user.agency if actor is None else None,
            details={"role": role},
        )
    return created


@transaction.atomic
def role_revoke(
    *, actor: User | None, user: User, role: Role, request: HttpRequest | None = None
) -> bool:
    deleted, _ = RoleGrant.objects.filter(user=user, role=role).delete()
    if deleted:
        audit.record(
            "role.revoked",
            actor=actor,
            request=request,
            target=user,
            agency=user.agency if actor is None else None,
            details={"role": role},
        )
    return bool(deleted)


@transaction.atomic
def claim_grant(
    *,
    actor: User | None,
    user: User,
    claim: Claim,
    reason: str = "",
    request: HttpRequest | None = None,
) -> bool:
    """Grant a claim (e.g. from an approved access request); False if already held."""
    _, created = ClaimGrant.objects.get_or_create(
        user=user, claim=claim, defaults={"granted_by": actor, "reason": reason[:200]}
    )
    if created:
        audit.record(
            "claim.granted",
            actor=actor,
            request=request,
            target=user,
            agency=user.agency if actor is None else None,
            details={"claim": claim, "reason": reason},
        )
    return created


@transaction.atomic
def claim_revoke(
    *,
    actor: User | None,
    user: User,
    claim: Claim,
    reason: str = "",
    request: HttpRequest | None = None,
) -> bool:
    deleted, _ = ClaimGrant.objects.filter(user=user, claim=claim).delete()
    if deleted:
        audit.record(
            "claim.revoked",
            actor=actor,
            request=request,
            target=user,
            agency=user.agency if actor is None else None,
            details={"claim": claim, "reason": reason},
        )
    return bool(deleted)


# Agencies and API clients ---------------------------------------------------------------------


@transaction.atomic
def agency_upsert(
    *, ori: str, name: str, kind: str, town: str = "", actor: User | None = None
) -> tuple[Agency, bool]:
    """Create the agency with this ORI or update its name, kind and town.

    Raises ValidationError (one message per problem) for a bad ORI, kind or name.
    """
    ori = normalize_ori(ori)
    agency = Agency.objects.select_for_update().filter(ori=ori).first()
    created = agency is None
    if agency is None:
        agency = Agency(ori=ori)
    agency.name = name.strip()
    agency.kind = kind
    agency.town = town.strip()
    agency.full_clean(validate_unique=False)
    agency.save()
    audit.record(
        "agency.created" if created else "agency.updated",
        actor=actor,
        agency=agency,
        target=agency,
        object_id=agency.ori,
        details={"name": agency.name, "kind": agency.kind, "town": agency.town},
    )
    return agency, created


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    wanted = [scope.strip() for scope in scopes if scope.strip()]
    unknown = sorted(set(wanted) - set(ApiScope.values))
    if unknown:
        raise ValidationError(
            f"Unknown scope(s): {', '.join(unknown)}. Known scopes: {', '.join(ApiScope.values)}."
        )
    if not wanted:
        raise ValidationError(f"Give at least one scope: {', '.join(ApiScope.values)}.")
    return sorted(set(wanted))


@transaction.atomic
def api_client_issue_key(
    *,
    agency: Agency,
    name: str,
    scopes: Iterable[str],
    actor: User | None,
    request: HttpRequest | None = None,
) -> tuple[ApiClient, str, bool]:
    """Create the agency's client called ``name``, or give an existing one new scopes and a
    new key (the previous key stops working at once). Returns (client, key, created); the
    key is never stored, only its hash."""
    clean_name = name.strip()
    if not clean_name:
        raise ValidationError("Give the client a name, e.g. the records system it serves.")
    clean_scopes = validate_scopes(scopes)
    key, prefix = new_key()
    client = ApiClient.objects.select_for_update().filter(agency=agency, name=clean_name).first()
    created = client is None
    if client is None:
        client = ApiClient(agency=agency, name=clean_name, created_by=actor)
    client.key_prefix = prefix
    client.key_hash = hash_key(key)
    client.scopes = clean_scopes
    client.revoked_at = None
    client.revoked_by = None
    client.save()
    audit.record(
        "api_client.created" if created else "api_client.key_replaced",
        actor=actor,
        request=request,
        agency=agency,
        target=client,
        details={"name": client.name, "scopes": clean_scopes},
    )
    return client, key, created


@transaction.atomic
def api_client_revoke(*, actor: User, client: ApiClient, request: HttpRequest | None) -> None:
    if client.revoked_at is not None:
        return
    client.revoked_at = timezone.now()
    client.revoked_by = actor
    client.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(
        "api_client.revoked",
        actor=actor,
        request=request,
        agency=client.agency,
        target=client,
        details={"name": client.name},
    )
