"""Model rows read by a statement written out, as the ORM would give them.

Every signed-in request loads the same few rows by primary key (its user and agency, its
MFA device), and the ORM took longer to compile each query than the database to answer
it. A :class:`Columns` is one model's column list in such a statement and turns that
part of a result row into the instance the ORM would have built: the same values, after
the same conversions (the database's and the field's: SQLite hands booleans and dates
as stored), the state of a loaded row."""

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class Columns:
    model: type[Model]
    database: str  # the connection alias the statement runs on
    select: str  # the columns, each qualified by the table's name in the statement
    names: tuple[str, ...]  # the fields' attribute names, in column order
    converters: tuple[tuple[int, tuple[tuple[Converter, Any], ...]], ...]

    @property
    def width(self) -> int:
        return len(self.names)

    def build(self, row: Sequence[Any]) -> Model:
        """The instance of this model's part of ``row`` (exactly its columns)."""
        values = list(row)
        connection = connections[self.database]
        for index, converters in self.converters:
            for convert, expression in converters:
                values[index] = convert(values[index], expression, connection)
        return self.model.from_db(self.database, self.names, values)


@functools.cache
def columns(database: str, model: type[Model], table: str) -> Columns:
    """``model``'s concrete columns as read from ``table`` (its name or alias in the
    statement), on the connection ``database``. Names come from the model alone."""
    connection = connections[database]
    quote = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        expression = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        if found:
            converters.append((index, tuple((convert, expression) for convert in found)))
    return Columns(
        model=model,
        database=database,
        select=", ".join(f"{quote(table)}.{quote(str(field.column))}" for field in fields),
        names=tuple(field.attname for field in fields),
        converters=tuple(converters),
    )


def row_by(model: type[Model], field: str, value: Any) -> Model | None:
    """The row of ``model`` whose ``field`` (a unique column: the primary key, a public
    id, a session key) equals ``value``, or None: ``filter(field=value).first()``
    without compiling a query."""
    database = router.db_for_read(model)
    connection = connections[database]
    sql, found = _row_by_sql(database, model, field)
    prepared = model._meta.get_field(field).get_db_prep_value(value, connection)  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        cursor.execute(sql, [prepared])
        row = cursor.fetchone()
    return None if row is None else found.build(row)


@functools.cache
def _row_by_sql(database: str, model: type[Model], field: str) -> tuple[str, Columns]:
    quote, meta = connections[database].ops.quote_name, model._meta
    found = columns(database, model, meta.db_table)
    where = quote(str(meta.get_field(field).column))  # type: ignore[union-attr]
    return f"SELECT {found.select} FROM {quote(meta.db_table)} WHERE {where} = %s", found  # noqa: S608  (model names)
