"""Police incident reports and property: the events, places and items CISS searches, with
the people and vehicles linked to them. Records arrive through the ``incidents`` and
``property`` feeds (``ciss.incident_feeds``) and carry the provenance of OBTS records."""

from django.db import models
from django.utils import timezone

from ciss.models.vehicles import Vehicle
from obts.addresses import NormalizedAddress
from obts.models import Person
from obts.models.base import SourceRecord


class Location(models.Model):
    """A place, stored once per normalised address (``obts.addresses``). Person addresses
    share the key in ``obts.models.Address.location_key`` without a row here; a row is
    made when an incident happens at the place or property is found there."""

    key = models.CharField(max_length=255, unique=True)
    street_number = models.CharField(max_length=20, blank=True)
    street_name = models.CharField(max_length=120, blank=True)
    unit = models.CharField(max_length=40, blank=True)
    city = models.CharField(max_length=60, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.normalized())

    def normalized(self) -> NormalizedAddress:
        return NormalizedAddress(
            street_number=self.street_number,
            street_name=self.street_name,
            unit=self.unit,
            city=self.city,
            state=self.state,
            postal_code=self.postal_code,
        )


class Incident(SourceRecord):
    """One police incident report (an event): what happened, where and when, reported by
    which agency, under the agency's incident number."""

    incident_number = models.CharField(max_length=40)
    agency_ori = models.CharField("agency ORI", max_length=9)
    kind = models.CharField(
        max_length=60, help_text="What happened, as the agency classes it: Burglary, Assault."
    )
    occurred_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="incidents"
    )
    location_text = models.CharField(
        max_length=255, blank=True, help_text="The place as reported (an intersection, a park)."
    )
    summary = models.TextField(blank=True)
    docket_number = models.CharField(
        max_length=30, blank=True, help_text="The court docket, once the incident went to court."
    )
    status = models.CharField(
        max_length=30, blank=True, help_text="Open, closed, cleared by arrest."
    )

    class Meta:
        constraints = [SourceRecord.provenance_constraint("incident_source")]
        indexes = [
            models.Index(fields=["incident_number"], name="incident_number"),
            models.Index(fields=["agency_ori", "occurred_at"], name="incident_agency_date"),
            models.Index(fields=["occurred_at"], name="incident_occurred"),
            models.Index(fields=["docket_number"], name="incident_docket"),
        ]

    def __str__(self) -> str:
        return f"{self.agency_ori} {self.incident_number}"


class IncidentRole(models.TextChoices):
    SUSPECT = "suspect", "Suspect"
    ARRESTEE = "arrestee", "Arrestee"
    VICTIM = "victim", "Victim"
    WITNESS = "witness", "Witness"
    COMPLAINANT = "complainant", "Complainant"
    REPORTING_PARTY = "reporting_party", "Reporting party"
    OWNER = "owner", "Owner"
    INVOLVED = "involved", "Involved"


class IncidentPerson(models.Model):
    """A person named in an incident report, with the role they played. ``person`` is set
    when the report names someone in the master name index; otherwise ``name`` (and
    ``dob``) hold what the report says."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="people")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="incident_roles"
    )
    name = models.CharField(max_length=120, blank=True)
    dob = models.DateField("date of birth", null=True, blank=True)
    role = models.CharField(max_length=20, choices=IncidentRole.choices)

    class Meta:
        indexes = [models.Index(fields=["person"], name="incident_person")]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.name or self.person_id}"


class VehicleRole(models.TextChoices):
    SUSPECT = "suspect", "Suspect vehicle"
    VICTIM = "victim", "Victim vehicle"
    STOLEN = "stolen", "Stolen"
    RECOVERED = "recovered", "Recovered"
    TOWED = "towed", "Towed"
    INVOLVED = "involved", "Involved"


class IncidentVehicle(models.Model):
    """A vehicle named in an incident report. ``vehicle`` is set when the plate and state
    match a registered vehicle; the plate as reported is kept either way."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="vehicles")
    vehicle = models.ForeignKey(
        Vehicle, on_delete=models.SET_NULL, null=True, blank=True, related_name="incident_roles"
    )
    plate = models.CharField(max_length=10, blank=True)
    plate_key = models.CharField(max_length=10, blank=True, editable=False)
    plate_state = models.CharField(max_length=2, blank=True)
    description = models.CharField(max_length=120, blank=True)
    role = models.CharField(max_length=20, choices=VehicleRole.choices)

    class Meta:
        indexes = [models.Index(fields=["plate_key", "plate_state"], name="incident_vehicle_plate")]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.plate_state} {self.plate}".strip()


class PropertyCategory(models.TextChoices):
    FIREARM = "firearm", "Firearm"
    ARTICLE = "article", "Article"
    BICYCLE = "bicycle", "Bicycle"
    BOAT = "boat", "Boat"
    SECURITY = "security", "Security (cheque, bond)"
    OTHER = "other", "Other"


class PropertyStatus(models.TextChoices):
    STOLEN = "stolen", "Stolen"
    RECOVERED = "recovered", "Recovered"
    EVIDENCE = "evidence", "Held as evidence"
    FOUND = "found", "Found"
    SEIZED = "seized", "Seized"
    SAFEKEEPING = "safekeeping", "Safekeeping"
    RETURNED = "returned", "Returned to owner"
    DESTROYED = "destroyed", "Destroyed"


class PropertyItem(SourceRecord):
    """A firearm or article an agency reports: stolen, recovered, held as evidence.

    ``serial_key`` is the serial number in capitals and digits only (``ciss.serials``),
    which is what searches compare. ``incident`` links the item to the report it came
    with when that report is on file (by ``agency_ori`` and ``incident_number``)."""

    category = models.CharField(max_length=10, choices=PropertyCategory.choices)
    serial_number = models.CharField(max_length=40, blank=True)
    serial_key = models.CharField(max_length=40, blank=True, editable=False)
    owner_applied_number = models.CharField(max_length=40, blank=True)
    make = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=40, blank=True)
    caliber = models.CharField(max_length=20, blank=True, help_text="Firearms.")
    description = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, choices=PropertyStatus.choices)
    status_date = models.DateField(null=True, blank=True)
    agency_ori = models.CharField("agency ORI", max_length=9)
    incident_number = models.CharField(max_length=40, blank=True)
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="property"
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="property_items",
        verbose_name="owner",
        help_text="The owner, when in the master name index.",
    )
    owner_name = models.CharField(max_length=120, blank=True)
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="property_items",
        help_text="Where the item was stolen from, found or recovered.",
    )

    class Meta:
        constraints = [SourceRecord.provenance_constraint("property_source")]
        indexes = [
            models.Index(fields=["serial_key"], name="property_serial"),
            models.Index(fields=["agency_ori", "incident_number"], name="property_incident"),
        ]

    def __str__(self) -> str:
        what = " ".join(part for part in (self.make, self.model) if part)
        return f"{what or self.get_category_display()} {self.serial_number}".strip()
