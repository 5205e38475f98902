"""Serializing large answers without DRF's per-object machinery.

A DRF serializer documents an answer (drf-spectacular reads it for the OpenAPI schema)
and turns objects into it. For a record of hundreds of rows the turning is most of the
request: for every object DRF walks its bound fields, resolves each source through
``get_attribute`` and checks for None field by field. :func:`plain` reads a serializer
class once and answers a function that does the same with the fields' own
``to_representation``, so the output is DRF's, the cost a fraction. Tests compare the two
for every serializer passed through it.

Supported: plain fields with ``source`` paths (dotted, through callables such as
``charges.all``), nested serializers, ``many=True``, ``ListField`` and
``SerializerMethodField`` (whose methods may not use ``self.context``). A serializer that
overrides ``to_representation`` is refused.
"""

import types
from collections.abc import Callable
from typing import Any

from rest_framework import serializers
from rest_framework.fields import Field, SerializerMethodField, SkipField

Plain = Callable[[Any], Any]


class NotSupported(TypeError):
    """The serializer does something :func:`plain` does not reproduce."""


# What is called on the way, as DRF does: functions and methods (a related manager is
# callable too, but is not called).
_CALLED = (types.MethodType, types.FunctionType)


def _get(instance: Any, attrs: list[str]) -> Any:
    """DRF's ``get_attribute`` for the objects the API serializes: attributes or dict keys
    along the path, calling methods on the way (``charges.all``, a model method). DRF
    decides the same by inspecting signatures, which costs more than the rest."""
    for attr in attrs:
        instance = instance[attr] if type(instance) is dict else getattr(instance, attr)
        if isinstance(instance, _CALLED):
            instance = instance()
    return instance


def _serializer_class(field: object) -> type[serializers.Serializer[Any]]:
    if not isinstance(field, serializers.Serializer):
        raise NotSupported(f"{type(field).__name__} is not a Serializer")
    return type(field)


def _leaf(field: Field[Any, Any, Any, Any]) -> Plain:
    if isinstance(field, serializers.ListSerializer):
        child = _compiled(_serializer_class(field.child))
        return lambda value: [child(item) for item in value]
    if isinstance(field, serializers.Serializer):
        return _compiled(type(field))
    if isinstance(field, serializers.ListField):
        child_field = field.child
        child = _leaf(child_field) if child_field is not None else (lambda item: item)
        return lambda value: [child(item) for item in value]
    return field.to_representation


_COMPILED: dict[type, Plain] = {}


def _compiled(serializer_class: type[serializers.Serializer[Any]]) -> Plain:
    known = _COMPILED.get(serializer_class)
    if known is not None:
        return known
    if serializer_class.to_representation is not serializers.Serializer.to_representation:
        raise NotSupported(f"{serializer_class.__name__} overrides to_representation")
    serializer = serializer_class()
    steps: list[tuple[str, Callable[[Any], Any]]] = []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        if isinstance(field, SerializerMethodField):
            method = getattr(serializer, field.method_name)
            steps.append((name, method))
            continue
        attrs = list(field.source_attrs)
        convert = _leaf(field)

        def step(
            instance: Any,
            attrs: list[str] = attrs,
            convert: Plain = convert,
            field: Field[Any, Any, Any, Any] = field,
        ) -> Any:
            try:
                value = _get(instance, attrs)
            except (KeyError, AttributeError):
                # DRF's own rules for a missing attribute: a default, None, or skip.
                value = field.get_attribute(instance)
            return None if value is None else convert(value)

        steps.append((name, step))

    def to_plain(instance: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        for name, step in steps:
            try:
                answer[name] = step(instance)
            except SkipField:
                continue
        return answer

    _COMPILED[serializer_class] = to_plain
    return to_plain


def plain(serializer_class: type[serializers.Serializer[Any]]) -> Plain:
    """A function giving what ``serializer_class(instance).data`` gives, as plain Python
    values; built once per class."""
    return _compiled(serializer_class)
