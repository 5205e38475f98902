"""The shape of one person record of the master name index feed
(``POST /api/v1/persons/``, ``import_persons``), CONTRACT §3."""

from datetime import date
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from obts.models import Sex
from obts.services.fields import EnumChoiceField, OptionalTextField, TextField
from obts.services.record_schemas import validate_as_of

EARLIEST_DOB = date(1900, 1, 1)
MAX_ALIASES = 50
MAX_ADDRESSES = 50


def validate_dob(value: date) -> None:
    if value > timezone.localdate():
        raise serializers.ValidationError("The date of birth is in the future.")
    if value < EARLIEST_DOB:
        raise serializers.ValidationError(f"The date of birth is before {EARLIEST_DOB}.")


def _dob_field() -> serializers.DateField:
    return serializers.DateField(
        required=False, allow_null=True, default=None, validators=[validate_dob]
    )


class AliasInputSerializer(serializers.Serializer[Any]):
    first_name = OptionalTextField(max_length=60)
    middle_name = OptionalTextField(max_length=60)
    last_name = TextField(max_length=80)
    suffix = OptionalTextField(max_length=10)
    dob = _dob_field()


class AddressInputSerializer(serializers.Serializer[Any]):
    line1 = TextField(max_length=120)
    line2 = OptionalTextField(max_length=120)
    city = OptionalTextField(max_length=60)
    state = OptionalTextField(max_length=2)
    postal_code = OptionalTextField(max_length=10)
    from_date = serializers.DateField(required=False, allow_null=True, default=None)
    to_date = serializers.DateField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["from_date"] and attrs["to_date"] and attrs["to_date"] < attrs["from_date"]:
            raise serializers.ValidationError({"to_date": ["to_date may not be before from_date."]})
        return {**attrs, "state": attrs["state"].upper()}


class PersonInputSerializer(serializers.Serializer[Any]):
    """One source system's record of a person. Only ``source_system``, ``source_id`` and
    ``last_name`` are required."""

    source_system = TextField(max_length=40)
    source_id = TextField(max_length=80)
    as_of = serializers.DateTimeField(
        required=False,
        validators=[validate_as_of],
        help_text="When the source system knew the person this way (default: when "
        "received). An update older than the stored one is not applied.",
    )
    first_name = OptionalTextField(max_length=60)
    middle_name = OptionalTextField(max_length=60)
    last_name = TextField(max_length=80)
    suffix = OptionalTextField(max_length=10)
    dob = _dob_field()
    sex = EnumChoiceField(
        choices=Sex.choices, required=False, allow_blank=True, allow_null=True, default=""
    )
    race = OptionalTextField(max_length=2)
    height_in = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=12, max_value=108
    )
    weight_lb = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=1500
    )
    eye_color = OptionalTextField(max_length=3)
    hair_color = OptionalTextField(max_length=3)
    scars_marks_tattoos = OptionalTextField(max_length=2000)
    caution = OptionalTextField(max_length=2000)
    sid = OptionalTextField(max_length=40)
    fbi_number = OptionalTextField(max_length=40)
    dl_number = OptionalTextField(max_length=40)
    dl_state = OptionalTextField(max_length=2)
    doc_number = OptionalTextField(max_length=40)
    probation_number = OptionalTextField(max_length=40)
    parole_number = OptionalTextField(max_length=40)
    # max_length goes to the ListSerializer; the stubs do not know it.
    aliases = AliasInputSerializer(  # type: ignore[call-arg]
        many=True, required=False, default=list, max_length=MAX_ALIASES
    )
    addresses = AddressInputSerializer(  # type: ignore[call-arg]
        many=True, required=False, default=list, max_length=MAX_ADDRESSES
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["sex"] = attrs.get("sex") or ""
        for code in ("race", "eye_color", "hair_color", "dl_state"):
            attrs[code] = attrs[code].upper()
        return attrs
