"""Records about a person from the court, corrections, supervision, protective-order,
warrant, registry and infractions systems. Each carries its provenance (SourceRecord)."""

from django.db import models

from obts.models.base import SourceRecord
from obts.models.persons import Person


class CaseStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DISPOSED = "disposed", "Disposed"
    DISMISSED = "dismissed", "Dismissed"
    NOLLE = "nolle", "Nolled"
    TRANSFERRED = "transferred", "Transferred"


class Case(SourceRecord):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="cases")
    docket_number = models.CharField(
        max_length=40, blank=True, help_text="Empty until the court assigns one."
    )
    incident_number = models.CharField(
        max_length=40, blank=True, help_text="The arresting agency's incident (report) number."
    )
    court_code = models.CharField(max_length=20, blank=True, help_text="e.g. GA14")
    arresting_agency_ori = models.CharField(max_length=9, blank=True)
    arrest_date = models.DateField(null=True, blank=True)
    arraignment_date = models.DateField(null=True, blank=True)
    next_court_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.PENDING)
    bail_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    release_conditions = models.TextField(blank=True)
    is_juvenile = models.BooleanField(default=False)
    is_sealed = models.BooleanField(default=False)

    class Meta:
        constraints = [SourceRecord.provenance_constraint("case_source")]
        indexes = [
            models.Index(fields=["docket_number"], name="case_docket"),
            models.Index(fields=["arresting_agency_ori", "arrest_date"], name="case_agency_arrest"),
        ]
        ordering = ["-arrest_date", "docket_number"]

    def __str__(self) -> str:
        return f"{self.reference} ({self.court_code})"

    @property
    def reference(self) -> str:
        """How people name the case: by docket, or by the arrest's incident number while
        the court has not assigned a docket yet."""
        if self.docket_number:
            return f"docket {self.docket_number}"
        return f"incident {self.incident_number or '(unnumbered)'}, no docket yet"


class ChargeClass(models.TextChoices):
    FELONY_A = "felony_a", "Class A felony"
    FELONY_B = "felony_b", "Class B felony"
    FELONY_C = "felony_c", "Class C felony"
    FELONY_D = "felony_d", "Class D felony"
    FELONY_U = "felony_u", "Unclassified felony"
    MISDEMEANOR_A = "misdemeanor_a", "Class A misdemeanor"
    MISDEMEANOR_B = "misdemeanor_b", "Class B misdemeanor"
    MISDEMEANOR_C = "misdemeanor_c", "Class C misdemeanor"
    MISDEMEANOR_D = "misdemeanor_d", "Class D misdemeanor"
    MISDEMEANOR_U = "misdemeanor_u", "Unclassified misdemeanor"
    INFRACTION = "infraction", "Infraction"
    VIOLATION = "violation", "Violation"


class Charge(models.Model):
    """A count on a case; charges arrive with their case and are replaced with it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="charges")
    sequence = models.PositiveSmallIntegerField(default=1)
    statute = models.CharField(max_length=40)
    description = models.CharField(max_length=200, blank=True)
    charge_class = models.CharField(max_length=20, choices=ChargeClass.choices, blank=True)
    counts = models.PositiveSmallIntegerField(default=1)
    plea = models.CharField(max_length=40, blank=True)
    disposition = models.CharField(max_length=60, blank=True)
    disposition_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"{self.statute} {self.description}".strip()


class SentenceRelation(models.TextChoices):
    CONCURRENT = "concurrent", "Concurrent"
    CONSECUTIVE = "consecutive", "Consecutive"


class Sentence(SourceRecord):
    """A sentence as imposed; its dates are computed by obts.timecalc and stored with
    the explanation of how each was computed."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="sentences")
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="sentences"
    )
    imposed_on = models.DateField()
    incarceration_days = models.PositiveIntegerField(default=0)
    suspended_days = models.PositiveIntegerField(default=0)
    probation_days = models.PositiveIntegerField(default=0)
    conditional_discharge_days = models.PositiveIntegerField(default=0)
    fine_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    relation = models.CharField(
        max_length=12, choices=SentenceRelation.choices, default=SentenceRelation.CONCURRENT
    )
    consecutive_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="followed_by"
    )
    jail_credit_days = models.PositiveIntegerField(default=0)
    starts_on = models.DateField(null=True, blank=True)
    max_release_on = models.DateField(null=True, blank=True)
    supervision_ends_on = models.DateField(null=True, blank=True)
    calculation = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [SourceRecord.provenance_constraint("sentence_source")]
        ordering = ["imposed_on"]

    def __str__(self) -> str:
        return f"Sentence of {self.imposed_on}"


class CustodyStatus(models.TextChoices):
    PRETRIAL = "pretrial", "Pretrial"
    SENTENCED = "sentenced", "Sentenced"


class CustodyPeriod(SourceRecord):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="custody_periods")
    facility = models.CharField(max_length=100)
    inmate_number = models.CharField(max_length=20, blank=True)
    admission_type = models.CharField(max_length=60, blank=True)
    custody_status = models.CharField(max_length=10, choices=CustodyStatus.choices)
    admitted_on = models.DateField()
    released_on = models.DateField(null=True, blank=True)
    release_type = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [SourceRecord.provenance_constraint("custody_source")]
        indexes = [models.Index(fields=["facility", "released_on"], name="custody_facility")]
        ordering = ["-admitted_on"]

    def __str__(self) -> str:
        return f"{self.facility} from {self.admitted_on}"


class SupervisionKind(models.TextChoices):
    PROBATION = "probation", "Probation (CSSD)"
    PAROLE = "parole", "Parole (BOPP)"
    SPECIAL_PAROLE = "special_parole", "Special parole (BOPP)"


class SupervisionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    REVOKED = "revoked", "Revoked"
    ABSCONDED = "absconded", "Absconded"


class Supervision(SourceRecord):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="supervisions")
    kind = models.CharField(max_length=20, choices=SupervisionKind.choices)
    officer_name = models.CharField(max_length=100, blank=True)
    office = models.CharField(max_length=100, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=SupervisionStatus.choices, default=SupervisionStatus.ACTIVE
    )
    conditions = models.TextField(blank=True)
    violations = models.JSONField(
        default=list, blank=True, help_text='[{"date", "description", "outcome"}]'
    )

    class Meta:
        constraints = [SourceRecord.provenance_constraint("supervision_source")]
        indexes = [models.Index(fields=["kind", "status"], name="supervision_status")]
        ordering = ["-start_date"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.start_date}"


class OrderStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    VACATED = "vacated", "Vacated"


class ProtectiveOrder(SourceRecord):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="protective_orders")
    kind = models.CharField(max_length=40, help_text="protective, restraining, standing criminal")
    order_number = models.CharField(max_length=40, blank=True)
    issuing_court = models.CharField(max_length=60, blank=True)
    protected_party = models.CharField(max_length=120, blank=True)
    conditions = models.TextField(blank=True)
    issued_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=OrderStatus.choices, default=OrderStatus.ACTIVE
    )

    class Meta:
        constraints = [SourceRecord.provenance_constraint("order_source")]
        indexes = [models.Index(fields=["status", "expires_on"], name="order_status")]
        ordering = ["-issued_on"]

    def __str__(self) -> str:
        return f"{self.kind} order of {self.issued_on}"


class WarrantStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SERVED = "served", "Served"
    VACATED = "vacated", "Vacated"


class Warrant(SourceRecord):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="warrants")
    kind = models.CharField(max_length=40, help_text="e.g. paperless re-arrest, arrest, bench")
    warrant_number = models.CharField(max_length=40, blank=True)
    issued_on = models.DateField()
    court = models.CharField(max_length=60, blank=True)
    offense = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=WarrantStatus.choices, default=WarrantStatus.ACTIVE
    )
    served_on = models.DateField(null=True, blank=True)
    vacated_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [SourceRecord.provenance_constraint("warrant_source")]
        indexes = [models.Index(fields=["status"], name="warrant_status")]
        ordering = ["-issued_on"]

    def __str__(self) -> str:
        return f"{self.kind} warrant of {self.issued_on}"


class ComplianceStatus(models.TextChoices):
    COMPLIANT = "compliant", "Compliant"
    NON_COMPLIANT = "non_compliant", "Non-compliant"
    ABSCONDED = "absconded", "Absconded"
    INACTIVE = "inactive", "No longer required to register"


class Registration(SourceRecord):
    """A sex offender registration (Sex Offender Registry)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="registrations")
    registered_on = models.DateField()
    term = models.CharField(max_length=20, help_text="e.g. 10 years, life")
    term_ends_on = models.DateField(null=True, blank=True)
    compliance_status = models.CharField(
        max_length=15, choices=ComplianceStatus.choices, default=ComplianceStatus.COMPLIANT
    )

    class Meta:
        constraints = [SourceRecord.provenance_constraint("registration_source")]
        ordering = ["-registered_on"]

    def __str__(self) -> str:
        return f"Registration of {self.registered_on}"


class Infraction(SourceRecord):
    """A ticket from the Central Infractions Bureau."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="infractions")
    ticket_number = models.CharField(max_length=30)
    offense_date = models.DateField()
    statute = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=20, blank=True, help_text="e.g. open, paid, pleaded")

    class Meta:
        constraints = [SourceRecord.provenance_constraint("infraction_source")]
        ordering = ["-offense_date"]

    def __str__(self) -> str:
        return f"Ticket {self.ticket_number}"
