"""Rows of several models read in one statement on PostgreSQL.

A person's record is a dozen kinds of row. One ORM query per kind costs a dozen round
trips and a dozen compiled queries, which were most of a first view of a heavy record
and a fifth of an arrest notice's status refresh. Here every kind is one branch of a
``UNION ALL`` returning each row as JSON, in its model's own order, and the rows become
model instances with the values the ORM would have given. The statement is prepared once
per database session (:mod:`portal.pg`): planning a dozen branches took longer than
running them for a person with a few records.
"""

import functools
import hashlib
import inspect
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

from portal import pg


@dataclass(frozen=True)
class Part:
    """One kind of row: the rows of ``model`` (aliased ``r``) matching ``where``, whose
    ``%s`` parameters, each of PostgreSQL type ``param_type``, are given in order when
    the parts are read (a list for an array type)."""

    model: type[models.Model]
    where: str
    param_type: str = "bigint"


def read(parts: tuple[Part, ...], params: Sequence[Any]) -> list[list[Any]]:
    """Each part's rows as instances of its model, in the model's ``Meta.ordering`` (then
    by id). ``parts`` must be built from models and fixed SQL, never from input: the
    statement is compiled once per distinct ``parts``."""
    found: list[list[Any]] = [[] for _ in parts]
    builders = [_builder(part.model) for part in parts]
    name, types, sql = _statement(parts)
    values = [pg.bigint_array(value) if isinstance(value, list) else value for value in params]
    with connection.cursor() as cursor:
        pg.execute_prepared(cursor, name, types, sql, values)
        for kind, _, row in cursor.fetchall():
            found[kind].append(builders[kind](_DECODER.decode(row)))
    return found


# One decoder for every row: ``json.loads`` with an option builds a new one per call.
_DECODER = json.JSONDecoder(parse_float=Decimal)


def table(model: type[models.Model]) -> str:
    """The quoted table of ``model``, for a part's ``where``."""
    return str(connection.ops.quote_name(model._meta.db_table))


@functools.cache
def _statement(parts: tuple[Part, ...]) -> tuple[str, list[str], str]:
    """The prepared statement's name, parameter types and text (``$1``... for the
    parts' ``%s``, in order)."""
    pieces = _sql(parts).split("%s")
    types = [part.param_type for part in parts for _ in range(part.where.count("%s"))]
    text = pieces[0] + "".join(f"${n}{piece}" for n, piece in enumerate(pieces[1:], start=1))
    name = "rows_once_" + hashlib.sha256(text.encode()).hexdigest()[:16]
    return name, types, text


@functools.cache
def _sql(parts: tuple[Part, ...]) -> str:
    quote = connection.ops.quote_name
    branches = []
    for kind, part in enumerate(parts):
        columns = {field.name: str(field.column) for field in part.model._meta.concrete_fields}
        order = [
            f"r.{quote(columns[name.lstrip('-')])}" + (" DESC" if name.startswith("-") else "")
            for name in part.model._meta.ordering or []
            if isinstance(name, str)
        ]
        # Ties keep one order from one read to the next.
        order.append("r.id")
        # Each row as a JSON array of its columns in the model's field order: a third
        # faster to parse than an object repeating every column's name, and read by
        # position. (A function takes at most 100 arguments; the widest model has 21.)
        values = ", ".join(f"r.{quote(column)}" for column in columns.values())
        # Built from the models' own names and the callers' fixed conditions.
        branches.append(
            f"SELECT {kind} AS kind, row_number() OVER (ORDER BY {', '.join(order)}) AS place, "  # noqa: S608
            f"json_build_array({values})::text FROM {table(part.model)} r WHERE {part.where}"
        )
    return " UNION ALL ".join(branches) + " ORDER BY kind, place"


def _same(value: Any) -> Any:
    return value


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def _json(value: Any) -> Any:
    """A JSON column's value as the ORM gives it: numbers with a fraction as floats (the
    row was parsed with Decimals for the decimal columns)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    return value


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """How one column's JSON value becomes what the ORM gives for it."""
    if isinstance(field, models.DateTimeField):
        # PostgreSQL writes a timestamptz in the session's zone, UTC under Django.
        return datetime.fromisoformat
    if isinstance(field, models.DateField):
        return date.fromisoformat
    if isinstance(field, models.UUIDField):
        return uuid.UUID
    if isinstance(field, models.DecimalField):
        return _decimal
    if isinstance(field, models.ForeignKey):
        return _converter(field.target_field)
    if isinstance(field, models.JSONField):
        return _json
    if isinstance(
        field, models.CharField | models.TextField | models.IntegerField | models.BooleanField
    ):
        return _same
    return field.to_python


@functools.cache
def _builder(model: type[models.Model]) -> Callable[[list[Any]], models.Model]:
    fields = list(model._meta.concrete_fields)
    names = [field.attname for field in fields]
    converters = [_converter(field) for field in fields]
    alias = connection.alias

    def values(data: list[Any]) -> list[Any]:
        return [
            None if value is None else convert(value)
            for value, convert in zip(data, converters, strict=True)
        ]

    if not _plain_instances(model):

        def build(data: list[Any]) -> models.Model:
            return model.from_db(alias, names, values(data))

        return build

    def build_plain(data: list[Any]) -> models.Model:
        # What from_db gives for a fresh row, without Model.__init__'s per-field work
        # (a heavy record is some 180 instances): the values in the instance's
        # __dict__, where __init__ would have set them, and the state of a loaded row.
        instance = model.__new__(model)
        instance.__dict__.update(zip(names, values(data), strict=True))
        state = ModelState()
        state.adding, state.db = False, alias
        instance._state = state
        return instance

    return build_plain


def _plain_instances(model: type[models.Model]) -> bool:
    """Whether ``model``'s loaded instances are plain enough to build without
    ``Model.__init__``: neither it, ``from_db`` nor ``__setattr__`` overridden, no one
    listening to the instance signals, and every column's attribute one that stores what
    is set unchanged (no file or custom descriptor)."""
    for name, base in (("__init__", models.Model), ("from_db", models.Model)):
        if inspect.getattr_static(model, name) is not inspect.getattr_static(base, name):
            return False
    if inspect.getattr_static(model, "__setattr__") is not object.__setattr__:
        return False
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return False
    return all(
        type(inspect.getattr_static(model, field.attname, None)) in _PLAIN_DESCRIPTORS
        for field in model._meta.concrete_fields
    )


# DeferredAttribute only loads a deferred column; ForeignKeyDeferredAttribute also drops
# a cached related object, which a fresh instance does not have.
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)
