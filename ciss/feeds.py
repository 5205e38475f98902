"""The feed kinds CISS adds to ``POST /api/v1/feeds/{kind}/`` (``obts.services.feeds``
registry): ``vehicles`` from the motor vehicle department."""

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from ciss.models import Vehicle
from ciss.plates import normalize_plate, normalize_vin, plate_key, vin_problem
from obts.services.feeds import FeedKind, IntakeContext, register_feed_kind
from obts.services.fields import OptionalTextField, PersonRefField, TextField
from obts.services.record_schemas import PROVENANCE, SourceRecordSerializer

FIRST_MODEL_YEAR = 1886


class VehicleFeedSerializer(SourceRecordSerializer):
    """One registered vehicle. The plate and VIN may come with spaces or dashes and in any
    case; they are stored in capitals without them."""

    person = PersonRefField(
        required=False,
        allow_null=True,
        help_text='The registered owner, when in the master name index: {"id": ...}, '
        '{"sid": ...} or {"fbi_number": ...}. Leave out for an owner who is not (a '
        "company); give owner_name.",
    )

    # Longer than stored: separators are dropped before the stored length applies.
    plate = TextField(max_length=30, help_text="As on the plate; spaces and dashes ignored.")
    plate_state = TextField(max_length=40, help_text="Two-letter state or province code.")
    vin = OptionalTextField(max_length=40, help_text="17 characters; spaces ignored.")

    class Meta:
        model = Vehicle
        fields = [
            *PROVENANCE,
            "person",
            "owner_name",
            "plate",
            "plate_state",
            "plate_type",
            "vin",
            "year",
            "make",
            "model",
            "style",
            "color",
            "registration_status",
            "registration_expires",
            "stolen",
        ]
        validators: list[Any] = []

    def validate_plate(self, value: str) -> str:
        try:
            return normalize_plate(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error

    def validate_plate_state(self, value: str) -> str:
        state = value.strip().upper()
        if len(state) != 2 or not state.isalpha():
            raise serializers.ValidationError(
                "Give the issuing state or province as its two-letter code (CT, NY, QC)."
            )
        return state

    def validate_vin(self, value: str) -> str:
        vin = normalize_vin(value)
        if vin and (problem := vin_problem(vin)):
            raise serializers.ValidationError(problem)
        return vin

    def validate_year(self, value: int | None) -> int | None:
        latest = timezone.localdate().year + 1
        if value is not None and not FIRST_MODEL_YEAR <= value <= latest:
            raise serializers.ValidationError(
                f"A model year is between {FIRST_MODEL_YEAR} and {latest}."
            )
        return value


class VehicleKind(FeedKind):
    name = "vehicles"
    model = Vehicle
    serializer_class = VehicleFeedSerializer
    summary = (
        "Registered vehicles (motor vehicle department): plate, VIN, description, "
        "registration status and expiry, registered owner."
    )

    def values(self, data: dict[str, Any], context: IntakeContext) -> dict[str, Any]:
        values = super().values(data, context)
        values.setdefault("person_id", None)  # an owner no longer named is no longer linked
        values["plate_key"] = plate_key(values["plate"])
        return values

    def persons_of(self, instance: Any) -> set[int]:
        return set()  # a vehicle changes no one's status or flags


def register_ciss_feed_kinds() -> None:
    """Register the CISS feed kinds, and the CISS rows that belong to a person so that a
    merge of two persons (``obts.merging``) moves them with the rest (and its undo moves
    them back). Called from ``CissConfig.ready()``."""
    # Imported here, not at the top: the module's imports are shared with other work, and
    # this function is the one place that wires the kinds up.
    from ciss.incident_feeds import INCIDENT_FEED_KINDS
    from ciss.models import IncidentPerson, PropertyItem
    from obts.merging import register_person_records

    register_feed_kind(VehicleKind())
    for kind in INCIDENT_FEED_KINDS:
        register_feed_kind(kind)
    register_person_records("vehicles", Vehicle)
    register_person_records("incident_roles", IncidentPerson)
    register_person_records("property_items", PropertyItem)
