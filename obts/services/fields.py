"""Serializer fields the intake schemas share: lenient optional text, enums that list
their allowed values, and references to a person or to another record."""

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from obts.services.intake import normalize_identifier

PersonRefKind = Literal["id", "sid", "fbi"]
PERSON_REF_KEYS: dict[str, PersonRefKind] = {"id": "id", "sid": "sid", "fbi_number": "fbi"}
_REF_LABELS: dict[PersonRefKind, str] = {"id": "id", "sid": "SID", "fbi": "FBI number"}


class TextField(serializers.CharField):
    """Text that the database can store: refuses lone surrogates (valid JSON escapes, but
    not Unicode text) as well as the NUL character DRF already refuses."""

    default_error_messages = {"not_text": "This field holds characters that are not valid text."}

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("not_text")
        return value


class OptionalTextField(TextField):
    """Optional text: absent, ``null`` and ``""`` all store as empty text."""

    # Declared fields are optional unless said otherwise; ModelSerializer says so for the
    # model fields that may be blank (and leaves out ``required`` for the others).
    optional_unless_required = True

    def __init__(self, **kwargs: Any) -> None:
        if not kwargs.get("required", not self.optional_unless_required):
            kwargs["required"] = False
            kwargs.setdefault("allow_blank", True)
            kwargs.setdefault("default", "")
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None and not self.required:
            return (True, "")
        return super().validate_empty_values(data)


class EnumChoiceField(serializers.ChoiceField):
    """A choice whose error names the allowed values; case-insensitive on input."""

    default_error_messages = {
        "invalid_choice": '"{input}" is not an allowed value. Allowed values: {allowed}.'
    }

    def to_internal_value(self, data: Any) -> Any:
        if data == "" and self.allow_blank:
            return ""
        text = str(data)
        if text in self.choice_strings_to_values:
            return self.choice_strings_to_values[text]
        folded = {key.casefold(): value for key, value in self.choice_strings_to_values.items()}
        if text.casefold() not in folded:
            allowed = ", ".join(key for key in self.choice_strings_to_values if key != "")
            self.fail("invalid_choice", input=text[:80], allowed=allowed)
        return folded[text.casefold()]


@dataclass(frozen=True)
class PersonRef:
    """How a record names its person: by the portal's id, SID or FBI number."""

    kind: PersonRefKind
    value: str

    def describe(self) -> str:
        return f"{_REF_LABELS[self.kind]} {self.value!r}"


@extend_schema_field(
    {
        "type": "object",
        "description": 'The person: exactly one of {"id": uuid}, {"sid": ...} or '
        '{"fbi_number": ...}.',
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "sid": {"type": "string"},
            "fbi_number": {"type": "string"},
        },
    }
)
class PersonRefField(serializers.Field):  # type: ignore[type-arg]
    """Input: ``{"id": uuid}``, ``{"sid": ...}`` or ``{"fbi_number": ...}``; output: the
    person's ``{"id": uuid}``."""

    default_error_messages = {
        # Braces doubled: DRF formats error messages.
        "invalid": 'Name the person with exactly one of {{"id": ...}}, {{"sid": ...}} or '
        '{{"fbi_number": ...}}.',
        "bad_id": "The person id must be a UUID.",
    }

    def to_internal_value(self, data: Any) -> PersonRef:
        if not isinstance(data, dict):
            self.fail("invalid")
        given = {key: value for key, value in data.items() if value not in (None, "")}
        if len(given) != 1 or next(iter(given)) not in PERSON_REF_KEYS:
            self.fail("invalid")
        key, value = next(iter(given.items()))
        kind = PERSON_REF_KEYS[key]
        if kind == "id":
            try:
                return PersonRef("id", str(UUID(str(value))))
            except ValueError:
                self.fail("bad_id")
        if not isinstance(value, str | int) or len(str(value)) > 40:
            self.fail("invalid")
        identifier = normalize_identifier(str(value))
        if not identifier:
            self.fail("invalid")
        return PersonRef(kind, identifier)

    def to_representation(self, value: Any) -> dict[str, str]:
        return {"id": str(value.public_id)}


@dataclass(frozen=True)
class SourceRef:
    """Another record of a feed, by its source system's id (the referring record's own
    source system unless given)."""

    source_id: str
    source_system: str = ""


@extend_schema_field(
    {
        "type": "object",
        "description": "Another record by its source id (and source system, when it is not "
        "the referring record's own).",
        "properties": {"source_system": {"type": "string"}, "source_id": {"type": "string"}},
        "required": ["source_id"],
    }
)
class SourceRefField(serializers.Field):  # type: ignore[type-arg]
    default_error_messages = {
        "invalid": 'Give the record as {{"source_id": ...}} (and "source_system" when it '
        "is another system's)."
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> SourceRef:
        if not isinstance(data, dict):
            self.fail("invalid")
        source_id, source_system = data.get("source_id"), data.get("source_system") or ""
        if not isinstance(source_id, str) or not source_id.strip() or len(source_id) > 80:
            self.fail("invalid")
        if not isinstance(source_system, str) or len(source_system) > 40:
            self.fail("invalid")
        if not is_text(source_id) or not is_text(source_system):
            self.fail("invalid")
        return SourceRef(source_id.strip(), source_system.strip())

    def to_representation(self, value: Any) -> dict[str, str]:
        return {
            "id": str(value.public_id),
            "source_system": value.source_system,
            "source_id": value.source_id,
        }


class ModelTextField(OptionalTextField):
    optional_unless_required = False


def is_text(value: str) -> bool:
    """Whether ``value`` is valid Unicode text (no lone surrogates), as the database
    stores it."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class IntakeModelSerializer(serializers.ModelSerializer[Any]):
    """ModelSerializer with the intake conventions: lenient optional text, enums that
    list their values, integers bounded as PostgreSQL bounds them (whatever the database),
    and no uniqueness validators (records are upserted, not created)."""

    serializer_choice_field = EnumChoiceField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: ModelTextField,
        models.TextField: ModelTextField,
    }

    def build_standard_field(
        self, field_name: str, model_field: models.Field[Any, Any]
    ) -> tuple[type[serializers.Field[Any, Any, Any, Any]], dict[str, Any]]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        bounds = BaseDatabaseOperations.integer_field_ranges.get(model_field.get_internal_type())
        if bounds is not None and "choices" not in kwargs:
            low, high = bounds
            kwargs["min_value"] = max(kwargs.get("min_value", low), low)
            kwargs["max_value"] = min(kwargs.get("max_value", high), high)
        return field_class, kwargs


__all__ = [
    "EnumChoiceField",
    "IntakeModelSerializer",
    "OptionalTextField",
    "PersonRef",
    "PersonRefField",
    "SourceRef",
    "SourceRefField",
    "TextField",
    "is_text",
]
