"""What CISS searches beyond the master name index. Records arrive through the feeds of
``obts.services.feeds`` (kinds registered in ``ciss.feeds``) and carry the same
provenance as OBTS records."""

from django.db import models

from obts.models import Person
from obts.models.base import SourceRecord


class RegistrationStatus(models.TextChoices):
    VALID = "valid", "Valid"
    EXPIRED = "expired", "Expired"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"
    CANCELLED = "cancelled", "Cancelled"


class Vehicle(SourceRecord):
    """A registered vehicle as the motor vehicle department (or another source) knows it.

    ``plate`` is stored normalised and ``plate_key`` folded (``ciss.plates``): lookups go
    by ``(plate_key, plate_state)``, so ABC1234 and ABCI234 find the same vehicle."""

    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vehicles",
        verbose_name="registered owner",
        help_text="The registered owner, when the owner is in the master name index.",
    )
    owner_name = models.CharField(
        max_length=120, blank=True, help_text="The owner as registered (a person or a company)."
    )
    plate = models.CharField(max_length=10)
    plate_key = models.CharField(max_length=10, editable=False)
    plate_state = models.CharField(max_length=2)
    plate_type = models.CharField(max_length=30, blank=True)
    vin = models.CharField("VIN", max_length=17, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    make = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=40, blank=True)
    style = models.CharField(max_length=30, blank=True)
    color = models.CharField(max_length=30, blank=True)
    registration_status = models.CharField(
        max_length=10, choices=RegistrationStatus.choices, default=RegistrationStatus.VALID
    )
    registration_expires = models.DateField(null=True, blank=True)
    stolen = models.BooleanField(default=False, help_text="Reported stolen.")

    class Meta:
        constraints = [SourceRecord.provenance_constraint("vehicle_source")]
        indexes = [
            models.Index(fields=["plate_key", "plate_state"], name="vehicle_plate"),
            models.Index(fields=["vin"], name="vehicle_vin"),
        ]

    def __str__(self) -> str:
        return f"{self.plate_state} {self.plate}"

    def description(self) -> str:
        """Year, make, model, style and colour as far as known: "2019 Honda Civic, blue"."""
        what = " ".join(str(part) for part in (self.year, self.make, self.model) if part)
        extra = ", ".join(part for part in (self.style, self.color) if part)
        return ", ".join(part for part in (what, extra) if part) or "No description"
