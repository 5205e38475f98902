import uuid
from typing import Any

from django.db import models
from django.db.models.functions import Concat, Upper
from django.urls import reverse
from django.utils import timezone

from obts.addresses import location_key


class Sex(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    UNKNOWN = "U", "Unknown"
    EMPTY = "", "Not recorded"


class PersonStatus(models.TextChoices):
    INCARCERATED_SENTENCED = "incarcerated_sentenced", "Incarcerated, sentenced"
    INCARCERATED_PRETRIAL = "incarcerated_pretrial", "Incarcerated, pretrial"
    ON_PAROLE = "on_parole", "On parole"
    ON_PROBATION = "on_probation", "On probation"
    PRETRIAL = "pretrial", "Pretrial, cases pending"
    RELEASED = "released", "Released"
    NO_ACTIVE_INVOLVEMENT = "no_active_involvement", "No active involvement"


class Flag(models.TextChoices):
    """Officer-safety and status flags, in the order they are shown (wanted first)."""

    WANTED = "wanted", "Wanted"
    OFFICER_CAUTION = "officer_caution", "Officer caution"
    PROTECTIVE_ORDER = "protective_order", "Protective order"
    SEX_OFFENDER = "sex_offender", "Registered sex offender"
    PAROLE = "parole", "On parole"
    PROBATION = "probation", "On probation"
    RECENTLY_ARRESTED = "recently_arrested", "Recently arrested"
    RECENTLY_RELEASED = "recently_released", "Recently released"
    PENDING_CASE = "pending_case", "Pending case"
    BAIL_CONDITIONS = "bail_conditions", "Bail conditions"


class Person(models.Model):
    """One person of the master name index, with what every source says about them."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    race = models.CharField(max_length=2, blank=True)
    height_in = models.PositiveSmallIntegerField("height (inches)", null=True, blank=True)
    weight_lb = models.PositiveSmallIntegerField("weight (pounds)", null=True, blank=True)
    eye_color = models.CharField(max_length=3, blank=True)
    hair_color = models.CharField(max_length=3, blank=True)
    scars_marks_tattoos = models.TextField(blank=True)
    caution = models.TextField(
        "officer-safety caution", blank=True, help_text="e.g. history of violence against police"
    )
    status = models.CharField(
        max_length=30, choices=PersonStatus.choices, default=PersonStatus.NO_ACTIVE_INVOLVEMENT
    )
    flags = models.JSONField(default=list, blank=True)
    # Status and flags as a reader who may not see some of this person's cases sees them,
    # by which kinds are hidden ("j" juvenile, "s" sealed, "js" both):
    # {"s": ["released", ["wanted"]]}. Only the kinds this person has a case of are
    # keys; an empty object means every reader sees ``status`` and ``flags``. Null until
    # first computed (readers then compute it from the records). Kept with ``flags``.
    restricted_views = models.JSONField(null=True, blank=True, default=None)
    status_computed_at = models.DateTimeField(null=True, blank=True)
    # Set when a CJIS reviewer merged this person into another; the row stays for undo.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_persons"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status"], name="person_status")]

    def __str__(self) -> str:
        primary = next((name for name in self.names.all() if name.is_primary), None)
        return str(primary) if primary else f"Person {self.public_id}"

    def get_absolute_url(self) -> str:
        return reverse("obts:person", kwargs={"public_id": self.public_id})


class PersonSource(models.Model):
    """A source system's own record of the person (MNI, DOC, court...), by its id."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="sources")
    source_system = models.CharField(max_length=40)
    source_id = models.CharField(max_length=80)
    as_of = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_system", "source_id"], name="person_source")
        ]

    def __str__(self) -> str:
        return f"{self.source_system}:{self.source_id}"


class PersonName(models.Model):
    """The primary name or an alias, each with its own date of birth."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="names")
    source = models.ForeignKey(
        PersonSource, on_delete=models.CASCADE, null=True, blank=True, related_name="names"
    )
    is_primary = models.BooleanField(default=False)
    first_name = models.CharField(max_length=60, blank=True)
    middle_name = models.CharField(max_length=60, blank=True)
    last_name = models.CharField(max_length=80)
    suffix = models.CharField(max_length=10, blank=True)
    dob = models.DateField("date of birth", null=True, blank=True)
    # What trigram search compares (obts.services.matching.trigram_name_ids): kept by the
    # database, so every way a name is written fills it. Indexed with pg_trgm on
    # PostgreSQL (migration 0004).
    search_name = models.GeneratedField(
        expression=Upper(Concat("last_name", models.Value(" "), "first_name")),
        output_field=models.CharField(max_length=141),
        db_persist=True,
    )

    class Meta:
        indexes = [models.Index(fields=["last_name", "first_name"], name="person_name")]

    def __str__(self) -> str:
        parts = [self.first_name, self.middle_name, self.last_name, self.suffix]
        return " ".join(part for part in parts if part)


class NameKey(models.Model):
    """A blocking key of a name (see obts.matching), stored as its 64-bit hash: candidates
    come from these, never from a scan of the names.

    The primary key (key, name) is the lookup index; there is no surrogate id, which at
    tens of millions of rows would cost an index of its own.

    Keys are derived from their name and written and deleted with it (the ORM cascades),
    so the database keeps no foreign key constraint: checking one per key row at commit
    (some forty per name) cost a batch of 1,000 new persons about 0.2 s. A key left
    behind would only name a row that candidate retrieval no longer finds."""

    pk = models.CompositePrimaryKey("key", "name_id")
    key = models.BigIntegerField()
    name = models.ForeignKey(
        PersonName, on_delete=models.CASCADE, related_name="keys", db_constraint=False
    )

    def __str__(self) -> str:
        return f"{self.key & 0xFFFF_FFFF_FFFF_FFFF:016x}"


class IdentifierKind(models.TextChoices):
    SID = "sid", "State identification number (SID)"
    FBI = "fbi", "FBI number"
    DRIVERS_LICENSE = "dl", "Driver's licence"
    DOC_NUMBER = "doc", "DOC inmate number"
    PROBATION_NUMBER = "probation", "Probation number"
    PAROLE_NUMBER = "parole", "Parole number"


class PersonIdentifier(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="identifiers")
    source = models.ForeignKey(
        PersonSource, on_delete=models.CASCADE, null=True, blank=True, related_name="identifiers"
    )
    kind = models.CharField(max_length=10, choices=IdentifierKind.choices)
    value = models.CharField(max_length=40)
    state = models.CharField(max_length=2, blank=True, help_text="Issuing state (licences).")

    class Meta:
        indexes = [models.Index(fields=["kind", "value"], name="person_identifier")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}{f' ({self.state})' if self.state else ''}"


class Address(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="addresses")
    source = models.ForeignKey(
        PersonSource, on_delete=models.CASCADE, null=True, blank=True, related_name="addresses"
    )
    line1 = models.CharField(max_length=120)
    line2 = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=60, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    from_date = models.DateField(null=True, blank=True)
    to_date = models.DateField(null=True, blank=True)
    location_key = models.CharField(
        max_length=255,
        blank=True,
        editable=False,
        help_text="The normalised street, city and state (obts.addresses) that places with "
        "the same address share.",
    )

    class Meta:
        ordering = ["-from_date"]
        indexes = [models.Index(fields=["location_key"], name="address_location")]

    def __str__(self) -> str:
        return ", ".join(part for part in [self.line1, self.line2, self.city, self.state] if part)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.fill_location_key()
        super().save(*args, **kwargs)

    def fill_location_key(self) -> "Address":
        """Set ``location_key`` from the address lines (bulk writes do not call save)."""
        self.location_key = location_key(
            self.line1, self.line2, self.city, self.state, self.postal_code
        )
        return self
