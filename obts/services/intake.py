"""What every intake (persons, record feeds; API or import command) shares: who submits,
what became of each record, the batch limit, how stored records are found by their
source keys, and how identifiers are compared."""

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

if TYPE_CHECKING:
    from portal.models import ApiClient

BATCH_LIMIT = 1000
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


class Outcome(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    UNCHANGED = "unchanged", "Unchanged (same as stored)"
    STALE = "stale", "Not applied (older than stored)"
    ERROR = "error", "Rejected"


APPLIED = frozenset({Outcome.CREATED, Outcome.UPDATED})


@dataclass(frozen=True)
class Submitter:
    """Who sends the records: an agency's API client, or an import command run on the
    server (no actor; the audit rows name the command)."""

    api_client: "ApiClient | None" = None
    command: str = ""
    # Set by a caller that writes one audit row covering these records itself (an
    # exchange names the person and case it recorded): the intake then writes none, so a
    # request appends to the audit chain once.
    audited_by_caller: bool = False
    # Set by a caller that tells the followers of these records itself (an exchange alerts
    # the followers of its person and case): the intake then announces no change.
    announced_by_caller: bool = False
    # Set by a caller that rolls the whole batch back when the database refuses any of
    # it (a lot of arrest notices, each then accepted on its own): the intake writes
    # without savepoints of its own, and a refused write raises instead of being redone
    # record by record. Two round trips less per batch written together.
    all_or_nothing: bool = False

    def audit_details(self) -> dict[str, str]:
        return {"command": self.command} if self.command else {}


@dataclass
class RecordResult:
    """What became of one record of a submission. ``instance`` is the stored record (or
    person) when there is one; ``errors`` are field errors as DRF gives them."""

    index: int
    outcome: Outcome
    instance: Any = None
    errors: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    # The record's (source_system, source_id), once validated.
    key: tuple[str, str] = ("", "")

    @property
    def applied(self) -> bool:
        return self.outcome in APPLIED

    def public_id(self) -> str | None:
        public_id = getattr(self.instance, "public_id", None)
        return str(public_id) if public_id is not None else None

    def as_dict(self) -> dict[str, Any]:
        """The per-record entry of a batch answer."""
        entry: dict[str, Any] = {
            "index": self.index,
            "status": str(self.outcome),
            "id": self.public_id(),
            "errors": self.errors,
        }
        if self.reason:
            entry["reason"] = self.reason
        return entry


class BatchTooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(
            f"A batch holds at most {BATCH_LIMIT:,} records; this one has {size:,}. "
            "Send it in several batches."
        )


_VALIDATORS = threading.local()


def record_validator(serializer_class: type[serializers.Serializer[Any]]) -> Any:
    """An unbound ``serializer_class`` to run ``run_validation`` with, one per thread and
    class, built once: building one constructs and deep-copies every field (some 60 for a
    case with its charges), a cost every record batch and every exchange paid. Validation
    keeps nothing on the serializer, but a thread of its own keeps it that way."""
    built: dict[type[Any], Any] = _VALIDATORS.__dict__.setdefault("built", {})
    validator = built.get(serializer_class)
    if validator is None:
        validator = built[serializer_class] = serializer_class()
    return validator


def check_batch_size(records: list[Any]) -> None:
    if len(records) > BATCH_LIMIT:
        raise BatchTooLarge(len(records))


def error_result(index: int, errors: Any) -> RecordResult:
    return RecordResult(index=index, outcome=Outcome.ERROR, errors=plain_errors(errors))


def plain_errors(errors: Any) -> dict[str, Any]:
    """DRF error details as plain JSON (strings, lists, dicts), always a dict."""
    detail = serializers.as_serializer_error(errors) if isinstance(errors, Exception) else errors
    return _plain(detail) if isinstance(detail, dict) else {"non_field_errors": _plain(detail)}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, ErrorDetail):
        return str(value)
    return value


def stale_reason(incoming: datetime, stored: datetime) -> str:
    return (
        f"as_of {incoming.isoformat()} is older than the stored record's as_of "
        f"{stored.isoformat()}: the newer data is kept"
    )


def source_keys_condition(model: type[models.Model], keys: Iterable[tuple[str, str]]) -> Q:
    """The rows of ``model`` whose (``source_system``, ``source_id``) is one of ``keys``.

    On PostgreSQL the keys are joined as pairs against the unique (source_system,
    source_id) index. Written as ``source_system = s AND source_id IN (...)``, the planner
    reads every row of the system and filters on the ids whenever its statistics know
    nothing of the system yet (a newly connected source, a table not analysed since it
    grew): milliseconds per batch, where the pairs take a few index probes."""
    keys = list(keys)
    if connection.vendor != "postgresql":
        by_system: dict[str, list[str]] = {}
        for system, source_id in keys:
            by_system.setdefault(system, []).append(source_id)
        condition = Q()
        for system, source_ids in by_system.items():
            condition |= Q(source_system=system, source_id__in=source_ids)
        return condition
    # The SQL is built from the model's own names; the keys are parameters.
    return Q(pk__in=RawSQL(*_source_keys_sql(model, keys)))  # noqa: S611


def stored_source_exists(model: type[models.Model], keys: Iterable[tuple[str, str]]) -> bool:
    """Whether any row of ``model`` has one of these (``source_system``, ``source_id``)
    keys: one light statement."""
    keys = list(keys)
    if connection.vendor != "postgresql":
        return model._default_manager.filter(source_keys_condition(model, keys)).exists()
    sql, params = _source_keys_sql(model, keys)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT 1", params)
        return cursor.fetchone() is not None


def _source_keys_sql(
    model: type[models.Model], keys: list[tuple[str, str]]
) -> tuple[str, tuple[list[str], list[str]]]:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = quote(str(model._meta.pk.column))
    sql = (
        f"SELECT r.{pk} FROM unnest(%s::varchar[], %s::varchar[]) AS k(system, id) "  # noqa: S608
        f"JOIN {table} r ON r.{quote('source_system')} = k.system "
        f"AND r.{quote('source_id')} = k.id"
    )
    return sql, ([system for system, _ in keys], [source_id for _, source_id in keys])


def normalize_identifier(value: str) -> str:
    """Identifiers are stored and compared as capital letters and digits only, as the
    matcher compares them: ``ct 123-4567`` is ``CT1234567``."""
    return _NOT_ALNUM.sub("", value.upper())
