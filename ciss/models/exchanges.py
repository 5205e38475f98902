"""Information exchanges from police records systems, how they are routed, and their
deliveries to the people who receive them.

An ``Exchange`` is what an RMS submitted (kept as sent, under its idempotency key), with
what intake made of it: the subject in the master name index and the case it recorded.
``RoutingRule`` rows decide who receives it; each recipient gets one ``Delivery`` row —
the outbox while it is pending, the recipient's inbox entry once delivered.
"""

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from obts.models import Case, Person
from portal.models import Agency, ApiClient
from portal.roles import Claim, Role


class ExchangeType(models.TextChoices):
    EARLY_ARREST_NOTICE = "early_arrest_notice", "Early arrest notice"
    ARREST_PACKET = "arrest_packet", "Arrest packet"
    MISDEMEANOR_SUMMONS = "misdemeanor_summons", "Misdemeanor summons"
    INFRACTION = "infraction", "Infraction"
    COURT_SCHEDULE_NOTIFICATION = "court_schedule_notification", "Court schedule notification"


class ExchangeStatus(models.TextChoices):
    ACCEPTED = "accepted", "Accepted, delivering"
    DELIVERED = "delivered", "Delivered to every recipient"
    DELIVERY_FAILED = "delivery_failed", "Delivery failed for a recipient"
    NO_RECIPIENTS = "no_recipients", "No recipient found"


class CourtLocation(models.Model):
    """A court location code (GA14, HHD...) and the agencies that serve it: the court
    whose clerks take the case, and the state's attorney's office that prosecutes it."""

    code = models.CharField(max_length=20, unique=True, help_text="e.g. GA14")
    name = models.CharField(max_length=120)
    town = models.CharField(max_length=100, blank=True)
    court_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="court_locations", verbose_name="court"
    )
    prosecutor_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prosecuted_court_locations",
        verbose_name="state's attorney",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Exchange(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=40, choices=ExchangeType.choices)
    # No index of its own: exchange_idempotency and exchange_sender lead with it.
    sender_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="exchanges", db_index=False
    )
    api_client = models.ForeignKey(
        ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="exchanges"
    )
    idempotency_key = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64, help_text="SHA-256 of the body as parsed.")
    payload = models.JSONField(help_text="The exchange as submitted.")
    answer = models.JSONField(
        default=dict, help_text="The first answer, given again to a replay of the same key."
    )
    incident_number = models.CharField(max_length=40, blank=True)
    docket_number = models.CharField(max_length=40, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    court_code = models.CharField(max_length=20, blank=True)
    court_date = models.DateField(
        null=True, blank=True, help_text="Arraignment, appearance or hearing date."
    )
    subject_name = models.CharField(max_length=200, blank=True)
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="exchanges"
    )
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="exchanges"
    )
    status = models.CharField(
        max_length=20, choices=ExchangeStatus.choices, default=ExchangeStatus.ACCEPTED
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender_agency", "idempotency_key"], name="exchange_idempotency"
            )
        ]
        indexes = [
            models.Index(fields=["sender_agency", "-received_at"], name="exchange_sender"),
            models.Index(fields=["incident_number"], name="exchange_incident"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.incident_number or self.docket_number}"

    @property
    def reference(self) -> str:
        if self.docket_number:
            return f"Docket {self.docket_number}"
        return f"Incident {self.incident_number}" if self.incident_number else "No number"


def _attachment_path(instance: "ExchangeAttachment", filename: str) -> str:
    # The stored name is opaque: the original name is kept in a field, never in a path.
    return f"exchanges/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class ExchangeAttachment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    exchange = models.ForeignKey(Exchange, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, help_text="As found from the bytes.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField("SHA-256", max_length=64)
    description = models.CharField(max_length=200, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    api_client = models.ForeignKey(
        ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def kind(self) -> str:
        """pdf, image, audio or video: how the browser shows it."""
        if self.content_type == "application/pdf":
            return "pdf"
        return self.content_type.split("/", 1)[0]


class RoutingTarget(models.TextChoices):
    COURT = "court", "Court of the exchange's court location"
    PROSECUTOR = "prosecutor", "State's attorney for that court"
    ARRESTING_AGENCY = "arresting_agency", "Arresting agency of the case"
    CUSTODY = "custody", "Corrections, while the person is in custody"
    AGENCY = "agency", "A named agency"


class RoutingRule(models.Model):
    """Who receives an exchange: the exchanges it applies to (type, court, town, sending
    agency; empty means any) and the recipients (an agency found from the exchange, or a
    named one; the role and, where set, the claim a recipient must hold)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    exchange_type = models.CharField(
        max_length=40, choices=ExchangeType.choices, blank=True, help_text="Empty: any type."
    )
    court_code = models.CharField(max_length=20, blank=True, help_text="Empty: any court.")
    town = models.CharField(
        max_length=100, blank=True, help_text="Town of the sending agency. Empty: any town."
    )
    sending_agency = models.ForeignKey(
        Agency,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: any sending agency.",
    )
    target = models.CharField(max_length=20, choices=RoutingTarget.choices)
    agency = models.ForeignKey(
        Agency,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The recipient agency when the target is a named agency.",
    )
    role = models.CharField(max_length=30, choices=Role.choices)
    required_claim = models.CharField(
        max_length=80, choices=Claim.choices, blank=True, help_text="Empty: the role is enough."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["exchange_type", "court_code", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(target="agency", agency__isnull=False)
                | (~models.Q(target="agency") & models.Q(agency__isnull=True)),
                name="routing_rule_agency_iff_named",
            )
        ]

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    FAILED = "failed", "Failed"


class DeliveryTransitionError(Exception):
    """A delivery was asked to move to a state it cannot reach from where it is."""


class Delivery(models.Model):
    """One exchange for one recipient. Pending, it is the outbox; delivered, it is in the
    recipient's inbox. The unique (exchange, recipient) pair keeps redelivery from ever
    showing an exchange twice."""

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        DeliveryStatus.PENDING: frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.FAILED}),
        DeliveryStatus.FAILED: frozenset({DeliveryStatus.PENDING, DeliveryStatus.DELIVERED}),
        DeliveryStatus.DELIVERED: frozenset({DeliveryStatus.READ, DeliveryStatus.ACKNOWLEDGED}),
        DeliveryStatus.READ: frozenset({DeliveryStatus.ACKNOWLEDGED}),
        DeliveryStatus.ACKNOWLEDGED: frozenset(),
    }
    IN_INBOX: ClassVar[tuple[str, ...]] = (
        DeliveryStatus.DELIVERED,
        DeliveryStatus.READ,
        DeliveryStatus.ACKNOWLEDGED,
    )

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Neither has an index of its own: delivery_once leads with the exchange and
    # delivery_inbox with the recipient (every delivery row is written twice, inserted
    # and then delivered, so each index costs two entries per row).
    exchange = models.ForeignKey(
        Exchange, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="deliveries", help_text="At routing time."
    )
    rule = models.ForeignKey(
        RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a retry is due; the sweeper leaves it until then."
    )
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the recipient was alerted by e-mail."
    )
    alert_error = models.CharField(
        max_length=500, blank=True, help_text="Why the e-mail alert could not be sent."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["exchange", "recipient"], name="delivery_once")
        ]
        indexes = [
            models.Index(fields=["recipient", "status", "-created_at"], name="delivery_inbox"),
            models.Index(fields=["status", "created_at"], name="delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.exchange} → {self.recipient}"

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]

    def check_transition(self, status: str) -> None:
        if not self.can_become(status):
            raise DeliveryTransitionError(
                f"A delivery that is {self.get_status_display().lower()} cannot become "
                f"{DeliveryStatus(status).label.lower()}."
            )

    @property
    def is_unread(self) -> bool:
        return self.status == DeliveryStatus.DELIVERED


class AlertChannel(models.TextChoices):
    PORTAL = "portal", "In the portal only"
    EMAIL = "email", "In the portal and by e-mail"


class InboxPreference(models.Model):
    """How a person wants to hear of new exchanges. The e-mail says only that something
    arrived, never what: criminal-justice information stays in the portal."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_preference"
    )
    alert = models.CharField(
        max_length=10, choices=AlertChannel.choices, default=AlertChannel.PORTAL
    )

    def __str__(self) -> str:
        return f"{self.user}: {self.get_alert_display()}"


class CertificationReport(models.Model):
    """One run of the RMS conformance checks over what a vendor's client submitted in a
    window (``ciss.exchanges.certification``): the level reached and every check with
    what was measured."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    api_client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="certification_reports"
    )
    run_at = models.DateTimeField(default=timezone.now)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    level = models.PositiveSmallIntegerField(help_text="0: not certified; 1 or 2: CISS level.")
    checks = models.JSONField(default=list)

    class Meta:
        ordering = ["-run_at", "-id"]

    def __str__(self) -> str:
        return f"{self.api_client}: level {self.level} ({self.run_at:%Y-%m-%d})"
