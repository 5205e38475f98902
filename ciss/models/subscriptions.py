"""Subscriptions: a user follows a person, a plate or a case, and is alerted when a new
exchange or feed record touches it.

A ``Subscription`` is active until the user stops it or it expires (a year by default,
``CISS_SUBSCRIPTION_DAYS``; a reminder is sent before). Its state changes go through
``Subscription.TRANSITIONS``. Each thing that touched it is one ``SubscriptionAlert``,
shown in the portal; e-mail says only that something changed, never what.
"""

import uuid
from datetime import datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from obts.models import Case, Person


class SubscriptionKind(models.TextChoices):
    PERSON = "person", "Person"
    PLATE = "plate", "Plate"
    CASE = "case", "Case"


class Cadence(models.TextChoices):
    REALTIME = "realtime", "Right away, one e-mail per change"
    DAILY = "daily", "Once a day, one e-mail with the count"


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    STOPPED = "stopped", "Stopped"
    EXPIRED = "expired", "Expired"


class SubscriptionTransitionError(Exception):
    """A subscription was asked for a change its state does not allow."""


_DONE = {"renew": "renewed", "remind": "reminded", "stop": "stopped", "expire": "expired"}


def subscription_expiry(start: datetime | None = None) -> datetime:
    """When a subscription started (or renewed) at ``start`` (default now) expires."""
    return (start or timezone.now()) + timedelta(days=settings.CISS_SUBSCRIPTION_DAYS)


class Subscription(models.Model):
    """One user following one thing: a person of the master name index, a plate (by its
    folded key and state, ``ciss.plates``) or a case."""

    # Action -> (states it may start from, state it leaves). One place for every change.
    TRANSITIONS: ClassVar[dict[str, tuple[frozenset[str], str]]] = {
        "renew": (frozenset({SubscriptionStatus.ACTIVE}), SubscriptionStatus.ACTIVE),
        "remind": (frozenset({SubscriptionStatus.ACTIVE}), SubscriptionStatus.ACTIVE),
        "stop": (frozenset({SubscriptionStatus.ACTIVE}), SubscriptionStatus.STOPPED),
        "expire": (frozenset({SubscriptionStatus.ACTIVE}), SubscriptionStatus.EXPIRED),
    }

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    kind = models.CharField(max_length=10, choices=SubscriptionKind.choices)
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    plate = models.CharField(max_length=10, blank=True, help_text="As typed, normalised.")
    plate_key = models.CharField(max_length=10, blank=True, help_text="Folded: compared.")
    plate_state = models.CharField(max_length=2, blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.REALTIME)
    status = models.CharField(
        max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=subscription_expiry)
    reminded_at = models.DateTimeField(
        null=True, blank=True, help_text="When the renewal reminder was sent."
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="person",
                        person__isnull=False,
                        case__isnull=True,
                        plate_key="",
                    )
                    | Q(
                        kind="case",
                        case__isnull=False,
                        person__isnull=True,
                        plate_key="",
                    )
                    | (
                        Q(kind="plate", person__isnull=True, case__isnull=True)
                        & ~Q(plate_key="")
                        & ~Q(plate_state="")
                    )
                ),
                name="subscription_one_target",
            ),
            models.UniqueConstraint(
                fields=["user", "person"],
                condition=Q(status="active", kind="person"),
                name="subscription_person_once",
            ),
            models.UniqueConstraint(
                fields=["user", "case"],
                condition=Q(status="active", kind="case"),
                name="subscription_case_once",
            ),
            models.UniqueConstraint(
                fields=["user", "plate_key", "plate_state"],
                condition=Q(status="active", kind="plate"),
                name="subscription_plate_once",
            ),
        ]
        indexes = [
            models.Index(fields=["plate_key", "plate_state"], name="subscription_plate"),
            models.Index(fields=["status", "expires_at"], name="subscription_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.user} follows {self.target_label}"

    @property
    def target_label(self) -> str:
        """What is followed, for its follower (who chose it)."""
        if self.kind == SubscriptionKind.PLATE:
            return f"plate {self.plate_state} {self.plate or self.plate_key}"
        if self.kind == SubscriptionKind.CASE and self.case is not None:
            return self.case.reference
        if self.kind == SubscriptionKind.PERSON and self.person is not None:
            return str(self.person)
        return self.get_kind_display()

    @property
    def is_active(self) -> bool:
        return self.status == SubscriptionStatus.ACTIVE and self.expires_at > timezone.now()

    def can(self, action: str) -> bool:
        allowed, _ = self.TRANSITIONS[action]
        return self.status in allowed

    def apply(self, action: str, *, now: datetime) -> list[str]:
        """Change the subscription as ``action`` says; the fields changed, to save.
        Raises ``SubscriptionTransitionError`` when its state does not allow it."""
        allowed, target = self.TRANSITIONS[action]
        if self.status not in allowed:
            raise SubscriptionTransitionError(
                f"This subscription is {self.get_status_display().lower()}, so it cannot be "
                f"{_DONE[action]}. Follow it again to be alerted again."
            )
        self.status = target
        if action == "renew":
            self.expires_at, self.reminded_at = subscription_expiry(now), None
            return ["expires_at", "reminded_at"]
        if action == "remind":
            self.reminded_at = now
            return ["reminded_at"]
        self.ended_at = now
        return ["status", "ended_at"]


class SubscriptionAlert(models.Model):
    """Something that touched a subscription. ``text`` may hold criminal-justice
    information: it is shown only in the portal, to the subscription's user, and was
    written for what that user's claims allow. E-mails never carry it."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="alerts")
    created_at = models.DateTimeField(default=timezone.now)
    key = models.CharField(
        max_length=80,
        help_text="What touched it (an exchange, a change of records): one alert each.",
    )
    text = models.CharField(max_length=300)
    source = models.CharField(
        max_length=60, help_text='e.g. "exchange early_arrest_notice" or "feed cases".'
    )
    person_public_id = models.UUIDField(null=True, blank=True)
    exchange_public_id = models.UUIDField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "key"], name="subscription_alert_once")
        ]
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="subscription_alert_recent"),
            models.Index(fields=["emailed_at", "seen_at"], name="subscription_alert_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.created_at:%Y-%m-%d %H:%M}"
