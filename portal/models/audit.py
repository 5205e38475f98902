"""The append-only, hash-chained audit log.

Each event's ``hash`` is SHA-256 over the previous event's hash and the event's own
content, in ``seq`` order, so changing, removing or inserting a row breaks the chain from
that row on (``python manage.py verify_audit`` finds the first broken row). Rows are
written only through ``portal.audit.record``; the ORM refuses updates and deletes and, on
PostgreSQL, a trigger refuses them in the database too.
"""

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC
from typing import Any, NoReturn

from django.db import models
from django.utils import timezone

GENESIS_HASH = "0" * 64

# Human labels of the actions the apps record (each app registers its own at start-up);
# an action without a label shows its code.
ACTION_LABELS: dict[str, str] = {}


class AuditLogIsAppendOnly(Exception):
    pass


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("Audit events cannot be changed.")

    def delete(self) -> NoReturn:
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("Audit events cannot be changed.")

    def bulk_create(self, objs: Iterable["AuditEvent"], *args: Any, **kwargs: Any) -> Any:
        events = list(objs)
        if not all(event._chained and event._state.adding for event in events):
            raise AuditLogIsAppendOnly(
                "Audit events are written only through portal.audit.record()."
            )
        return super().bulk_create(events, *args, **kwargs)


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    DENIED = "denied", "Denied"


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Neither the actor nor the agency has an index of its own: audit_actor_time and
    # audit_agency_time lead with them.
    actor = models.ForeignKey(
        "portal.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # The name typed or held at the time: kept for failed sign-ins of unknown names and
    # so the row still reads right if the account is renamed.
    actor_username = models.CharField(max_length=150, blank=True)
    agency = models.ForeignKey(
        "portal.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    api_client = models.ForeignKey(
        "portal.ApiClient", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=80)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=80, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.CharField("IP address", max_length=45, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    # Set only by portal.audit.record(), the one writer that links the row into the chain.
    _chained: bool = False

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["actor", "-occurred_at"], name="audit_actor_time"),
            models.Index(fields=["agency", "-occurred_at"], name="audit_agency_time"),
            models.Index(fields=["action", "-occurred_at"], name="audit_action_time"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_username or 'system'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or not self._chained:
            raise AuditLogIsAppendOnly(
                "Audit events are written only through portal.audit.record()."
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def details_text(self) -> str:
        return "; ".join(
            f"{key}: {json.dumps(value) if isinstance(value, dict | list) else value}"
            for key, value in sorted(self.details.items())
        )

    def content(self) -> dict[str, Any]:
        """What the hash covers, in a form that reads back identically from the database."""
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
            "actor": self.actor_id,
            "actor_username": self.actor_username,
            "agency": self.agency_id,
            "api_client": self.api_client_id,
            "action": self.action,
            "outcome": self.outcome,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "details": self.details,
            "ip": self.ip,
            "user_agent": self.user_agent,
        }

    def compute_hash(self) -> str:
        payload = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256((self.prev_hash + payload).encode()).hexdigest()


class AuditChainHead(models.Model):
    """The last link of the chain: locked while an event is appended."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain at #{self.seq}"
