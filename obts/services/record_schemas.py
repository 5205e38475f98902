"""The shape of one record of each OBTS feed kind: validation of what a source system
sends, and the stored record as the API answers it. Field names are the model's."""

from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from obts.models import (
    Case,
    Charge,
    CustodyPeriod,
    Infraction,
    ProtectiveOrder,
    Registration,
    Sentence,
    SentenceRelation,
    Supervision,
    Warrant,
)
from obts.services.fields import (
    IntakeModelSerializer,
    OptionalTextField,
    PersonRefField,
    SourceRefField,
    TextField,
)

# An as-of time further ahead than this is a clock or time-zone error at the source; taken
# as it is, it would make every later (correct) update of the record look stale.
AS_OF_MAX_AHEAD = timedelta(days=1)

PROVENANCE = ["id", "source_system", "source_id", "as_of", "received_at"]
# No term of a sentence is longer than this; anything longer is a unit error (hours,
# or a date typed into a number).
MAX_TERM_DAYS = 200 * 366


def validate_as_of(value: Any) -> Any:
    if value is not None and value > timezone.now() + AS_OF_MAX_AHEAD:
        raise serializers.ValidationError(
            "as_of is more than a day in the future: check the sending system's clock "
            "and time zone."
        )
    return value


class SourceRecordSerializer(IntakeModelSerializer):
    """Provenance every record carries, and the order its dates must keep."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    source_system = TextField(max_length=40)
    source_id = TextField(max_length=80)
    as_of = serializers.DateTimeField(
        required=False,
        validators=[validate_as_of],
        help_text="When the source system knew the record this way (default: when received). "
        "An update older than the stored record is not applied.",
    )
    received_at = serializers.DateTimeField(read_only=True)

    # (earlier, later) date fields: the later may not come before the earlier.
    date_order: tuple[tuple[str, str], ...] = ()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        for earlier, later in self.date_order:
            first: date | None = attrs.get(earlier)
            second: date | None = attrs.get(later)
            if first is not None and second is not None and second < first:
                errors.setdefault(later, []).append(f"{later} may not be before {earlier}.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PersonRecordSerializer(SourceRecordSerializer):
    person = PersonRefField(
        help_text='The person: {"id": ...}, {"sid": ...} or {"fbi_number": ...}.'
    )


# Court --------------------------------------------------------------------------------

CHARGE_FIELDS = [
    "sequence",
    "statute",
    "description",
    "charge_class",
    "counts",
    "plea",
    "disposition",
    "disposition_date",
]


class ChargeFeedSerializer(IntakeModelSerializer):
    class Meta:
        model = Charge
        fields = CHARGE_FIELDS
        extra_kwargs = {"sequence": {"required": False, "min_value": 1}}


class CaseFeedSerializer(PersonRecordSerializer):
    # max_length goes to the ListSerializer; the stubs do not know it.
    charges = ChargeFeedSerializer(  # type: ignore[call-arg]
        many=True,
        required=False,
        max_length=200,
        help_text="The case's charges; they replace the charges stored for the case.",
    )

    class Meta:
        model = Case
        fields = [
            *PROVENANCE,
            "person",
            "docket_number",
            "incident_number",
            "court_code",
            "arresting_agency_ori",
            "arrest_date",
            "arraignment_date",
            "next_court_date",
            "status",
            "bail_amount",
            "release_conditions",
            "is_juvenile",
            "is_sealed",
            "charges",
        ]
        validators: list[Any] = []

    date_order = (("arrest_date", "arraignment_date"),)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not attrs.get("docket_number") and not attrs.get("incident_number"):
            raise serializers.ValidationError(
                {
                    "docket_number": [
                        "Give the docket number, or the incident number until the "
                        "court assigns a docket."
                    ]
                }
            )
        return attrs


class SentenceFeedSerializer(PersonRecordSerializer):
    case = SourceRefField(help_text="The case the sentence was imposed on.")
    consecutive_to = SourceRefField(
        help_text="The sentence this one is consecutive to (relation consecutive)."
    )

    class Meta:
        model = Sentence
        fields = [
            *PROVENANCE,
            "person",
            "case",
            "imposed_on",
            "incarceration_days",
            "suspended_days",
            "probation_days",
            "conditional_discharge_days",
            "fine_amount",
            "relation",
            "consecutive_to",
            "jail_credit_days",
            "starts_on",
            "max_release_on",
            "supervision_ends_on",
            "calculation",
        ]
        read_only_fields = ["starts_on", "max_release_on", "supervision_ends_on", "calculation"]
        extra_kwargs = {
            name: {"max_value": MAX_TERM_DAYS}
            for name in (
                "incarceration_days",
                "suspended_days",
                "probation_days",
                "conditional_discharge_days",
                "jail_credit_days",
            )
        }
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        errors: dict[str, list[str]] = {}
        if attrs.get("suspended_days", 0) > attrs.get("incarceration_days", 0):
            errors["suspended_days"] = ["The suspended part may not exceed the incarceration."]
        relation = attrs.get("relation")
        if attrs.get("consecutive_to") is not None:
            if relation == SentenceRelation.CONCURRENT:
                errors["relation"] = ["A sentence consecutive to another is not concurrent."]
            attrs["relation"] = SentenceRelation.CONSECUTIVE
        elif relation == SentenceRelation.CONSECUTIVE:
            errors["consecutive_to"] = ["Name the sentence this one is consecutive to."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


# Corrections and supervision ----------------------------------------------------------


class CustodyFeedSerializer(PersonRecordSerializer):
    class Meta:
        model = CustodyPeriod
        fields = [
            *PROVENANCE,
            "person",
            "facility",
            "inmate_number",
            "admission_type",
            "custody_status",
            "admitted_on",
            "released_on",
            "release_type",
        ]
        validators: list[Any] = []

    date_order = (("admitted_on", "released_on"),)


class ViolationFeedSerializer(serializers.Serializer[Any]):
    date = serializers.DateField(required=False, allow_null=True, default=None)
    description = OptionalTextField(max_length=500)
    outcome = OptionalTextField(max_length=200)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Stored as JSON: dates as ISO text.
        violation_date = attrs.get("date")
        return {**attrs, "date": violation_date.isoformat() if violation_date else None}


class SupervisionFeedSerializer(PersonRecordSerializer):
    violations = ViolationFeedSerializer(  # type: ignore[call-arg]
        many=True, required=False, max_length=200
    )

    class Meta:
        model = Supervision
        fields = [
            *PROVENANCE,
            "person",
            "kind",
            "officer_name",
            "office",
            "start_date",
            "end_date",
            "status",
            "conditions",
            "violations",
        ]
        validators: list[Any] = []

    date_order = (("start_date", "end_date"),)


# Orders, warrants, registry, infractions -----------------------------------------------


class ProtectiveOrderFeedSerializer(PersonRecordSerializer):
    class Meta:
        model = ProtectiveOrder
        fields = [
            *PROVENANCE,
            "person",
            "kind",
            "order_number",
            "issuing_court",
            "protected_party",
            "conditions",
            "issued_on",
            "expires_on",
            "status",
        ]
        validators: list[Any] = []

    date_order = (("issued_on", "expires_on"),)


class WarrantFeedSerializer(PersonRecordSerializer):
    class Meta:
        model = Warrant
        fields = [
            *PROVENANCE,
            "person",
            "kind",
            "warrant_number",
            "issued_on",
            "court",
            "offense",
            "status",
            "served_on",
            "vacated_on",
        ]
        validators: list[Any] = []

    date_order = (("issued_on", "served_on"), ("issued_on", "vacated_on"))


class RegistrationFeedSerializer(PersonRecordSerializer):
    class Meta:
        model = Registration
        fields = [
            *PROVENANCE,
            "person",
            "registered_on",
            "term",
            "term_ends_on",
            "compliance_status",
        ]
        validators: list[Any] = []

    date_order = (("registered_on", "term_ends_on"),)


class InfractionFeedSerializer(PersonRecordSerializer):
    class Meta:
        model = Infraction
        fields = [
            *PROVENANCE,
            "person",
            "ticket_number",
            "offense_date",
            "statute",
            "description",
            "amount",
            "status",
        ]
        validators: list[Any] = []
