"""django-otp's middleware with the verified device read by one statement written out.

Every signed-in request loads the device its session was verified with
(``request.user.otp_device``, which ``is_verified()`` and the access middleware rely on).
django-otp asks the ORM for it, which took longer to compile the query than the database
to answer it (0.6 against 0.25 ms a request). The rules are django-otp's own: the id is
parsed as it parses it, a model that is not a device or a malformed id gives no device,
and the base class still refuses a device of another user or an unconfirmed one and
forgets it in the session. ``MIDDLEWARE`` names this class in django-otp's place."""

import functools
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db import connections, router
from django.db.models import Model
from django_otp.middleware import OTPMiddleware as BaseOTPMiddleware
from django_otp.models import Device

Converter = Callable[[Any, Any, Any], Any]


class OTPMiddleware(BaseOTPMiddleware):  # type: ignore[misc]
    def _device_from_persistent_id(self, persistent_id: str) -> Device | None:
        """The device ``persistent_id`` names (``app_label.model/id``), or None, as
        ``Device.from_persistent_id`` gives it."""
        persistent_id = self._normalize_persistent_id(persistent_id)
        try:
            label, device_id = persistent_id.rsplit("/", 1)
            app_label, model_name = label.split(".")
            model = apps.get_model(app_label, model_name)
            pk = int(device_id)
        except (ValueError, LookupError):
            return None
        if not issubclass(model, Device):
            return None
        return _read(model, pk)


def _read(model: type[Model], pk: int) -> Device | None:
    alias = router.db_for_read(model)
    sql, names, converters = _device_sql(alias, model)
    database = connections[alias]
    with database.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, field_converters in converters:
        for convert, expression in field_converters:
            values[index] = convert(values[index], expression, database)
    device: Device = model.from_db(alias, names, values)
    return device


@functools.cache
def _device_sql(
    alias: str, model: type[Model]
) -> tuple[str, list[str], list[tuple[int, list[tuple[Converter, Any]]]]]:
    """The statement, the field names in its column order, and each column's converters
    (the database's and the field's, as the ORM applies them: SQLite hands booleans and
    dates as stored)."""
    database = connections[alias]
    quote, meta = database.ops.quote_name, model._meta
    fields = list(meta.concrete_fields)
    columns = ", ".join(quote(str(field.column)) for field in fields)
    sql = (
        f"SELECT {columns} FROM {quote(meta.db_table)}"  # noqa: S608  (model names)
        f" WHERE {quote(str(meta.pk.column))} = %s"
    )
    converters = []
    for index, field in enumerate(fields):
        expression = field.get_col(meta.db_table)
        found = database.ops.get_db_converters(expression) + expression.get_db_converters(database)
        if found:
            converters.append((index, [(convert, expression) for convert in found]))
    return sql, [field.attname for field in fields], converters
