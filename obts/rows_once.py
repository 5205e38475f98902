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
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models

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
            found[kind].append(builders[kind](json.loads(row, parse_float=Decimal)))
    return found


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
        # Built from the models' own names and the callers' fixed conditions.
        branches.append(
            f"SELECT {kind} AS kind, row_number() OVER (ORDER BY {', '.join(order)}) AS place, "  # noqa: S608
            f"row_to_json(r)::text FROM {table(part.model)} r WHERE {part.where}"
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
def _builder(model: type[models.Model]) -> Callable[[dict[str, Any]], models.Model]:
    fields = list(model._meta.concrete_fields)
    names = [field.attname for field in fields]
    columns = [(str(field.column), _converter(field)) for field in fields]
    alias = connection.alias

    def build(data: dict[str, Any]) -> models.Model:
        values = [
            None if (value := data[column]) is None else convert(value)
            for column, convert in columns
        ]
        return model.from_db(alias, names, values)

    return build
