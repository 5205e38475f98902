"""Reads of identity and audit data, scoped to what the caller may see."""

from datetime import date, datetime, time, timedelta

from axes.models import AccessAttempt
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEvent, User


def user_recent_activity(user: User, *, limit: int = 15) -> list[AuditEvent]:
    """The user's own latest audit events, newest first."""
    return list(AuditEvent.objects.filter(actor=user).select_related("agency")[:limit])


def user_mfa_devices(user: User) -> dict[str, object]:
    totp = list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk"))
    backup_left = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    return {"authenticators": totp, "backup_codes_left": backup_left}


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events(
    *,
    username: str = "",
    agency_ori: str = "",
    action: str = "",
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events matching the filters, newest first. Dates are whole days in the
    portal's time zone, ``end`` included."""
    events = AuditEvent.objects.select_related("agency", "actor", "api_client")
    if username:
        events = events.filter(Q(actor__username=username) | Q(actor_username=username))
    if agency_ori:
        events = events.filter(agency__ori=agency_ori.strip().upper())
    if action:
        events = events.filter(action=action)
    if start:
        events = events.filter(occurred_at__gte=_day_start(start))
    if end:
        events = events.filter(occurred_at__lt=_day_start(end + timedelta(days=1)))
    return events.order_by("-seq")


def accounts_matching(query: str, *, limit: int = 50) -> QuerySet[User]:
    users = User.objects.select_related("agency").prefetch_related("role_grants")
    query = query.strip()
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(email__icontains=query)
            | Q(agency__ori__iexact=query)
        )
    return users.order_by("username")[:limit]


def account_failed_attempts(user: User) -> int:
    """Consecutive failed sign-in attempts recorded against the username."""
    total = AccessAttempt.objects.filter(username=user.username).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return int(total or 0)
