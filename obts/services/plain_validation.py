"""Batch records checked against a serializer's fields without DRF's per-field machinery,
when they are plainly valid.

``Serializer.run_validation`` costs a third of a millisecond for a person record with
an alias and an address, a tenth of what intake spends on a record: most of it is the
generic work around each of some thirty fields (looking the value up, empty-value rules,
running three validators through a loop that collects errors, setting the result), not
the checks themselves. :class:`PlainValidator` reads a serializer's declared fields once
and checks a record against them directly: text given as text is trimmed and checked in
line, nested lists of objects are checked item by item the same way, and every other
field goes through its own ``run_validation``.

It never words an error. Whatever it is not sure of — a value of another type, a blank
where text is required, text too long or not valid, a field it does not know — makes it
decline (``None``), and the caller runs the serializer, which accepts the record or says
what is wrong with it. A record it accepts gives exactly what the serializer gives (tests
compare the two over thousands of generated records, bad ones among them). A serializer
it cannot read this way (field-level ``validate_<name>`` methods, serializer validators,
a field with a ``source`` of its own) gets no plain path: ``for_serializer`` is None.
"""

import threading
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.fields import SkipField, empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from obts.services.fields import ModelTextField, OptionalTextField, TextField, is_text
from obts.services.intake import record_validator

_DECLINE = object()
_OMIT = object()
# The validators DRF's CharField gives itself; text with others goes the long way.
_TEXT_VALIDATORS = (
    MaxLengthValidator,
    ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
)

# Text fields whose conversion is DRF's CharField's (the project's add a check that the
# text is valid Unicode, which the surrogate validator makes too).
_TEXT_FIELDS = (serializers.CharField, TextField, OptionalTextField, ModelTextField)

Check = Callable[[Any], Any]  # value (or ``empty``) -> the validated value, _DECLINE or _OMIT


class PlainValidator:
    """The validated data of a plainly valid record, as ``serializer.run_validation``
    gives it, or None (see the module docstring)."""

    def __init__(self, serializer: serializers.Serializer[Any], checks: list[tuple[str, Check]]):
        self.serializer, self.checks = serializer, checks

    @classmethod
    def for_serializer(cls, serializer: serializers.Serializer[Any]) -> "PlainValidator | None":
        if serializer.validators:
            return None
        checks: list[tuple[str, Check]] = []
        for name, field in serializer.fields.items():
            if field.read_only:
                continue
            if field.source != name or hasattr(serializer, f"validate_{name}"):
                return None
            check = _check(field)
            if check is None:
                return None
            checks.append((name, check))
        return cls(serializer, checks)

    def __call__(self, data: Any) -> dict[str, Any] | None:
        if type(data) is not dict:
            return None
        validated: dict[str, Any] = {}
        for name, check in self.checks:
            value = check(data.get(name, empty))
            if value is _DECLINE:
                return None
            if value is not _OMIT:
                validated[name] = value
        try:
            result = self.serializer.validate(validated)
        except (serializers.ValidationError, DjangoValidationError):
            return None
        return dict(result)


_PLAIN = threading.local()


def plain_validator(
    serializer_class: type[serializers.Serializer[Any]],
) -> PlainValidator | None:
    """The plain path of ``serializer_class`` (None if it has none), built once per
    thread around the thread's :func:`~obts.services.intake.record_validator`."""
    built: dict[type[Any], PlainValidator | None] = _PLAIN.__dict__.setdefault("built", {})
    if serializer_class not in built:
        built[serializer_class] = PlainValidator.for_serializer(record_validator(serializer_class))
    return built[serializer_class]


def _check(field: serializers.Field[Any, Any, Any, Any]) -> Check | None:
    if isinstance(field, serializers.ListSerializer):
        return _list_check(field)
    if isinstance(field, serializers.Serializer):
        return None  # a nested object on its own: not needed yet
    if type(field) in _TEXT_FIELDS and _plain_text(field):
        return _text_check(field)
    return _field_check(field)


def _plain_text(field: Any) -> bool:
    """Whether the field's only checks are those :func:`_text_check` makes: its own
    length limit, no NUL, no lone surrogate."""
    return bool(
        field.trim_whitespace
        and field.min_length is None
        and all(
            type(validator) in _TEXT_VALIDATORS
            and (
                not isinstance(validator, MaxLengthValidator)
                or validator.limit_value == field.max_length
            )
            for validator in field.validators
        )
    )


def _absent(field: Any) -> Callable[[], Any]:
    """What an absent value gives (``Field.get_default`` without its per-call lookups)."""
    default = field.default
    if field.required:
        return lambda: _DECLINE
    if default is empty:
        return lambda: _OMIT
    if callable(default):
        if getattr(default, "requires_context", False):
            return lambda: default(field)
        return default  # type: ignore[no-any-return]
    return lambda: default


def _field_check(field: Any) -> Check:
    """Any field through its own ``run_validation``: the field's exact answer, minus the
    serializer's work around it."""

    absent = _absent(field)

    def check(value: Any) -> Any:
        if value is empty:
            return absent()
        try:
            return field.run_validation(value)
        except SkipField:
            return _OMIT
        except (serializers.ValidationError, DjangoValidationError):
            return _DECLINE

    return check


def _text_check(field: Any) -> Check:
    """DRF's CharField for text given as text: trimmed, then not blank unless allowed,
    not longer than ``max_length``, no NUL, no lone surrogate. Anything else (absent
    aside) goes through the field itself."""
    max_length = field.max_length
    allow_blank = field.allow_blank
    long_way = _field_check(field)

    def check(value: Any) -> Any:
        if type(value) is not str:
            return long_way(value)
        text = value.strip()
        if not text:
            return "" if allow_blank else _DECLINE
        if max_length is not None and len(text) > max_length:
            return _DECLINE
        if "\x00" in text or not (text.isascii() or is_text(text)):
            return _DECLINE
        return text

    return check


def _list_check(field: serializers.ListSerializer[Any]) -> Check | None:
    child = field.child
    if (
        type(field) is not serializers.ListSerializer
        or field.validators
        or not isinstance(child, serializers.Serializer)
    ):
        return None
    item = PlainValidator.for_serializer(child)
    if item is None:
        return None
    # The stubs do not know the list's bounds.
    low: int | None = getattr(field, "min_length", None)
    high: int | None = getattr(field, "max_length", None)
    allow_empty = field.allow_empty
    long_way = _field_check(field)

    def check(value: Any) -> Any:
        if type(value) is not list:
            return long_way(value)
        if (not value and not allow_empty) or (high is not None and len(value) > high):
            return _DECLINE
        if low is not None and len(value) < low:
            return _DECLINE
        items = []
        for entry in value:
            validated = item(entry)
            if validated is None:
                return _DECLINE
            items.append(validated)
        return items

    return check
