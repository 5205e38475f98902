"""New model rows written in one statement, with less Python per value than
``bulk_create``.

Every arrest notice writes a dozen rows (its subject's person, source, names, address
and identifiers, its case and charges, the exchange and a delivery per recipient), all in
batches. ``bulk_create`` prepares each value of each row through three or four field
methods and the SQL compiler: for ten persons and their ten sources it takes a third
more CPU than this (bench/README.md, exchanges runs 48-63). Here, on
PostgreSQL, each column's values are gathered in one pass and sent as one array per
column (``INSERT ... SELECT * FROM unnest(...)``, as ``bulk_create`` itself sends them);
a value of the plain Python type its field stores (a ``str`` for a text column, an
``int`` for an integer or a key, an aware ``datetime``, a ``UUID``) goes as it is, and
every other value (JSON, decimals, a value of another type) through the field's own
preparation. Elsewhere, for objects given their own automatic keys, and for models
with fields this does not know, it is ``bulk_create``.

Like ``bulk_create``: no ``save()``, no signals, the primary keys set on the objects in
order, ``auto_now``/``auto_now_add`` applied; a refused row fails the whole statement.
"""

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)

# Field classes whose values of these exact types psycopg2 sends as PostgreSQL takes
# them: anything else goes through the field.
_PLAIN: tuple[tuple[type[models.Field[Any, Any]], frozenset[type]], ...] = (
    (models.BooleanField, frozenset({bool})),
    (models.CharField, frozenset({str})),
    (models.TextField, frozenset({str})),
    (models.DateTimeField, frozenset({datetime})),
    (models.DateField, frozenset({date})),
    (models.UUIDField, frozenset({uuid.UUID})),
    (models.FloatField, frozenset({float, int})),
    (models.IntegerField, frozenset({int})),  # and its Auto, Big, Small, Positive kinds
)


@dataclass(frozen=True)
class _Column:
    field: models.Field[Any, Any]
    attname: str
    plain: frozenset[type]
    stamped: bool  # auto_now or auto_now_add: the field sets the value
    related: bool  # a foreign key: its id, or the id of the object assigned since


@dataclass(frozen=True)
class _Plan:
    sql: str
    columns: tuple[_Column, ...]
    numbered: bool  # the database gives the primary key


def bulk_insert(objs: Sequence[M]) -> list[M]:
    """Insert the unsaved ``objs`` (of one model) and set their primary keys; the list
    of them, as ``bulk_create`` returns it."""
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    plan = _plan(model) if connection.vendor == "postgresql" else None
    if plan is not None and plan.numbered and any(obj.pk is not None for obj in objs):
        plan = None  # keys given where the database numbers rows: bulk_create keeps them
    if plan is None:
        return list(model._default_manager.bulk_create(objs))
    arrays = []
    for column in plan.columns:
        if column.stamped:
            values = [column.field.pre_save(obj, True) for obj in objs]
        else:
            values = [getattr(obj, column.attname) for obj in objs]
        if column.related and None in values:
            pairs = zip(objs, values, strict=True)
            values = [_related_id(obj, column, value) for obj, value in pairs]
        arrays.append([_prepared(column, value) for value in values])
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, arrays)
        keys = [row[0] for row in cursor.fetchall()]
    pk = _pk(model)
    for obj, key in zip(objs, keys, strict=True):
        setattr(obj, pk.attname, key)
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def _related_id(obj: models.Model, column: _Column, value: Any) -> Any:
    """The key of an object assigned to the foreign key before it was saved (as
    ``bulk_create`` takes it), or ``value``."""
    if value is None:
        related = column.field.get_cached_value(obj, None)  # type: ignore[attr-defined]
        if related is not None:
            if related.pk is None:
                raise ValueError(  # as bulk_create words it
                    "bulk_insert() prohibited to prevent data loss due to unsaved related "
                    f"object '{column.field.name}'."
                )
            return related.pk
    return value


def _prepared(column: _Column, value: Any) -> Any:
    if value is None or type(value) in column.plain:
        return value
    return column.field.get_db_prep_save(value, connection)


@functools.cache
def _plan(model: type[models.Model]) -> _Plan | None:
    """The statement and columns for ``model``; None when a field is not a plain column
    (a database default, a generated field, a type without a PostgreSQL name)."""
    quote = connection.ops.quote_name
    pk = _pk(model)
    if isinstance(pk, models.CompositePrimaryKey):
        return None
    numbered = isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField)
    columns = []
    for field in model._meta.concrete_fields:
        if field is pk and numbered:
            continue  # the database numbers the rows
        if field.db_default is not models.NOT_PROVIDED or field.generated:
            return None
        if field.db_type(connection) is None:
            return None
        columns.append(
            _Column(
                field=field,
                attname=field.attname,
                plain=_plain_types(field),
                stamped=bool(getattr(field, "auto_now", False))
                or bool(getattr(field, "auto_now_add", False)),
                related=isinstance(field, models.ForeignKey),
            )
        )
    names = ", ".join(quote(str(column.field.column)) for column in columns)
    arrays = ", ".join(f"%s::{column.field.db_type(connection)}[]" for column in columns)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}) "  # noqa: S608 (model names)
        f"SELECT * FROM unnest({arrays}) RETURNING {quote(str(pk.column))}"
    )
    return _Plan(sql=sql, columns=tuple(columns), numbered=numbered)


def _pk(model: type[models.Model]) -> models.Field[Any, Any]:
    pk = model._meta.pk
    if pk is None:  # only an abstract model has none, and it has no rows
        raise TypeError(f"{model.__name__} has no primary key")
    return pk


def _plain_types(field: models.Field[Any, Any]) -> frozenset[type]:
    target: models.Field[Any, Any] = field
    if isinstance(field, models.ForeignKey):
        target = field.target_field
    for kind, types in _PLAIN:
        if isinstance(target, kind):
            return types
    return frozenset()
